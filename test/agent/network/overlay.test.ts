// The overlay network driver on the real kernel: three (then four) throw-away "host"
// namespaces whose eth0 sits on one underlay bridge in a fifth namespace, the driver run
// in each through a NetnsRunner, and a fake container per host attached to the overlay
// bridge by ContainerNetworks, as in production.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../../agent/log.js';
import { ContainerNetworks } from '../../../agent/network/container-networks.js';
import { IpRoute } from '../../../agent/network/iproute.js';
import { Ipam } from '../../../agent/network/ipam.js';
import { BridgeFirewall } from '../../../agent/network/nat.js';
import { OverlayNetwork } from '../../../agent/network/overlay.js';
import { PortForwarding } from '../../../agent/network/port-forwarding.js';
import { overlayBridgeMac } from '../../../agent/network/vxlan.js';
import type { ResourceState } from '../../../agent/rpc/protocol.js';
import { createNetns, deleteNetns, inNetns } from '../throwaway-netns.js';
import { must, rejectsWith } from './netns-assertions.js';
import { NetnsRunner, inContainer, startContainerProcess, type FakeContainer } from './netns-fixtures.js';

const run = promisify(execFile);

const BRIDGE = 'tsi-ovl-t1';
const VXLAN = 'tsixovl-t1';
const VNI = 4242;
const PORT = 8472;
const UNDERLAY_MTU = 1400;
const OVERLAY_MTU = UNDERLAY_MTU - 50;
const underlayIp = (i: number) => `10.250.0.${10 + i}`;

interface Host {
  readonly index: number;
  readonly netns: string;
  readonly runner: NetnsRunner;
  readonly overlay: OverlayNetwork;
  readonly networks: ContainerNetworks;
  readonly stateDir: string;
  state: ResourceState | null;
  container?: FakeContainer;
  containerIp?: string;
}

function planned(i: number, members: readonly number[], extra: Record<string, unknown> = {}): ResourceState {
  return {
    id: BRIDGE,
    name: 'ovl',
    driver: 'overlay',
    bridge: BRIDGE,
    vxlan: VXLAN,
    vni: VNI,
    port: PORT,
    mtu: null,
    subnet: '10.90.0.0/16',
    gateway: `10.90.${i}.1`,
    ip_range: `10.90.${i}.0/24`,
    local: underlayIp(i),
    remotes: members.filter((m) => m !== i).map(underlayIp),
    nat: true,
    internal: false,
    ...extra,
  };
}

interface LinkJson {
  ifname: string;
  mtu: number;
  flags: string[];
  master?: string;
  address: string;
  linkinfo?: { info_kind: string; info_data?: Record<string, unknown> };
}

async function linkJson(netns: string, name: string): Promise<LinkJson> {
  const [link] = JSON.parse(await must(netns, ['ip', '-j', '-d', 'link', 'show', 'dev', name])) as LinkJson[];
  assert.ok(link, name);
  return link;
}

/** The destinations of the all-zero FDB entries of the vxlan, sorted. */
async function floodList(netns: string): Promise<string[]> {
  const entries = JSON.parse(await must(netns, ['bridge', '-j', 'fdb', 'show', 'dev', VXLAN])) as { mac: string; dst?: string }[];
  return entries
    .filter((e) => e.mac === '00:00:00:00:00:00')
    .map((e) => e.dst ?? '?')
    .sort();
}

async function ping(pid: number, ip: string): Promise<void> {
  const out = await inContainer(pid, ['busybox', 'ping', '-c', '1', '-W', '3', ip]);
  assert.equal(out.code, 0, `ping ${ip}: ${out.stdout}${out.stderr}`);
}

// One ICMP echo with DF set (IP_PMTUDISC_DO: never fragmented, EMSGSIZE when too big).
const DF_PING = `
import os, socket, struct, sys, time
dst, size = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.setsockopt(socket.IPPROTO_IP, 10, 2)
s.settimeout(1)
ident, payload = os.getpid() & 0xffff, bytes(size)
pkt = struct.pack('!BBHHH', 8, 0, csum(struct.pack('!BBHHH', 8, 0, 0, ident, 1) + payload), ident, 1) + payload
try:
    s.sendto(pkt, (dst, 0))
except OSError as e:
    print(e.strerror); sys.exit(2)
deadline = time.time() + 3
while time.time() < deadline:
    try:
        data, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    ihl = (data[0] & 15) * 4
    kind, _, _, got, _ = struct.unpack('!BBHHH', data[ihl:ihl + 8])
    if kind == 0 and got == ident and addr[0] == dst:
        print(len(data) - ihl - 8); sys.exit(0)
sys.exit(1)
`;

