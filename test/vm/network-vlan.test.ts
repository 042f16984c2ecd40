// VM tier: macvlan networks on 802.1Q sub-interfaces, which the host kernel cannot make.
// As in test/agent/network/macvlan.test.ts, everything lives in throw-away namespaces: a
// "LAN" (a plain bridge, which carries tagged frames as they are) and two "hosts" joined
// to it by veths (eth0 inside each); the network resource makes eth0.<vlan> and the
// macvlan network on it, and containers (processes in namespaces of their own) get their
// macvlans from ContainerNetworks, as the supervisor does.
//
//   npm run build && bash scripts/vm-tests.sh dist/test/vm/network-vlan.test.js
//
// The guest has no ping: busybox is taken from the test image (TSINFRA_TEST_IMAGE, set by
// scripts/vm-tests.sh). Everything is removed in after(), also when a test failed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ipam } from '../../agent/network/ipam.js';
import { NetworkResource } from '../../agent/network/network.js';
import type { ResourceState } from '../../agent/rpc/protocol.js';
import { ThrowawayLan, macvlanHost, plannedMacvlan, type MacvlanHost } from '../agent/network/lan-fixture.js';
import { must, rejectsWith } from '../agent/network/netns-assertions.js';
import { inContainer, startContainerProcess, type FakeContainer } from '../agent/network/netns-fixtures.js';
import { inNetns } from '../agent/throwaway-netns.js';

const notVm = 'this test runs only in the VM tier, whose kernel has 802.1Q VLANs (see the header of test/vm/network-vlan.test.ts)';
const V10 = 'tsi-v10-t1';
const V20 = 'tsi-v20-t1';
const OTHER = 'tsi-v10b-t1';
const progress = () => {};

function planned(id: string, vlan: number, over: Record<string, unknown> = {}): ResourceState {
  // The same subnet on both VLANs: only the VLAN can keep them apart.
  return plannedMacvlan({ id, name: id.slice(4, -3), parent: `eth0.${vlan}`, vlan, subnet: '192.168.60.0/24', gateway: '192.168.60.1' }, over);
}

interface LinkJson {
  ifname: string;
  flags: string[];
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; protocol?: string } };
}

async function linksIn(netns: string): Promise<LinkJson[]> {
  return JSON.parse(await must(netns, ['ip', '-j', '-d', 'link', 'show'])) as LinkJson[];
}

/** busybox out of the test image's only layer (the guest has no ping of its own). */
function extractBusybox(work: string): string {
  const image = process.env['TSINFRA_TEST_IMAGE'];
  if (!image || !existsSync(image)) throw new Error(`TSINFRA_TEST_IMAGE is not set or missing: ${notVm}`);
  const layout = join(work, 'image');
  const root = join(work, 'rootfs');
  mkdirSync(layout);
  mkdirSync(root);
  execFileSync('tar', ['-xf', image, '-C', layout]);
  for (const blob of readdirSync(join(layout, 'blobs', 'sha256'))) {
    try {
      execFileSync('tar', ['-xzf', join(layout, 'blobs', 'sha256', blob), '-C', root, './bin/busybox'], { stdio: 'ignore' });
      return join(root, 'bin', 'busybox');
    } catch {
      // a JSON blob, not the layer
    }
  }
  throw new Error(`no bin/busybox in ${image}`);
}

interface Host extends MacvlanHost {
  readonly resource: NetworkResource;
}

