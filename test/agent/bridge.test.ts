// The bridge network driver against the real kernel, through a real agent running in
// a throw-away network namespace.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ResourceState } from '../../agent/rpc/protocol.js';
import { AgentError } from '../../transport/types.js';
import { inNetns, startAgentInNetns, type NetnsAgent } from './throwaway-netns.js';

interface NftObject {
  [kind: string]: { chain?: string; comment?: string; expr?: Record<string, unknown>[]; name?: string; table?: string };
}

async function linkOf(agent: NetnsAgent, name: string): Promise<{ mtu: number; kind: string; addresses: string[] } | null> {
  const out = await inNetns(agent.netns, ['ip', '-j', '-d', 'addr', 'show', 'dev', name]);
  if (out.code !== 0) return null;
  const [l] = JSON.parse(out.stdout) as { mtu: number; linkinfo?: { info_kind: string }; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  if (!l) return null;
  return {
    mtu: l.mtu,
    kind: l.linkinfo?.info_kind ?? '',
    addresses: l.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
  };
}

/** Everything nftables has in the namespace. */
async function ruleset(agent: NetnsAgent): Promise<NftObject[]> {
  const out = await inNetns(agent.netns, ['nft', '-j', 'list', 'ruleset']);
  assert.equal(out.code, 0, out.stderr);
  return (JSON.parse(out.stdout) as { nftables: NftObject[] }).nftables.filter((o) => !('metainfo' in o));
}

async function rulesOf(agent: NetnsAgent, bridge: string): Promise<{ chain: string; verdict: string }[]> {
  return (await ruleset(agent))
    .filter((o) => o['rule']?.comment === `tsi:${bridge}`)
    .map((o) => ({ chain: o['rule']!.chain!, verdict: o['rule']!.expr!.some((e) => 'masquerade' in e) ? 'masquerade' : 'drop' }));
}

async function read(agent: NetnsAgent, state: ResourceState): Promise<ResourceState | null> {
  const r = await agent.session.call('resource.read', { items: [{ type: 'network', state }] });
  const item = r.items[0]!;
  if ('error' in item) throw new AgentError(item.error.code, item.error.message, 'host.test');
  return item.state;
}

function apply(
  agent: NetnsAgent,
  action: 'create' | 'update' | 'delete',
  prior: ResourceState | null,
  planned: ResourceState | null,
  onProgress?: (m: string) => void,
) {
  return agent.session.call('resource.apply', { type: 'network', action, address: 'network.front', prior, planned }, onProgress).then((r) => r.state);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('network (bridge) on the real kernel', () => {
  let agent: NetnsAgent;
  before(async () => {
    agent = await startAgentInNetns();
  });
  after(async () => {
    await agent?.close();
  });

  const planned = {
    name: 'front',
    driver: 'bridge',
    bridge: 'tsi-front-1',
    subnet: '10.1.0.0/24',
    gateway: '10.1.0.1',
    ip_range: '10.1.0.128/25',
    nat: true,
    mtu: 1400,
    internal: false,
  };
  let state: ResourceState | null = null;

  test('create makes the bridge, its address and the masquerade rule', async () => {
    const progress: string[] = [];
    state = await apply(agent, 'create', null, planned, (m) => progress.push(m));
    assert.deepEqual(state, { ...planned, id: 'tsi-front-1' });
    assert.ok(
      progress.some((m) => m.includes('creating bridge tsi-front-1')),
      progress.join('\n'),
    );

    assert.deepEqual(await linkOf(agent, 'tsi-front-1'), { mtu: 1400, kind: 'bridge', addresses: ['10.1.0.1/24'] });
    assert.deepEqual(await rulesOf(agent, 'tsi-front-1'), [{ chain: 'postrouting', verdict: 'masquerade' }]);
    const fwd = await inNetns(agent.netns, ['cat', '/proc/sys/net/ipv4/ip_forward']);
    assert.equal(fwd.stdout.trim(), '1');
  });

  test('read and import report what was created', async () => {
    assert.deepEqual(await read(agent, state!), state);
    const imported = (await agent.session.call('resource.import', { type: 'network', id: 'tsi-front-1' })).state;
    assert.deepEqual(imported, { ...state, name: 'tsi-front-1', ip_range: null });
  });

  test('create adopts its own bridge left by an interrupted run, and converges it', async () => {
    await inNetns(agent.netns, ['ip', 'link', 'set', 'tsi-front-1', 'mtu', '1280']);
    assert.deepEqual(await apply(agent, 'create', null, planned), state);
    assert.equal((await linkOf(agent, 'tsi-front-1'))?.mtu, planned['mtu']);
  });

  test("create refuses a bridge of that name that carries another address (another configuration's)", async () => {
    await inNetns(agent.netns, ['ip', 'link', 'add', 'tsi-other-1', 'type', 'bridge']);
    await inNetns(agent.netns, ['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'tsi-other-1']);
    await rejectsWith(apply(agent, 'create', null, { ...planned, bridge: 'tsi-other-1', id: 'tsi-other-1' }), 'E_ALREADY_EXISTS');
    const addr = await inNetns(agent.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'tsi-other-1']);
    assert.match(addr.stdout, /10\.99\.0\.1\/24/);
    await inNetns(agent.netns, ['ip', 'link', 'del', 'tsi-other-1']);
  });

  test('create refuses a link of that name that is not a bridge', async () => {
    await inNetns(agent.netns, ['ip', 'link', 'add', 'tsi-dummy-1', 'type', 'veth', 'peer', 'name', 'tsi-dummy-2']);
    await rejectsWith(apply(agent, 'create', null, { ...planned, bridge: 'tsi-dummy-1', id: 'tsi-dummy-1' }), 'E_ALREADY_EXISTS');
    await inNetns(agent.netns, ['ip', 'link', 'del', 'tsi-dummy-1']);
  });

  test('update changes the mtu in place', async () => {
    const next = { ...planned, mtu: 1300 };
    state = await apply(agent, 'update', state, next);
    assert.equal(state?.['mtu'], 1300);
    assert.equal((await linkOf(agent, 'tsi-front-1'))?.mtu, 1300);
  });

  test('toggling nat removes and restores the masquerade rule', async () => {
    state = await apply(agent, 'update', state, { ...planned, mtu: 1300, nat: false });
    assert.equal(state?.['nat'], false);
    assert.deepEqual(await rulesOf(agent, 'tsi-front-1'), []);
    assert.deepEqual(await ruleset(agent), [], 'no empty chain or table is left behind');
    assert.equal((await read(agent, state!))?.['nat'], false);

    state = await apply(agent, 'update', state, { ...planned, mtu: 1300, nat: true });
    assert.equal(state?.['nat'], true);
    assert.deepEqual(await rulesOf(agent, 'tsi-front-1'), [{ chain: 'postrouting', verdict: 'masquerade' }]);
  });

  test('internal drops forwarding out of the bridge and is never masqueraded', async () => {
    state = await apply(agent, 'update', state, { ...planned, mtu: 1300, nat: false, internal: true });
    assert.equal(state?.['internal'], true);
    assert.equal(state?.['nat'], false);
    assert.deepEqual(await rulesOf(agent, 'tsi-front-1'), [
      { chain: 'forward', verdict: 'drop' },
      { chain: 'forward', verdict: 'drop' },
    ]);
    state = await apply(agent, 'update', state, { ...planned, mtu: 1300 });
    assert.equal(state?.['internal'], false);
    assert.deepEqual(await rulesOf(agent, 'tsi-front-1'), [{ chain: 'postrouting', verdict: 'masquerade' }]);
    assert.ok(!(await ruleset(agent)).some((o) => o['chain']?.name === 'forward'), 'the emptied forward chain is removed');
  });

  test('a read shows changes made by hand', async () => {
    assert.equal((await inNetns(agent.netns, ['ip', 'link', 'set', 'dev', 'tsi-front-1', 'mtu', '1280'])).code, 0);
    assert.equal((await read(agent, state!))?.['mtu'], 1280);

    assert.equal((await inNetns(agent.netns, ['ip', 'addr', 'flush', 'dev', 'tsi-front-1'])).code, 0);
    const flushed = await read(agent, state!);
    assert.equal(flushed?.['gateway'], null);
    assert.equal(flushed?.['subnet'], null);

    // An update converges everything back.
    state = await apply(agent, 'update', state, { ...planned, mtu: 1300 });
    assert.deepEqual(await linkOf(agent, 'tsi-front-1'), { mtu: 1300, kind: 'bridge', addresses: ['10.1.0.1/24'] });

    assert.equal((await inNetns(agent.netns, ['ip', 'link', 'del', 'tsi-front-1'])).code, 0);
    assert.equal(await read(agent, state!), null);
    await rejectsWith(apply(agent, 'update', state, { ...planned }), 'E_NOT_FOUND');
  });

  test('delete removes leftover rules of a vanished bridge and is idempotent', async () => {
    assert.equal(await apply(agent, 'delete', state, null), null);
    assert.deepEqual(await ruleset(agent), []);
    assert.equal(await apply(agent, 'delete', state, null), null);
  });

  test('two networks share the table; deleting one keeps the other, deleting both leaves nothing', async () => {
    const a = { ...planned, name: 'a', bridge: 'tsi-a', subnet: '10.2.0.0/24', gateway: '10.2.0.1' };
    const b = { ...planned, name: 'b', bridge: 'tsi-b', subnet: '10.3.0.0/16', gateway: '10.3.255.254', nat: false, internal: true, mtu: 9000 };
    const [sa, sb] = await Promise.all([apply(agent, 'create', null, a), apply(agent, 'create', null, b)]);
    assert.equal(sb?.['mtu'], 9000);
    assert.deepEqual(await rulesOf(agent, 'tsi-a'), [{ chain: 'postrouting', verdict: 'masquerade' }]);
    assert.equal((await rulesOf(agent, 'tsi-b')).length, 2);

    const items = await agent.session.call('resource.read', {
      items: [
        { type: 'network', state: sa! },
        { type: 'network', state: { ...sa!, bridge: 'tsi-gone' } },
        { type: 'network', state: { ...sa!, bridge: 'eth0' } },
        { type: 'network', state: sb! },
      ],
    });
    assert.deepEqual(items.items[0], { state: sa });
    assert.deepEqual(items.items[1], { state: null });
    assert.equal('error' in items.items[2]! && items.items[2].error.code, 'E_UNSAFE_NAME');
    assert.deepEqual(items.items[3], { state: sb });

    await apply(agent, 'delete', sa, null);
    assert.equal(await linkOf(agent, 'tsi-a'), null);
    assert.deepEqual(await rulesOf(agent, 'tsi-a'), []);
    assert.equal((await rulesOf(agent, 'tsi-b')).length, 2);
    assert.ok(!(await ruleset(agent)).some((o) => o['chain']?.name === 'postrouting'), 'the emptied postrouting chain is removed');

    await apply(agent, 'delete', sb, null);
    assert.equal(await linkOf(agent, 'tsi-b'), null);
    assert.deepEqual(await ruleset(agent), []);
  });

  test('unsafe link names are refused before anything runs', async () => {
    for (const bridge of ['eth0', 'lo', 'tsi-name-too-long', 'tsi_under', 'TSI-upper', '-tsi', 'tsi x']) {
      await rejectsWith(apply(agent, 'create', null, { ...planned, bridge }), 'E_UNSAFE_NAME');
      await rejectsWith(apply(agent, 'delete', { ...planned, bridge }, null), 'E_UNSAFE_NAME');
    }
    await rejectsWith(agent.session.call('resource.import', { type: 'network', id: 'lo' }), 'E_UNSAFE_NAME');
    assert.ok(await linkOf(agent, 'lo'), 'lo is untouched');
  });

  test('invalid attributes name the field', async () => {
    await assert.rejects(apply(agent, 'create', null, { ...planned, subnet: '10.1.0.1/24' }), /planned\.subnet/);
    await assert.rejects(apply(agent, 'create', null, { ...planned, gateway: '10.9.0.1' }), /planned\.gateway/);
    await assert.rejects(apply(agent, 'create', null, { ...planned, mtu: 'big' }), /planned\.mtu/);
    await rejectsWith(apply(agent, 'create', null, { ...planned, driver: 'ipvlan' }), 'E_UNSUPPORTED_DRIVER');
    await rejectsWith(apply(agent, 'create', null, null), 'E_RPC_INVALID');
    assert.equal(await linkOf(agent, 'tsi-front-1'), null);
  });
});