describe('overlay network on the real kernel', () => {
  let underlay: string;
  const hosts: Host[] = [];
  const netnses: string[] = [];
  const stateDirs: string[] = [];

  async function addHost(i: number): Promise<Host> {
    const netns = await createNetns();
    netnses.push(netns);
    const mtu = String(UNDERLAY_MTU);
    await run('ip', ['link', 'add', 'eth0', 'mtu', mtu, 'netns', netns, 'type', 'veth', 'peer', 'name', `u${i}`, 'mtu', mtu, 'netns', underlay]);
    await must(netns, ['ip', 'addr', 'add', `${underlayIp(i)}/24`, 'dev', 'eth0']);
    await must(netns, ['ip', 'link', 'set', 'eth0', 'up']);
    await must(underlay, ['ip', 'link', 'set', `u${i}`, 'master', 'ubr', 'up']);
    const runner = new NetnsRunner(netns);
    const stateDir = mkdtempSync(join(tmpdir(), 'tsit-ovl-'));
    stateDirs.push(stateDir);
    const host: Host = {
      index: i,
      netns,
      runner,
      overlay: new OverlayNetwork(runner, new IpRoute(runner), new BridgeFirewall(runner), silentLog),
      networks: new ContainerNetworks(runner, new Ipam(stateDir), new PortForwarding(runner), silentLog),
      stateDir,
      state: null,
    };
    hosts.push(host);
    return host;
  }

  /** A fake container on the host, attached to the overlay with an address from the host's ip_range. */
  async function addContainer(host: Host): Promise<void> {
    const container = await startContainerProcess(host.netns);
    host.container = container;
    const [attached] = await host.networks.attach(`${host.index}`.repeat(16), container.pid, [
      { bridge: BRIDGE, ip: null, ipRange: `10.90.${host.index}.0/24` },
    ]);
    assert.ok(attached);
    assert.equal(attached.gateway, `10.90.${host.index}.1`);
    host.containerIp = attached.ip;
  }

  before(async () => {
    underlay = await createNetns();
    netnses.push(underlay);
    await must(underlay, ['ip', 'link', 'add', 'ubr', 'type', 'bridge']);
    await must(underlay, ['ip', 'link', 'set', 'ubr', 'up']);
    // Counters of the underlay: VXLAN packets of the full 1400 bytes, and IP fragments.
    const script = [
      'add table bridge tsitest',
      'add chain bridge tsitest fw { type filter hook forward priority 0; policy accept; }',
      `add rule bridge tsitest fw ether type ip udp dport ${PORT} ip length ${UNDERLAY_MTU} counter comment "full"`,
      'add rule bridge tsitest fw ether type ip ip frag-off & 0x3fff != 0 counter comment "fragments"',
    ].join('\n');
    await nftScript(underlay, script);
    for (const i of [1, 2, 3]) await addHost(i);
  });

  after(async () => {
    for (const h of hosts) await h.container?.kill();
    for (const n of netnses) await deleteNetns(n);
    for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
  });

  test('a wrong underlay address or too large an mtu is refused before anything is made', async () => {
    const h1 = hosts[0]!;
    await rejectsWith(
      h1.overlay.apply('create', null, planned(1, [1, 2, 3], { local: '10.250.0.99' }), () => {}),
      'E_UNDERLAY',
      /10\.250\.0\.99 is not an address of this host; its IPv4 addresses are 10\.250\.0\.11 \(eth0\)/,
    );
    await rejectsWith(
      h1.overlay.apply('create', null, planned(1, [1, 2, 3], { mtu: OVERLAY_MTU + 1 }), () => {}),
      'E_MTU',
      new RegExp(`mtu ${OVERLAY_MTU + 1} is too large .* eth0 has mtu ${UNDERLAY_MTU} .* the maximum is ${OVERLAY_MTU}`),
    );
    const links = (JSON.parse(await must(h1.netns, ['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
    assert.deepEqual(links.sort(), ['eth0', 'lo']);
  });

  test('create on three members: bridge, vxlan, FDB with the two others, NAT', async () => {
    for (const h of hosts) {
      h.state = await h.overlay.apply('create', null, planned(h.index, [1, 2, 3]), () => {});
    }
    // What was planned, with the most mtu the underlay carries.
    assert.deepEqual(hosts[0]!.state, { ...planned(1, [1, 2, 3]), mtu: OVERLAY_MTU });
    for (const h of hosts) {
      const vx = await linkJson(h.netns, VXLAN);
      const data = vx.linkinfo?.info_data ?? {};
      assert.equal(vx.linkinfo?.info_kind, 'vxlan');
      assert.equal(data['id'], VNI);
      assert.equal(data['port'], PORT);
      assert.equal(data['local'], underlayIp(h.index));
      assert.equal(data['link'], 'eth0');
      assert.equal(data['learning'], true);
      assert.equal(data['group'], undefined, 'no multicast group');
      assert.equal(data['remote'], undefined, 'no default remote');
      assert.equal(vx.mtu, OVERLAY_MTU);
      assert.equal(vx.master, BRIDGE);
      assert.ok(vx.flags.includes('UP'));
      const br = await linkJson(h.netns, BRIDGE);
      assert.equal(br.mtu, OVERLAY_MTU);
      assert.ok(br.flags.includes('UP'));
      // Every member's bridge is on the same segment: each has a MAC of its own.
      assert.equal(br.address, overlayBridgeMac(BRIDGE, underlayIp(h.index)));
      assert.deepEqual(await floodList(h.netns), [1, 2, 3].filter((m) => m !== h.index).map(underlayIp));
      const rules = JSON.parse(await must(h.netns, ['nft', '-j', 'list', 'table', 'ip', 'tsinfra'])) as {
        nftables: { rule?: { comment?: string; expr: Record<string, unknown>[] } }[];
      };
      const ours = rules.nftables.flatMap((o) => (o.rule?.comment === `tsi:${BRIDGE}` ? [o.rule] : []));
      assert.equal(ours.length, 1);
      assert.ok(ours[0]!.expr.some((e) => 'masquerade' in e));
      assert.equal((await must(h.netns, ['sysctl', '-n', 'net.ipv4.ip_forward'])).trim(), '1');
    }
    assert.deepEqual(await hosts[1]!.overlay.read(hosts[1]!.state!), hosts[1]!.state, 'read matches what apply returned');
    // The member's own overlay gateway is no underlay, and is not offered as one.
    const h1 = hosts[0]!;
    await rejectsWith(
      h1.overlay.apply('update', h1.state, planned(1, [1, 2, 3], { local: '10.90.1.1' }), () => {}),
      'E_UNDERLAY',
      /its IPv4 addresses are 10\.250\.0\.11 \(eth0\); give/,
    );
  });

  test('an explicit mtu below the maximum goes on bridge and vxlan; null goes back to the maximum', async () => {
    const h2 = hosts[1]!;
    h2.state = await h2.overlay.apply('update', h2.state, planned(2, [1, 2, 3], { mtu: 1300 }), () => {});
    assert.equal(h2.state?.['mtu'], 1300);
    assert.deepEqual([(await linkJson(h2.netns, BRIDGE)).mtu, (await linkJson(h2.netns, VXLAN)).mtu], [1300, 1300]);
    h2.state = await h2.overlay.apply('update', h2.state, planned(2, [1, 2, 3]), () => {});
    assert.deepEqual([(await linkJson(h2.netns, BRIDGE)).mtu, (await linkJson(h2.netns, VXLAN)).mtu], [OVERLAY_MTU, OVERLAY_MTU]);
  });

  test('containers on different members reach each other over the overlay', async () => {
    for (const h of hosts) await addContainer(h);
    assert.deepEqual(
      hosts.map((h) => h.containerIp!.split('.').slice(0, 3).join('.')),
      ['10.90.1', '10.90.2', '10.90.3'],
      "each from its host's ip_range",
    );
    for (const from of hosts) {
      for (const to of hosts) if (from !== to) await ping(from.container!.pid, to.containerIp!);
    }
    // A member's own bridge address reaches a container elsewhere (the bridges' MACs differ).
    const fromHost = await inNetns(hosts[1]!.netns, ['busybox', 'ping', '-c', '1', '-W', '3', hosts[0]!.containerIp!]);
    assert.equal(fromHost.code, 0, fromHost.stdout + fromHost.stderr);
    const eth0 = JSON.parse((await inContainer(hosts[0]!.container!.pid, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])).stdout) as { mtu: number }[];
    assert.equal(eth0[0]?.mtu, OVERLAY_MTU, 'containers get the overlay mtu');
  });

  test('a packet of the full overlay mtu with DF set crosses the overlay unfragmented', async () => {
    const [h1, h2] = [hosts[0]!, hosts[1]!];
    const before = await underlayCounters(underlay);
    const full = await inContainer(h1.container!.pid, ['python3', '-c', DF_PING, h2.containerIp!, String(OVERLAY_MTU - 28)]);
    assert.equal(full.code, 0, full.stdout + full.stderr);
    assert.equal(full.stdout.trim(), String(OVERLAY_MTU - 28), 'the whole payload came back');
    const after = await underlayCounters(underlay);
    assert.ok(after.full - before.full >= 2, `echo and reply went over the underlay as ${UNDERLAY_MTU}-byte VXLAN packets (${after.full - before.full})`);
    assert.equal(after.fragments, 0, 'nothing on the underlay was fragmented');
    // One byte more does not fit the overlay's mtu, and DF forbids fragmenting it.
    const tooBig = await inContainer(h1.container!.pid, ['python3', '-c', DF_PING, h2.containerIp!, String(OVERLAY_MTU - 27)]);
    assert.equal(tooBig.code, 2, tooBig.stdout + tooBig.stderr);
    assert.match(tooBig.stdout, /Message too long/);
  });

  test('drift: a deleted FDB entry, a foreign one, mtu, address and links changed by hand are seen by read and put back by update', async () => {
    const h1 = hosts[0]!;
    await must(h1.netns, ['bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', VXLAN, 'dst', underlayIp(2)]);
    await must(h1.netns, ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', VXLAN, 'dst', '10.250.0.99']);
    await must(h1.netns, ['bridge', 'fdb', 'append', '00:00:00:00:00:00', 'dev', VXLAN, 'dst', underlayIp(3), 'port', '1234']);
    await must(h1.netns, ['ip', 'link', 'set', 'dev', VXLAN, 'mtu', '1300']);
    await must(h1.netns, ['ip', 'addr', 'flush', 'dev', BRIDGE]);
    const drifted = await h1.overlay.read(h1.state!);
    assert.deepEqual(drifted?.['remotes'], ['10.250.0.13', '10.250.0.99']);
    assert.equal(drifted?.['mtu'], 1300);
    assert.equal(drifted?.['gateway'], null);
    assert.equal(drifted?.['subnet'], null);

    h1.state = await h1.overlay.apply('update', drifted, planned(1, [1, 2, 3]), () => {});
    assert.deepEqual(h1.state?.['remotes'], ['10.250.0.12', '10.250.0.13']);
    assert.equal(h1.state?.['mtu'], OVERLAY_MTU);
    assert.equal(h1.state?.['gateway'], '10.90.1.1');
    assert.deepEqual(await floodList(h1.netns), ['10.250.0.12', '10.250.0.13'], 'the foreign entries are gone, port 1234 too');
    assert.equal((await linkJson(h1.netns, VXLAN)).mtu, OVERLAY_MTU);

    // Taken off the bridge and down: update puts it back.
    await must(h1.netns, ['ip', 'link', 'set', 'dev', VXLAN, 'nomaster']);
    await must(h1.netns, ['ip', 'link', 'set', 'dev', VXLAN, 'down']);
    h1.state = await h1.overlay.apply('update', h1.state, planned(1, [1, 2, 3]), () => {});
    const vx = await linkJson(h1.netns, VXLAN);
    assert.equal(vx.master, BRIDGE);
    assert.ok(vx.flags.includes('UP'));
    await ping(h1.container!.pid, hosts[1]!.containerIp!);

    // An update with nothing to change runs no command that changes the host.
    const before = h1.runner.commands.length;
    await h1.overlay.apply('update', h1.state, planned(1, [1, 2, 3]), () => {});
    const writes = h1.runner.commands.slice(before).filter((c) => !c.includes('-j') && !(c[0] === 'sysctl' && c[1] === '-n'));
    assert.deepEqual(writes, []);
  });

  test('a vxlan deleted by hand: read says gone, create adopts the bridge and makes it again', async () => {
    const h3 = hosts[2]!;
    await must(h3.netns, ['ip', 'link', 'del', 'dev', VXLAN]);
    assert.equal(await h3.overlay.read(h3.state!), null);
    const messages: string[] = [];
    h3.state = await h3.overlay.apply('create', null, planned(3, [1, 2, 3]), (m) => messages.push(m));
    assert.ok(messages.includes(`adopting existing ${BRIDGE}`), messages.join('\n'));
    assert.deepEqual(h3.state?.['remotes'], ['10.250.0.11', '10.250.0.12']);
    await ping(h3.container!.pid, hosts[0]!.containerIp!);
  });

  test('a fourth member joins: its half-made overlay is adopted, the others get its FDB entry in place; then it leaves', async () => {
    const h4 = await addHost(4);
    // An interrupted run left a bridge without address and a vxlan with another vni.
    await must(h4.netns, ['ip', 'link', 'add', BRIDGE, 'type', 'bridge']);
    await must(h4.netns, ['ip', 'link', 'add', VXLAN, 'type', 'vxlan', 'id', '7', 'dstport', String(PORT)]);
    h4.state = await h4.overlay.apply('create', null, planned(4, [1, 2, 3, 4]), () => {});
    assert.equal(h4.state?.['vni'], VNI);
    assert.equal(h4.state?.['local'], underlayIp(4));
    assert.deepEqual(h4.state?.['remotes'], ['10.250.0.11', '10.250.0.12', '10.250.0.13']);

    for (const h of hosts.slice(0, 3)) {
      const ifindex = (JSON.parse(await must(h.netns, ['ip', '-j', 'link', 'show', 'dev', VXLAN])) as { ifindex: number }[])[0]?.ifindex;
      h.state = await h.overlay.apply('update', h.state, planned(h.index, [1, 2, 3, 4]), () => {});
      const after = (JSON.parse(await must(h.netns, ['ip', '-j', 'link', 'show', 'dev', VXLAN])) as { ifindex: number }[])[0]?.ifindex;
      assert.equal(after, ifindex, 'updated in place, not recreated');
      assert.deepEqual(await floodList(h.netns), [1, 2, 3, 4].filter((m) => m !== h.index).map(underlayIp));
    }
    await addContainer(h4);
    for (const h of hosts.slice(0, 3)) {
      await ping(h4.container!.pid, h.containerIp!);
      await ping(h.container!.pid, h4.containerIp!);
    }

    // It leaves again: the others drop its entry, it removes everything.
    for (const h of hosts.slice(0, 3)) {
      h.state = await h.overlay.apply('update', h.state, planned(h.index, [1, 2, 3]), () => {});
      assert.deepEqual(await floodList(h.netns), [1, 2, 3].filter((m) => m !== h.index).map(underlayIp));
    }
    await h4.container!.kill();
    assert.equal(await h4.overlay.apply('delete', h4.state, null, () => {}), null);
    await ping(hosts[0]!.container!.pid, hosts[2]!.containerIp!);
  });

  test('delete leaves no vxlan, bridge, FDB entry or rule; deleting again is fine', async () => {
    for (const h of hosts) {
      await h.container?.kill();
      assert.equal(await h.overlay.apply('delete', h.state ?? planned(h.index, []), null, () => {}), null);
      const links = (JSON.parse(await must(h.netns, ['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
      assert.deepEqual(
        links.filter((l) => l.startsWith('tsi')),
        [],
        `host ${h.index}`,
      );
      const fdb = JSON.parse(await must(h.netns, ['bridge', '-j', 'fdb', 'show'])) as { mac: string; dst?: string }[];
      assert.deepEqual(
        fdb.filter((e) => e.dst !== undefined),
        [],
      );
      const tables = JSON.parse(await must(h.netns, ['nft', '-j', 'list', 'tables'])) as { nftables: { table?: { name: string } }[] };
      assert.deepEqual(
        tables.nftables.flatMap((o) => (o.table ? [o.table.name] : [])),
        [],
      );
      assert.equal(await h.overlay.read(planned(h.index, [])), null);
      assert.equal(await h.overlay.apply('delete', planned(h.index, []), null, () => {}), null);
    }
  });
});

async function nftScript(netns: string, script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], (e, _out, err) => (e ? reject(new Error(`nft: ${err}`)) : resolve()));
    child.stdin?.end(script + '\n');
  });
}

async function underlayCounters(netns: string): Promise<{ full: number; fragments: number }> {
  const out = await must(netns, ['nft', '-j', 'list', 'table', 'bridge', 'tsitest']);
  const rules = (JSON.parse(out) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] }).nftables;
  const packets = (comment: string) => rules.find((o) => o.rule?.comment === comment)?.rule?.expr.find((e) => e.counter)?.counter?.packets ?? -1;
  return { full: packets('full'), fragments: packets('fragments') };
}
