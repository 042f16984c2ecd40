// Macvlan networks on the real kernel, all inside throw-away namespaces: a "LAN" (a
// bridge in a namespace of its own, holding the router's address) and two "hosts" joined
// to it by veths (eth0 inside each). The network resource's macvlan driver makes the
// network on each host's eth0; "containers" (processes in namespaces of their own) get
// their macvlans from ContainerNetworks, as the supervisor does.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../../agent/log.js';
import { BridgeNetwork } from '../../../agent/network/bridge.js';
import { containerScript, hostScript, macForAddress, macvlanAlias, type MacvlanPlan, type VethPlan } from '../../../agent/network/container-links.js';
import { Ipam } from '../../../agent/network/ipam.js';
import { BridgeFirewall } from '../../../agent/network/nat.js';
import { NetworkResource } from '../../../agent/network/network.js';
import type { ResourceState } from '../../../agent/rpc/protocol.js';
import { inNetns } from '../throwaway-netns.js';
import { ThrowawayLan, macvlanHost, plannedMacvlan, type MacvlanHost } from './lan-fixture.js';
import { must, rejectsWith } from './netns-assertions.js';
import { inContainer, startContainerProcess, type FakeContainer } from './netns-fixtures.js';

const NET = 'tsi-lan-t1';
const OTHER = 'tsi-lan2-t1';
const BRIDGE = 'tsi-br-t1';
const progress = () => {};

function planned(over: Record<string, unknown> = {}): ResourceState {
  return plannedMacvlan({ id: NET, name: 'lan', parent: 'eth0', vlan: null, subnet: '192.168.77.0/24', gateway: '192.168.77.1' }, over);
}

interface LinkJson {
  ifname: string;
  mtu: number;
  address: string;
  flags: string[];
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string } };
  addr_info: { family: string; local: string; prefixlen: number }[];
}

async function linksIn(netns: string): Promise<LinkJson[]> {
  return JSON.parse(await must(netns, ['ip', '-j', '-d', 'addr', 'show'])) as LinkJson[];
}

async function containerLinks(pid: number): Promise<LinkJson[]> {
  const out = await inContainer(pid, ['ip', '-j', '-d', 'addr', 'show']);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as LinkJson[];
}

async function promisc(netns: string, dev = 'eth0'): Promise<boolean> {
  return (await linksIn(netns)).find((l) => l.ifname === dev)!.flags.includes('PROMISC');
}

async function ping(pid: number, address: string): Promise<void> {
  const out = await inContainer(pid, ['busybox', 'ping', '-c', '1', '-W', '3', address]);
  assert.equal(out.code, 0, `ping ${address} from ${pid}: ${out.stdout}${out.stderr}`);
}

interface Host extends MacvlanHost {
  readonly stateDir: string;
  readonly ipam: Ipam;
  readonly resource: NetworkResource;
}

test('scripts: a macvlan is made on its parent under a host name, tagged, moved into the container, and routes only when not internal', () => {
  const ID = '0123456789abcdef';
  const macvlan: MacvlanPlan = {
    kind: 'macvlan',
    index: 0,
    network: NET,
    parent: 'eth0.10',
    mode: 'bridge',
    hostName: 'tsi01234567890',
    ifname: 'eth0',
    mtu: 1500,
    ip: '192.168.77.5',
    prefix: 24,
    gateway: '192.168.77.1',
    mac: macForAddress('192.168.77.5'),
    alias: macvlanAlias(ID, 0, NET),
    defaultRoute: true,
  };
  const veth: VethPlan = {
    index: 1,
    bridge: BRIDGE,
    hostVeth: 'tsi01234567891',
    ifname: 'eth1',
    mtu: 1400,
    ip: '10.1.0.2',
    prefix: 24,
    gateway: '10.1.0.1',
    mac: '02:42:0a:01:00:02',
  };
  assert.deepEqual(hostScript(ID, 4242, [macvlan, veth]).trim().split('\n'), [
    'link add link eth0.10 name tsi01234567890 mtu 1500 address 02:42:c0:a8:4d:05 type macvlan mode bridge',
    `link set dev tsi01234567890 alias tsi:${ID}:0:${NET}`,
    'link set dev tsi01234567890 netns 4242 name eth0',
    'link add name tsi01234567891 mtu 1400 master tsi-br-t1 up type veth peer name eth1 mtu 1400 address 02:42:0a:01:00:02 netns 4242',
    `link set dev tsi01234567891 alias tsi:${ID}:1 type bridge_slave hairpin on`,
  ]);
  assert.deepEqual(containerScript([macvlan, veth]).trim().split('\n'), [
    'link set dev lo up',
    'address add 192.168.77.5/24 broadcast + dev eth0',
    'link set dev eth0 up',
    'address add 10.1.0.2/24 broadcast + dev eth1',
    'link set dev eth1 up',
    'route add default via 192.168.77.1 dev eth0',
  ]);
  assert.ok(!containerScript([{ ...macvlan, defaultRoute: false }, veth]).includes('route'));
});

