// Attaching "containers" (processes in network namespaces of their own) to a bridge
// made by the network resource's driver, all inside a throw-away host namespace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../../agent/log.js';
import { BridgeNetwork } from '../../../agent/network/bridge.js';
import { ContainerNetworks } from '../../../agent/network/container-networks.js';
import { IpRoute } from '../../../agent/network/iproute.js';
import { Ipam } from '../../../agent/network/ipam.js';
import { BridgeFirewall } from '../../../agent/network/nat.js';
import { PortForwarding } from '../../../agent/network/port-forwarding.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { createTestHost, inContainer, startContainerProcess, type FakeContainer, type TestHost } from './netns-fixtures.js';

const ID1 = '0123456789abcdef';
const ID2 = 'fedcba9876543210';
const ID3 = '1111111111111111';
const FRONT = 'tsi-front-t1';
const BACK = 'tsi-back-t1';

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

interface IpAddrJson {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function containerLinks(pid: number): Promise<IpAddrJson[]> {
  const out = await inContainer(pid, ['ip', '-j', 'addr', 'show']);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as IpAddrJson[];
}

describe('container networks on the real kernel', () => {
  let host: TestHost;
  let stateDir: string;
  let ipam: Ipam;
  let networks: ContainerNetworks;
  const containers: FakeContainer[] = [];
  let c1: FakeContainer;
  let c2: FakeContainer;

  before(async () => {
    host = await createTestHost();
    stateDir = mkdtempSync(join(tmpdir(), 'tsit-cnet-'));
    // The bridge comes from the network resource's own driver, as in production.
    const bridges = new BridgeNetwork(new IpRoute(host.runner), new BridgeFirewall(host.runner), silentLog);
    const planned = {
      name: 'front',
      driver: 'bridge',
      bridge: FRONT,
      subnet: '10.30.0.0/24',
      gateway: '10.30.0.1',
      ip_range: null,
      nat: false,
      mtu: 1400,
      internal: false,
    };
    await bridges.apply('create', null, planned, () => {});
    await host.addBridge(BACK, '10.31.0.254/24');
    ipam = new Ipam(stateDir);
    networks = new ContainerNetworks(host.runner, ipam, new PortForwarding(host.runner), silentLog);
    c1 = await startContainerProcess(host.netns);
    c2 = await startContainerProcess(host.netns);
    containers.push(c1, c2);
  });

  after(async () => {
    for (const c of containers) await c.kill();
    await host?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('attach connects each namespace: eth0 with its address, MTU and MAC, lo up, default route', async () => {
    const [a1] = await networks.attach(ID1, c1.pid, [{ bridge: FRONT, ip: null }]);
    assert.deepEqual(a1, {
      bridge: FRONT,
      ifname: 'eth0',
      hostVeth: 'tsi01234567890',
      ip: '10.30.0.2',
      prefix: 24,
      gateway: '10.30.0.1',
      mac: '02:42:0a:1e:00:02',
    });
    const before = host.runner.commands.length;
    const [a2] = await networks.attach(ID2, c2.pid, [{ bridge: FRONT, ip: '10.30.0.77' }]);
    assert.deepEqual(
      host.runner.commands.slice(before).map((argv) => argv.slice(0, 2).join(' ')),
      ['ip -j', 'ip -batch', `nsenter --net=/proc/${c2.pid}/ns/net`],
      'three processes per attach',
    );
    assert.equal(a2?.ip, '10.30.0.77');
    assert.equal(a2?.hostVeth, 'tsifedcba98760');

    const links = await containerLinks(c1.pid);
    const eth0 = links.find((l) => l.ifname === 'eth0')!;
    assert.equal(eth0.mtu, 1400, 'same MTU as the bridge');
    assert.equal(eth0.address, '02:42:0a:1e:00:02');
    assert.ok(eth0.flags.includes('UP'));
    assert.deepEqual(
      eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ['10.30.0.2/24'],
    );
    assert.ok(links.find((l) => l.ifname === 'lo')!.flags.includes('UP'));
    const route = await inContainer(c1.pid, ['ip', 'route', 'show', 'default']);
    assert.match(route.stdout, /^default via 10\.30\.0\.1 dev eth0/);

    const hostSide = JSON.parse((await host.runner.run(['ip', '-j', '-d', 'link', 'show', 'dev', 'tsi01234567890'])).stdout) as {
      master: string;
      mtu: number;
      ifalias: string;
      linkinfo: { info_slave_data: { hairpin: boolean } };
    }[];
    assert.equal(hostSide[0]?.master, FRONT);
    assert.equal(hostSide[0]?.mtu, 1400);
    assert.equal(hostSide[0]?.ifalias, `tsi:${ID1}:0`);
    assert.equal(hostSide[0]?.linkinfo.info_slave_data.hairpin, true);
  });

  test('the two containers ping each other, and the gateway', async () => {
    const there = await inContainer(c1.pid, ['busybox', 'ping', '-c', '1', '-W', '3', '10.30.0.77']);
    assert.equal(there.code, 0, there.stdout + there.stderr);
    const back = await inContainer(c2.pid, ['busybox', 'ping', '-c', '1', '-W', '3', '10.30.0.2']);
    assert.equal(back.code, 0, back.stdout + back.stderr);
    const gw = await inContainer(c2.pid, ['busybox', 'ping', '-c', '1', '-W', '3', '10.30.0.1']);
    assert.equal(gw.code, 0, gw.stdout + gw.stderr);
  });

  test('observe reports the links that exist, from both sides', async () => {
    assert.deepEqual(await networks.observe(ID1, c1.pid), [{ bridge: FRONT, hostVeth: 'tsi01234567890', up: true, ifname: 'eth0', ip: '10.30.0.2' }]);
    assert.deepEqual(await networks.observe(ID1), [{ bridge: FRONT, hostVeth: 'tsi01234567890', up: true, ifname: null, ip: null }]);
    assert.deepEqual(await networks.observe(ID3), []);
  });

  test('attach again (a restart) converges to the same addresses, MAC and names', async () => {
    const again = await networks.attach(ID1, c1.pid, [{ bridge: FRONT, ip: null }]);
    assert.equal(again[0]?.ip, '10.30.0.2');
    assert.deepEqual(
      (await host.linkNames()).filter((n) => n.startsWith('tsi0123456789')),
      ['tsi01234567890'],
    );
    const ping = await inContainer(c1.pid, ['busybox', 'ping', '-c', '1', '-W', '3', '10.30.0.77']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  });

  test('several networks: eth0 and eth1 in order, default route via the first', async () => {
    const c3 = await startContainerProcess(host.netns);
    containers.push(c3);
    const attached = await networks.attach(ID3, c3.pid, [
      { bridge: BACK, ip: null },
      { bridge: FRONT, ip: null },
    ]);
    assert.deepEqual(
      attached.map((a) => [a.ifname, a.bridge, a.ip, a.hostVeth]),
      [
        ['eth0', BACK, '10.31.0.1', 'tsi11111111110'],
        // A static address does not move the cursor: the next dynamic one follows 10.30.0.2.
        ['eth1', FRONT, '10.30.0.3', 'tsi11111111111'],
      ],
    );
    const route = await inContainer(c3.pid, ['ip', 'route', 'show', 'default']);
    assert.match(route.stdout, /^default via 10\.31\.0\.254 dev eth0/);
    const ping = await inContainer(c3.pid, ['busybox', 'ping', '-c', '1', '-W', '3', '10.30.0.2']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    await networks.detach(ID3);
    assert.deepEqual(
      (await containerLinks(c3.pid)).map((l) => l.ifname),
      ['lo'],
      'the peers went with the host ends',
    );
    await networks.release(ID3);
    assert.equal(ipam.addressOf(BACK, ID3), null);
    assert.equal(ipam.addressOf(FRONT, ID3), null);
  });

  test('a failed attach leaves nothing behind: no veth, no address taken', async () => {
    const c4 = await startContainerProcess(host.netns);
    containers.push(c4);
    const id = '4444444444444444';
    // The second network asks for an address another container holds: the first was already allocated.
    await rejectsWith(
      networks.attach(id, c4.pid, [
        { bridge: BACK, ip: null },
        { bridge: FRONT, ip: '10.30.0.2' },
      ]),
      'E_IP_IN_USE',
      new RegExp(ID1),
    );
    assert.equal(ipam.addressOf(BACK, id), null);
    // The container side fails (eth0 already taken inside): the host side is removed again.
    assert.equal((await inContainer(c4.pid, ['ip', 'link', 'add', 'eth0', 'type', 'bridge'])).code, 0);
    await rejectsWith(networks.attach(id, c4.pid, [{ bridge: FRONT, ip: null }]), 'E_NETWORK_ATTACH', /File exists/);
    assert.deepEqual(
      (await host.linkNames()).filter((n) => n.startsWith('tsi4444')),
      [],
    );
    assert.equal(ipam.addressOf(FRONT, id), null);
    // The host side succeeds and the container side fails (a default route exists already).
    for (const argv of [
      ['ip', 'link', 'del', 'eth0'],
      ['ip', 'link', 'add', 'd0', 'type', 'bridge'],
      ['ip', 'link', 'set', 'd0', 'up'],
      ['ip', 'route', 'add', 'default', 'dev', 'd0'],
    ]) {
      assert.equal((await inContainer(c4.pid, argv)).code, 0, argv.join(' '));
    }
    await rejectsWith(networks.attach(id, c4.pid, [{ bridge: FRONT, ip: null }]), 'E_NETWORK_ATTACH', /nsenter/);
    assert.deepEqual(
      (await host.linkNames()).filter((n) => n.startsWith('tsi4444')),
      [],
    );
    assert.deepEqual((await containerLinks(c4.pid)).map((l) => l.ifname).sort(), ['d0', 'lo']);
    assert.equal(ipam.addressOf(FRONT, id), null);

    await rejectsWith(networks.attach(id, c4.pid, [{ bridge: 'tsi-missing', ip: null }]), 'E_NETWORK_NOT_FOUND', /tsi-missing/);
    await rejectsWith(networks.attach(id, c4.pid, [{ bridge: 'eth0', ip: null }]), 'E_UNSAFE_NAME');
    await rejectsWith(networks.attach('NOT-AN-ID', c4.pid, [{ bridge: FRONT, ip: null }]), 'E_INVALID_ID');
    await c4.kill();
    await rejectsWith(networks.attach(id, c4.pid, [{ bridge: FRONT, ip: null }]), 'E_NO_PROCESS');
  });

  test('a container with no network still gets its loopback up', async () => {
    const c5 = await startContainerProcess(host.netns);
    containers.push(c5);
    assert.deepEqual(await networks.attach('5555555555555555', c5.pid, []), []);
    assert.ok((await containerLinks(c5.pid)).find((l) => l.ifname === 'lo')!.flags.includes('UP'));
  });

  test('detach removes the veths, keeps the address reserved until release; both are idempotent', async () => {
    await networks.detach(ID2);
    assert.deepEqual(
      (await host.linkNames()).filter((n) => n.startsWith('tsifedcba')),
      [],
    );
    assert.deepEqual(
      (await containerLinks(c2.pid)).map((l) => l.ifname),
      ['lo'],
    );
    assert.deepEqual(await networks.observe(ID2, c2.pid), []);
    assert.equal(ipam.addressOf(FRONT, ID2), '10.30.0.77');
    await networks.detach(ID2);
    await networks.release(ID2);
    await networks.release(ID2);
    assert.equal(ipam.addressOf(FRONT, ID2), null);
  });

  test('a container whose process dies loses its veths with its namespace; detach is then a no-op', async () => {
    await c1.kill();
    for (let i = 0; i < 100 && (await host.linkNames()).includes('tsi01234567890'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!(await host.linkNames()).includes('tsi01234567890'));
    await networks.detach(ID1);
    assert.deepEqual(
      (await host.linkNames()).filter((n) => /^tsi[0-9a-f]{10}\d+$/.test(n)),
      [],
    );
  });

  test('addresses persist for a new IPAM instance (a restarted supervisor)', () => {
    const fresh = new Ipam(stateDir);
    assert.equal(fresh.addressOf(FRONT, ID1), '10.30.0.2');
    // Handed out so far on FRONT: .2 (ID1), .3 (ID3, released), .4 and .5 (failed attaches, released).
    // The cursor survived: the next one follows them instead of reusing a released address.
    assert.equal(fresh.allocate({ network: FRONT, subnet: '10.30.0.0/24', gateway: '10.30.0.1', owner: '6666666666666666' }), '10.30.0.6');
  });
});