describe('macvlan networks on VLAN sub-interfaces (VM tier)', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsit-vlan-'));
  const containers: FakeContainer[] = [];
  let busybox: string;
  let lan: ThrowawayLan | undefined;
  let hostA: Host;
  let hostB: Host;

  async function makeHost(label: string): Promise<Host> {
    const stateDir = join(work, `state-${label}`);
    const host = macvlanHost(await lan!.addHost(`port${label}`), stateDir);
    return { ...host, resource: new NetworkResource({ macvlan: host.macvlan }, host.ip, new Ipam(stateDir)) };
  }

  async function container(host: Host, id: string, network: string, ip: string): Promise<FakeContainer> {
    const c = await startContainerProcess(host.netns);
    containers.push(c);
    await host.networks.attach(id, c.pid, [{ bridge: network, ip }]);
    return c;
  }

  async function reaches(from: FakeContainer, address: string): Promise<boolean> {
    const out = await inContainer(from.pid, [busybox, 'ping', '-c', '1', '-W', '5', address], 30_000);
    return out.code === 0;
  }

  before(async () => {
    lan = await ThrowawayLan.create();
    const probe = await inNetns(lan.netns, ['ip', 'link', 'add', 'link', lan.bridge, 'name', 'probe.5', 'type', 'vlan', 'id', '5']);
    if (probe.code !== 0) throw new Error(`cannot make a VLAN sub-interface (${probe.stderr.trim()}): ${notVm}`);
    await must(lan.netns, ['ip', 'link', 'del', 'probe.5']);
    busybox = extractBusybox(work);
    hostA = await makeHost('a');
    hostB = await makeHost('b');
  });

  after(async () => {
    for (const c of containers) await c.kill();
    await lan?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('the sub-interface is made tagged and up, re-made when deleted by hand, removed with the last network on it', async () => {
    const state = await hostA.resource.apply('create', null, planned(V10, 10), progress, 'network.v10');
    assert.equal(state?.['vlan_created'], true);
    assert.equal(state?.['parent'], 'eth0.10');
    const sub = (await linksIn(hostA.netns)).find((l) => l.ifname === 'eth0.10');
    assert.equal(sub?.linkinfo?.info_kind, 'vlan');
    assert.equal(sub?.linkinfo?.info_data?.id, 10);
    assert.equal(sub?.linkinfo?.info_data?.protocol, '802.1Q');
    assert.equal(sub?.link, 'eth0');
    assert.ok(sub?.flags.includes('UP'));
    assert.deepEqual(await hostA.resource.read(state!), state);

    // Deleted by hand: the network is gone (read null); the engine's create makes it again.
    await must(hostA.netns, ['ip', 'link', 'del', 'eth0.10']);
    assert.equal(await hostA.resource.read(state!), null);
    const again = await hostA.resource.apply('create', null, planned(V10, 10), progress, 'network.v10');
    assert.equal(again?.['vlan_created'], true);

    // A second network on the same sub-interface: it did not make it, but inherits it.
    const other = await hostA.resource.apply('create', null, planned(OTHER, 10), progress, 'network.v10b');
    assert.equal(other?.['vlan_created'], false);
    await hostA.resource.apply('delete', again, null, progress, 'network.v10');
    assert.ok(
      (await linksIn(hostA.netns)).some((l) => l.ifname === 'eth0.10'),
      'still used by the other network',
    );
    assert.equal(hostA.records.get(OTHER)?.vlan_created, true);
    await hostA.resource.apply('delete', other, null, progress, 'network.v10b');
    assert.ok(!(await linksIn(hostA.netns)).some((l) => l.ifname === 'eth0.10'), 'removed with the last network');
    assert.deepEqual(hostA.records.list(), []);

    // One made by hand is used, and left alone on delete.
    await must(hostA.netns, ['ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.30', 'type', 'vlan', 'id', '30']);
    const byHand = await hostA.resource.apply('create', null, planned(V10, 30), progress, 'network.v30');
    assert.equal(byHand?.['vlan_created'], false);
    await hostA.resource.apply('delete', byHand, null, progress, 'network.v30');
    assert.ok((await linksIn(hostA.netns)).some((l) => l.ifname === 'eth0.30'));
    await must(hostA.netns, ['ip', 'link', 'del', 'eth0.30']);

    // A sub-interface of that name with another VLAN id is refused.
    await must(hostA.netns, ['ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.31', 'type', 'vlan', 'id', '32']);
    await rejectsWith(
      hostA.resource.apply('create', null, planned(V10, 31), progress, 'network.v31'),
      'E_ALREADY_EXISTS',
      /not VLAN 31 on eth0 \(it is VLAN 32 on eth0\)/,
    );
    await must(hostA.netns, ['ip', 'link', 'del', 'eth0.31']);
    assert.deepEqual((await linksIn(hostA.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
  });

  test('two VLANs of one parent are isolated, one VLAN spans two hosts', async () => {
    const states = new Map<Host, ResourceState[]>();
    for (const host of [hostA, hostB]) {
      const v10 = await host.resource.apply('create', null, planned(V10, 10), progress, 'network.v10');
      const v20 = await host.resource.apply('create', null, planned(V20, 20), progress, 'network.v20');
      states.set(host, [v10!, v20!]);
    }
    const a10 = await container(hostA, 'a10a10a10a10a10a', V10, '192.168.60.11');
    const a20 = await container(hostA, 'a20a20a20a20a20a', V20, '192.168.60.21');
    const b10 = await container(hostB, 'b10b10b10b10b10b', V10, '192.168.60.12');
    const b20 = await container(hostB, 'b20b20b20b20b20b', V20, '192.168.60.22');

    assert.ok(await reaches(a10, '192.168.60.12'), 'VLAN 10 across the hosts');
    assert.ok(await reaches(b20, '192.168.60.21'), 'VLAN 20 across the hosts');
    assert.ok(!(await reaches(a10, '192.168.60.21')), 'VLAN 10 to VLAN 20 on one host');
    assert.ok(!(await reaches(a10, '192.168.60.22')), 'VLAN 10 to VLAN 20 across the hosts');
    assert.ok(!(await reaches(b20, '192.168.60.12')), 'VLAN 20 to VLAN 10 across the hosts');

    // The containers' macvlans sit on the sub-interfaces: they go before the networks do.
    for (const c of [a10, a20, b10, b20]) await c.kill();
    for (const [host, [v10, v20]] of states) {
      await host.resource.apply('delete', v10!, null, progress, 'network.v10');
      await host.resource.apply('delete', v20!, null, progress, 'network.v20');
      assert.deepEqual((await linksIn(host.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
      assert.deepEqual(host.records.list(), []);
    }
  });
});