describe('macvlan networks on the real kernel', () => {
  const stateDirs: string[] = [];
  const containers: FakeContainer[] = [];
  let lan: ThrowawayLan | undefined;
  let hostA: Host;
  let hostB: Host;
  // Per host: one container with a static address, one with an address from the IPAM.
  let a1: FakeContainer;
  let a2: FakeContainer;
  let b1: FakeContainer;
  let b2: FakeContainer;
  const A1 = 'a1a1a1a1a1a1a1a1';
  const A2 = 'a2a2a2a2a2a2a2a2';
  const B1 = 'b1b1b1b1b1b1b1b1';
  const B2 = 'b2b2b2b2b2b2b2b2';

  async function start(host: Host): Promise<FakeContainer> {
    const c = await startContainerProcess(host.netns);
    containers.push(c);
    return c;
  }

  async function makeHost(port: string): Promise<Host> {
    const netns = await lan!.addHost(port);
    const stateDir = mkdtempSync(join(tmpdir(), 'tsit-mvl-'));
    stateDirs.push(stateDir);
    const host = macvlanHost(netns, stateDir);
    const ipam = new Ipam(stateDir);
    const bridge = new BridgeNetwork(host.ip, new BridgeFirewall(host.runner), silentLog);
    return { ...host, stateDir, ipam, resource: new NetworkResource({ bridge, macvlan: host.macvlan }, host.ip, ipam) };
  }

  before(async () => {
    lan = await ThrowawayLan.create('192.168.77.1/24');
    hostA = await makeHost('porta');
    hostB = await makeHost('portb');
  });

  after(async () => {
    for (const c of containers) await c.kill();
    await lan?.close();
    for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
  });

  test('a missing parent, a wrong VLAN parent or too large an mtu is refused, and nothing is left', async () => {
    await rejectsWith(
      hostA.macvlan.apply('create', null, planned({ parent: 'eth9' }), progress),
      'E_PARENT_NOT_FOUND',
      /the parent eth9 does not exist on this host \(its interfaces: lo, eth0\)/,
    );
    await rejectsWith(
      hostA.macvlan.apply('create', null, planned({ parent: 'eth9.10', vlan: 10 }), progress),
      'E_PARENT_NOT_FOUND',
      /the base of VLAN sub-interface eth9\.10 eth9 does not exist/,
    );
    await rejectsWith(hostA.macvlan.apply('create', null, planned({ parent: 'eth0.11', vlan: 10 }), progress), 'E_RPC_INVALID', /eth0\.11/);
    await rejectsWith(hostA.macvlan.apply('create', null, planned({ parent: '-all' }), progress), 'E_RPC_INVALID', /not an interface name/);
    await rejectsWith(hostA.macvlan.apply('create', null, planned({ mtu: 1501 }), progress), 'E_MTU', /mtu 1501 is larger than the mtu 1500 of eth0/);
    // A link of the sub-interface's name that is not that VLAN is somebody else's.
    await must(hostA.netns, ['ip', 'link', 'add', 'eth0.10', 'type', 'veth', 'peer', 'name', 'x0']);
    await rejectsWith(
      hostA.macvlan.apply('create', null, planned({ parent: 'eth0.10', vlan: 10 }), progress),
      'E_ALREADY_EXISTS',
      /eth0\.10 already exists and is not VLAN 10 on eth0 \(it is a veth\)/,
    );
    await must(hostA.netns, ['ip', 'link', 'del', 'eth0.10']);
    // This kernel has no 802.1Q: creating the sub-interface fails, and the record goes again.
    const noVlan = await inNetns(hostA.netns, ['ip', 'link', 'add', 'link', 'eth0', 'name', 'eth0.12', 'type', 'vlan', 'id', '12']);
    if (noVlan.code !== 0) {
      await rejectsWith(hostA.macvlan.apply('create', null, planned({ parent: 'eth0.12', vlan: 12 }), progress), 'E_COMMAND_FAILED');
    } else {
      await must(hostA.netns, ['ip', 'link', 'del', 'eth0.12']);
    }
    assert.deepEqual(hostA.records.list(), []);
    assert.deepEqual((await linksIn(hostA.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
    assert.equal(await promisc(hostA.netns), false);
  });

  test('create on both hosts: PROMISC only where asked for, a private record the supervisor reads', async () => {
    const plannedA = planned({ promiscuous: true, ip_range: '192.168.77.64/27', mtu: 1400 });
    const stateA = await hostA.resource.apply('create', null, plannedA, progress, 'network.lan');
    assert.deepEqual(stateA, { ...plannedA, vlan_created: false });
    const stateB = await hostB.resource.apply('create', null, planned({ ip_range: '192.168.77.96/27' }), progress, 'network.lan');
    assert.equal(stateB?.['promiscuous'], false);
    assert.equal(stateB?.['mtu'], null);
    assert.equal(await promisc(hostA.netns), true);
    assert.equal(await promisc(hostB.netns), false);
    assert.deepEqual(await hostA.macvlan.read(stateA!), stateA);

    const dir = join(hostA.stateDir, 'networks');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, `${NET}.json`)).mode & 0o777, 0o600);
    assert.equal(hostA.records.get(NET)?.promisc_set, true);
    // The network resource hands the range to the IPAM, as for bridges.
    assert.equal(hostA.ipam.rangeOf(NET), '192.168.77.64/27');
    // The network has no link of its own on the host.
    assert.deepEqual((await linksIn(hostA.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
    await rejectsWith(hostA.macvlan.import(NET), 'E_IMPORT_UNSUPPORTED');
  });

  test('containers get a macvlan in their namespace: static and IPAM addresses, MAC, mtu, alias, default route', async () => {
    a1 = await start(hostA);
    a2 = await start(hostA);
    b1 = await start(hostB);
    b2 = await start(hostB);
    const [att1] = await hostA.networks.attach(A1, a1.pid, [{ bridge: NET, ip: '192.168.77.70' }]);
    assert.deepEqual(att1, { bridge: NET, ifname: 'eth0', hostVeth: null, ip: '192.168.77.70', prefix: 24, gateway: '192.168.77.1', mac: '02:42:c0:a8:4d:46' });
    const [att2] = await hostA.networks.attach(A2, a2.pid, [{ bridge: NET, ip: null }]);
    assert.equal(att2?.ip, '192.168.77.64', 'the first address of the ip_range');
    const [attB1] = await hostB.networks.attach(B1, b1.pid, [{ bridge: NET, ip: '192.168.77.100' }]);
    const [attB2] = await hostB.networks.attach(B2, b2.pid, [{ bridge: NET, ip: null }]);
    assert.equal(attB1?.ip, '192.168.77.100');
    assert.equal(attB2?.ip, '192.168.77.96');

    const eth0 = (await containerLinks(a1.pid)).find((l) => l.ifname === 'eth0')!;
    assert.equal(eth0.linkinfo?.info_kind, 'macvlan');
    assert.equal(eth0.linkinfo?.info_data?.mode, 'bridge');
    assert.equal(eth0.mtu, 1400, "the network's mtu");
    assert.equal(eth0.address, '02:42:c0:a8:4d:46');
    assert.equal(eth0.ifalias, `tsi:${A1}:0:${NET}`);
    assert.ok(eth0.flags.includes('UP'));
    assert.deepEqual(
      eth0.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`),
      ['192.168.77.70/24'],
    );
    assert.equal((await containerLinks(b1.pid)).find((l) => l.ifname === 'eth0')!.mtu, 1500, "the parent's mtu");
    const route = await inContainer(a2.pid, ['ip', 'route', 'show', 'default']);
    assert.match(route.stdout, /^default via 192\.168\.77\.1 dev eth0/);
    // Nothing appears in the hosts' own namespaces.
    assert.deepEqual((await linksIn(hostA.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
  });

  test('containers reach each other on one host and across hosts, and the LAN router', async () => {
    await ping(a1.pid, '192.168.77.64');
    await ping(a2.pid, '192.168.77.70');
    await ping(a1.pid, '192.168.77.100');
    await ping(a2.pid, '192.168.77.96');
    await ping(b2.pid, '192.168.77.70');
    await ping(b1.pid, '192.168.77.96');
    await ping(b1.pid, '192.168.77.1');
  });

  test('observe reports macvlan attachments from inside the container', async () => {
    assert.deepEqual(await hostA.networks.observe(A1, a1.pid), [{ bridge: NET, hostVeth: null, up: true, ifname: 'eth0', ip: '192.168.77.70' }]);
    // Without the pid nothing on the host's side shows them.
    assert.deepEqual(await hostA.networks.observe(A1), []);
  });

  test('attach again (a restart in the same namespace) converges to the same address and link', async () => {
    const again = await hostA.networks.attach(A2, a2.pid, [{ bridge: NET, ip: null }]);
    assert.equal(again[0]?.ip, '192.168.77.64');
    assert.deepEqual(
      (await containerLinks(a2.pid)).map((l) => l.ifname),
      ['lo', 'eth0'],
    );
    await ping(a2.pid, '192.168.77.100');
  });

  test('a container on a bridge and a macvlan network: both in order, then detach; a failure half-way leaves nothing', async () => {
    await hostA.resource.apply(
      'create',
      null,
      { name: 'br', driver: 'bridge', bridge: BRIDGE, subnet: '10.44.0.0/24', gateway: '10.44.0.1', ip_range: null, nat: false, mtu: null, internal: false },
      progress,
      'network.br',
    );
    const c = await start(hostA);
    const id = 'c3c3c3c3c3c3c3c3';
    const both = [
      { bridge: NET, ip: null },
      { bridge: BRIDGE, ip: null },
    ];
    const attached = await hostA.networks.attach(id, c.pid, both);
    assert.deepEqual(
      attached.map((a) => [a.ifname, a.bridge, a.ip, a.hostVeth]),
      [
        ['eth0', NET, '192.168.77.65', null],
        ['eth1', BRIDGE, '10.44.0.2', 'tsic3c3c3c3c31'],
      ],
    );
    assert.deepEqual(await hostA.networks.observe(id, c.pid), [
      { bridge: NET, hostVeth: null, up: true, ifname: 'eth0', ip: '192.168.77.65' },
      { bridge: BRIDGE, hostVeth: 'tsic3c3c3c3c31', up: true, ifname: 'eth1', ip: '10.44.0.2' },
    ]);
    assert.match((await inContainer(c.pid, ['ip', 'route', 'show', 'default'])).stdout, /^default via 192\.168\.77\.1 dev eth0/);
    await ping(c.pid, '192.168.77.100');
    await ping(c.pid, '10.44.0.1');

    // Without the pid, detach removes the veth; the macvlan lives on with the namespace.
    await hostA.networks.detach(id);
    assert.deepEqual(
      (await containerLinks(c.pid)).map((l) => l.ifname),
      ['lo', 'eth0'],
    );
    await hostA.networks.detach(id, c.pid);
    assert.deepEqual(
      (await containerLinks(c.pid)).map((l) => l.ifname),
      ['lo'],
    );
    await hostA.networks.release(id);
    assert.equal(hostA.ipam.addressOf(NET, id), null);

    // The second network's static address is its gateway: the first's was already allocated.
    await rejectsWith(
      hostA.networks.attach(id, c.pid, [
        { bridge: NET, ip: null },
        { bridge: BRIDGE, ip: '10.44.0.1' },
      ]),
      'E_IP_RESERVED',
    );
    assert.equal(hostA.ipam.addressOf(NET, id), null);
    // The move into the container fails (eth0 exists inside): the tagged macvlan left on the host goes.
    const inC = (argv: string[]) => must(hostA.netns, ['nsenter', `--net=/proc/${c.pid}/ns/net`, ...argv]);
    await inC(['ip', 'link', 'add', 'eth0', 'type', 'bridge']);
    await rejectsWith(hostA.networks.attach(id, c.pid, [{ bridge: NET, ip: null }]), 'E_NETWORK_ATTACH', /File exists/);
    assert.deepEqual(
      (await linksIn(hostA.netns)).map((l) => l.ifname).filter((n) => n.startsWith('tsic3')),
      [],
    );
    assert.deepEqual((await containerLinks(c.pid)).map((l) => [l.ifname, l.linkinfo?.info_kind]).sort(), [
      ['eth0', 'bridge'],
      ['lo', undefined],
    ]);
    assert.equal(hostA.ipam.addressOf(NET, id), null);
    await inC(['ip', 'link', 'del', 'eth0']);
    // The host batch fails after the macvlan was made (eth1 exists inside): the macvlan goes again.
    await inC(['ip', 'link', 'add', 'eth1', 'type', 'bridge']);
    await rejectsWith(hostA.networks.attach(id, c.pid, both), 'E_NETWORK_ATTACH', /File exists/);
    assert.deepEqual((await containerLinks(c.pid)).map((l) => l.ifname).sort(), ['eth1', 'lo']);
    assert.deepEqual(
      (await linksIn(hostA.netns)).map((l) => l.ifname).filter((n) => n.startsWith('tsic3')),
      [],
    );
    assert.equal(hostA.ipam.addressOf(NET, id), null);
    assert.equal(hostA.ipam.addressOf(BRIDGE, id), null);
    // The container batch fails (a default route exists already): both links go.
    await inC(['ip', 'link', 'set', 'eth1', 'up']);
    await inC(['ip', 'link', 'set', 'eth1', 'name', 'd0']);
    await inC(['ip', 'route', 'add', 'default', 'dev', 'd0']);
    await rejectsWith(hostA.networks.attach(id, c.pid, both), 'E_NETWORK_ATTACH', /nsenter/);
    assert.deepEqual((await containerLinks(c.pid)).map((l) => l.ifname).sort(), ['d0', 'lo']);
    assert.equal(hostA.ipam.addressOf(NET, id), null);
    await rejectsWith(hostA.networks.attach(id, c.pid, [{ bridge: 'tsi-nothing', ip: null }]), 'E_NETWORK_NOT_FOUND', /tsi-nothing/);
    await c.kill();
    await hostA.resource.apply('delete', { id: BRIDGE, bridge: BRIDGE, driver: 'bridge' }, null, progress, 'network.br');
  });

  test('drift: PROMISC turned off by hand shows in read, update puts it back; in-place updates', async () => {
    const state = (await hostA.macvlan.read({ id: NET }))!;
    await must(hostA.netns, ['ip', 'link', 'set', 'eth0', 'promisc', 'off']);
    assert.equal((await hostA.macvlan.read(state))?.['promiscuous'], false);
    const updated = await hostA.resource.apply(
      'update',
      state,
      planned({ promiscuous: true, ip_range: '192.168.77.64/27', mtu: 1300, internal: true }),
      progress,
      'network.lan',
    );
    assert.equal(updated?.['promiscuous'], true);
    assert.equal(updated?.['mtu'], 1300);
    assert.equal(updated?.['internal'], true);
    assert.equal(await promisc(hostA.netns), true);
    // A container attached now: the new mtu, no default route (internal).
    const c = await start(hostA);
    const id = 'c4c4c4c4c4c4c4c4';
    await hostA.networks.attach(id, c.pid, [{ bridge: NET, ip: null }]);
    assert.equal((await containerLinks(c.pid)).find((l) => l.ifname === 'eth0')!.mtu, 1300);
    assert.equal((await inContainer(c.pid, ['ip', 'route', 'show', 'default'])).stdout.trim(), '');
    await ping(c.pid, '192.168.77.70');
    await c.kill();
    await hostA.networks.release(id);
    // Not promiscuous any more: tsinfra turned it on, so it turns it off.
    const relaxed = await hostA.resource.apply('update', updated, planned({ ip_range: '192.168.77.64/27', mtu: 1300 }), progress, 'network.lan');
    assert.equal(relaxed?.['promiscuous'], false);
    assert.equal(await promisc(hostA.netns), false);
    await rejectsWith(hostA.macvlan.apply('update', relaxed, planned({ mode: 'vepa' }), progress), 'E_RPC_INVALID', /needs a replacement/);
  });

  test('PROMISC is shared by networks on one parent, and left on when it was on before', async () => {
    const state = (await hostA.macvlan.read({ id: NET }))!;
    const first = await hostA.macvlan.apply('update', state, { ...state, promiscuous: true }, progress);
    const second = await hostA.macvlan.apply('create', null, planned({ id: OTHER, name: 'lan2', promiscuous: true }), progress);
    assert.equal(second?.['promiscuous'], true);
    // The first network goes: the second still needs PROMISC and inherits the duty to undo it.
    await hostA.macvlan.apply('update', first, { ...first, promiscuous: false }, progress);
    assert.equal(await promisc(hostA.netns), true);
    assert.equal(hostA.records.get(OTHER)?.promisc_set, true);
    await hostA.macvlan.apply('delete', second, null, progress);
    assert.equal(await promisc(hostA.netns), false);

    // PROMISC on before tsinfra: left on when the network goes.
    await must(hostA.netns, ['ip', 'link', 'set', 'eth0', 'promisc', 'on']);
    const third = await hostA.macvlan.apply('create', null, planned({ id: OTHER, name: 'lan2', promiscuous: true }), progress);
    assert.equal(hostA.records.get(OTHER)?.promisc_set, false);
    await hostA.macvlan.apply('delete', third, null, progress);
    assert.equal(await promisc(hostA.netns), true);
    await must(hostA.netns, ['ip', 'link', 'set', 'eth0', 'promisc', 'off']);
  });

  test('drift: a deleted parent makes the network gone; a deleted record too', async () => {
    const state = (await hostB.macvlan.read({ id: NET }))!;
    assert.ok(state);
    await b1.kill();
    await b2.kill();
    await must(hostB.netns, ['ip', 'link', 'del', 'eth0']);
    assert.equal(await hostB.macvlan.read(state), null);
    await rejectsWith(hostB.macvlan.apply('update', state, planned(), progress), 'E_NOT_FOUND', /eth0/);
    // Delete when already gone is fine, and forgets the record and the addresses.
    assert.equal(await hostB.resource.apply('delete', state, null, progress, 'network.lan'), null);
    assert.equal(hostB.records.get(NET), null);
    assert.deepEqual(hostB.ipam.networks(), []);
    assert.equal(await hostB.macvlan.read(state), null);
  });

  test('delete restores PROMISC and leaves nothing: no record, no address file, no link', async () => {
    const state = (await hostA.macvlan.read({ id: NET }))!;
    const promiscuous = await hostA.macvlan.apply('update', state, { ...state, promiscuous: true }, progress);
    assert.equal(await promisc(hostA.netns), true);
    assert.equal(await hostA.resource.apply('delete', promiscuous, null, progress, 'network.lan'), null);
    assert.equal(await promisc(hostA.netns), false);
    assert.deepEqual(hostA.records.list(), []);
    assert.deepEqual(hostA.ipam.networks(), []);
    assert.equal(hostA.ipam.rangeOf(NET), null);
    assert.deepEqual((await linksIn(hostA.netns)).map((l) => l.ifname).sort(), ['eth0', 'lo']);
    // Containers can no longer join it.
    const c = await start(hostA);
    await rejectsWith(hostA.networks.attach('c5c5c5c5c5c5c5c5', c.pid, [{ bridge: NET, ip: null }]), 'E_NETWORK_NOT_FOUND');
    await c.kill();
    assert.equal(await hostA.macvlan.apply('delete', promiscuous, null, progress), null, 'already gone is fine');
  });
});
