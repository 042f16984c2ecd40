// Networks across hosts over real SSH (../shared/testhosts: each host a network namespace
// whose eth0 is a veth on one shared LAN bridge, as real hosts on one switch):
//   - macvlan on each host's eth0: two containers per host (a static address and one from
//     the host's ip_range) reach each other on a host and across hosts, on the LAN itself;
//   - a missing parent is refused at plan time, naming the host and its interfaces;
//   - a VXLAN overlay across three hosts: containers reach each other by address and by
//     name (resource name and alias), from every member; adding a fourth host updates the
//     others in place; an FDB entry deleted or a VNI changed by hand is drift, put back by
//     the next apply; a published port answers through the overlay container's host, and a
//     sidecar (network_mode = "container:o1") shares its namespace;
//   - published ports on a macvlan-only container are refused when it starts;
//   - destroy leaves no interface, FDB entry or rule on any host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { mountCgroups } from '../transport/install/test-hosts.js';
import { testHostsUp, type TestHosts } from '../transport/ssh/test-hosts.js';
import { attrs, buildTestImage } from './container-lab.js';
import { configDir, tsinfra } from './cli-harness.js';
import { tearDownFleet } from './fleet-hosts.js';

const SET = { prefix: 'tsn', net: '10.213.40', dir: '/tmp/tsinfra-hosts-tsn' };
const LAN = SET.net;
const OVERLAY = '10.91.0.0/16';

interface Layout {
  /** Overlay members, by host name. */
  readonly overlay: readonly string[];
  /** Extra HCL. */
  readonly extra?: string;
}

function config(hosts: TestHosts, image: string, layout: Layout): string {
  const hostMap = Object.fromEntries(hosts.hosts.map((h) => [h.name, h.address]));
  const container = (name: string, host: string, network: string, command = '["sleep", "3600"]') => `
resource "container" "${name}" {
  host         = host.node["${host}"]
  image        = image.busybox["${host}"].id
  command      = ${command}
  stop_timeout = "100ms"
  ${network}
}
`;
  return `
variable "hosts" { default = ${JSON.stringify(hostMap)} }

host "node" {
  for_each         = var.hosts
  address          = each.value
  private_key_file = "${hosts.key}"
  known_hosts_file = "${hosts.knownHosts}"
}

resource "image" "busybox" {
  for_each = var.hosts
  host     = host.node[each.key]
  source   = "oci-archive:${image}"
}

# The LAN itself: each host's containers take addresses from its own part of it.
resource "network" "lan" {
  for_each = { h1 = "${LAN}.64/28", h2 = "${LAN}.80/28" }
  host     = host.node[each.key]
  driver   = "macvlan"
  parent   = "eth0"
  subnet   = "${LAN}.0/24"
  gateway  = "${LAN}.1"
  ip_range = each.value
}
${container('m1a', 'h1', `network { id = network.lan["h1"].id  ip = "${LAN}.70" }`)}
${container('m1b', 'h1', 'network { id = network.lan["h1"].id }')}
${container('m2a', 'h2', `network { id = network.lan["h2"].id  ip = "${LAN}.86" }`)}
${container('m2b', 'h2', 'network { id = network.lan["h2"].id }')}

resource "overlay_network" "ovl" {
  hosts  = [${layout.overlay.map((h) => `host.node["${h}"]`).join(', ')}]
  subnet = "${OVERLAY}"
  vni    = 4242
}
${container(
  'o1',
  'h1',
  'network { id = overlay_network.ovl.id  aliases = ["alpha"] }\n  port { host_port = 18080  container_port = 8080 }',
  '["sh", "-c", "mkdir -p /www && echo hello-from-o1 > /www/index.html && exec httpd -f -p 8080 -h /www"]',
)}
${container('o1side', 'h1', 'network_mode = "container:o1"\n  depends_on   = [container.o1]')}
${container('o2', 'h2', 'network { id = overlay_network.ovl.id }')}
${container('o3', 'h3', 'network { id = overlay_network.ovl.id  aliases = ["gamma"] }')}
${layout.overlay.includes('h4') ? container('o4', 'h4', 'network { id = overlay_network.ovl.id }') : ''}
${layout.extra ?? ''}`;
}

const pidOf = (dir: string, address: string): number => attrs(dir, address)['pid'] as number;
const ipOf = (dir: string, address: string): string => attrs(dir, address)['ip_address'] as string;

/** One ping from inside the container (its network and mount namespace: its /etc/hosts), with this machine's busybox. */
function ping(pid: number, target: string): { ok: boolean; output: string } {
  const r = spawnSync('nsenter', ['-t', String(pid), '-n', '-m', '--', '/bin/busybox', 'ping', '-c', '1', '-W', '3', target], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function assertReaches(pid: number, target: string, from: string): void {
  const r = ping(pid, target);
  assert.ok(r.ok, `${from} -> ${target}: ${r.output}`);
}

/** `ip`/`bridge` JSON from inside a test host's network namespace. */
function inHost(host: string, argv: string[]): unknown {
  return JSON.parse(execFileSync('ip', ['netns', 'exec', `${SET.prefix}-${host}`, ...argv], { encoding: 'utf8' }) || '[]');
}

function tsiLinks(host: string): string[] {
  return (inHost(host, ['ip', '-j', 'link', 'show']) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith('tsi'));
}

/** The all-zero FDB entries (one per remote member) of `vxlan` on `host`. */
function floodEntries(host: string, vxlan: string): string[] {
  return (inHost(host, ['bridge', '-j', 'fdb', 'show', 'dev', vxlan]) as { mac: string; dst?: string }[])
    .filter((e) => e.mac === '00:00:00:00:00:00' && e.dst)
    .map((e) => e.dst!)
    .sort();
}

describe('networks across hosts over SSH: macvlan and a VXLAN overlay', () => {
  let hosts: TestHosts;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  let image: string;
  const addressOf = (name: string) => hosts.hosts.find((h) => h.name === name)!.address;

  before(async () => {
    hosts = await testHostsUp(4, SET);
    for (const h of hosts.hosts) mountCgroups(h);
    cfg = await configDir({});
    image = await buildTestImage(cfg.dir);
  });
  after(() => tearDownFleet(hosts, cfg));

  test('a macvlan parent the host does not have is refused at plan time, naming the host and its interfaces', async () => {
    const bad = `
resource "network" "nowhere" {
  host   = host.node["h1"]
  driver = "macvlan"
  parent = "eth9"
  subnet = "192.168.99.0/24"
}
`;
    await cfg.write('main.hcl', config(hosts, image, { overlay: ['h1', 'h2', 'h3'], extra: bad }));
    const r = await tsinfra(['plan', cfg.dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /host\.node\["h1"\] has no network interface "eth9"/);
    assert.match(r.stderr, /Its interfaces: .*eth0/);
    assert.match(r.stderr, /main\.hcl/);
    assert.deepEqual(tsiLinks('h1'), [], 'nothing was made');
  });

  test('the first apply makes macvlan networks on two hosts and an overlay across three', async () => {
    await cfg.write('main.hcl', config(hosts, image, { overlay: ['h1', 'h2', 'h3'] }));
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const ovl = attrs(cfg.dir, 'overlay_network.ovl');
    const vxlan = ovl['vxlan'] as string;
    for (const h of ['h1', 'h2', 'h3']) {
      const others = ['h1', 'h2', 'h3']
        .filter((o) => o !== h)
        .map(addressOf)
        .sort();
      assert.deepEqual(floodEntries(h, vxlan), others, `${h} floods to the other members only`);
      const [link] = inHost(h, ['ip', '-j', '-d', 'link', 'show', 'dev', vxlan]) as { mtu: number; linkinfo: { info_data: { id: number; port: number } } }[];
      assert.equal(link!.linkinfo.info_data.id, 4242);
      assert.equal(link!.linkinfo.info_data.port, 4789);
      assert.equal(link!.mtu, 1450, 'the underlay (1500) less the VXLAN overhead');
    }
    assert.deepEqual(tsiLinks('h4'), [], 'h4 is no member yet');
  });

  test('macvlan containers reach each other on one host and across hosts, on the LAN', async () => {
    const dir = cfg.dir;
    assert.equal(ipOf(dir, 'container.m1a'), `${LAN}.70`);
    assert.equal(ipOf(dir, 'container.m2a'), `${LAN}.86`);
    const m1b = ipOf(dir, 'container.m1b');
    const m2b = ipOf(dir, 'container.m2b');
    assert.ok(m1b.startsWith(`${LAN}.`) && Number(m1b.split('.')[3]) >= 64 && Number(m1b.split('.')[3]) < 80, `m1b ${m1b} from h1's range`);
    assert.ok(Number(m2b.split('.')[3]) >= 80 && Number(m2b.split('.')[3]) < 96, `m2b ${m2b} from h2's range`);
    const m1a = pidOf(dir, 'container.m1a');
    assertReaches(m1a, m1b, 'm1a');
    assertReaches(m1a, `${LAN}.86`, 'm1a');
    assertReaches(pidOf(dir, 'container.m2b'), `${LAN}.70`, 'm2b');
    // On the LAN itself: another host reaches the container directly.
    assert.equal(spawnSync('ip', ['netns', 'exec', `${SET.prefix}-h3`, 'busybox', 'ping', '-c', '1', '-W', '3', m2b]).status, 0, 'h3 reaches m2b');
  });

  test('overlay containers reach each other across hosts by address and by name', async () => {
    const dir = cfg.dir;
    const o1 = pidOf(dir, 'container.o1');
    const o2 = pidOf(dir, 'container.o2');
    assertReaches(o1, ipOf(dir, 'container.o2'), 'o1');
    assertReaches(o1, 'o2', 'o1');
    assertReaches(o1, 'gamma', 'o1');
    assertReaches(o2, 'alpha', 'o2');
    assertReaches(pidOf(dir, 'container.o3'), 'o1', 'o3');
    const hostsFile = readFileSync(`/proc/${o2}/root/etc/hosts`, 'utf8');
    assert.match(hostsFile, new RegExp(`${ipOf(dir, 'container.o3').replace(/\./g, '\\.')}\\s.*\\bgamma\\b`));
    // A full-size packet crosses: the overlay's MTU leaves room for the encapsulation.
    const big = spawnSync('nsenter', [
      '-t',
      String(o1),
      '-n',
      '--',
      'busybox',
      'ping',
      '-c',
      '1',
      '-W',
      '3',
      '-s',
      String(1450 - 28),
      ipOf(dir, 'container.o3'),
    ]);
    assert.equal(big.status, 0, `${big.stdout}${big.stderr}`);
    const plan = await tsinfra(['plan', '--detailed-exitcode', dir]);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test('adding a fourth host updates the other members in place', async () => {
    const before = attrs(cfg.dir, 'overlay_network.ovl');
    await cfg.write('main.hcl', config(hosts, image, { overlay: ['h1', 'h2', 'h3', 'h4'] }));
    const plan = await tsinfra(['plan', cfg.dir]);
    assert.match(plan.stdout, /overlay_network\.ovl will be updated in place/);
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /1 added, 1 changed, 0 destroyed/);
    const vxlan = before['vxlan'] as string;
    for (const h of ['h1', 'h2', 'h3', 'h4']) {
      const others = ['h1', 'h2', 'h3', 'h4']
        .filter((o) => o !== h)
        .map(addressOf)
        .sort();
      assert.deepEqual(floodEntries(h, vxlan), others, h);
    }
    const members = attrs(cfg.dir, 'overlay_network.ovl')['members'] as Record<string, { ip_range: string }>;
    const old = before['members'] as Record<string, { ip_range: string }>;
    for (const h of Object.keys(old)) assert.equal(members[h]!.ip_range, old[h]!.ip_range, `${h} keeps its slice`);
    assertReaches(pidOf(cfg.dir, 'container.o4'), 'alpha', 'o4');
    assertReaches(pidOf(cfg.dir, 'container.o1'), 'o4', 'o1');
  });

  test('an FDB entry deleted by hand, or a VXLAN device re-made with another VNI, is drift, and the next apply puts it back', async () => {
    const { vxlan, bridge } = attrs(cfg.dir, 'overlay_network.ovl') as { vxlan: string; bridge: string };
    execFileSync('ip', ['netns', 'exec', `${SET.prefix}-h2`, 'bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', vxlan, 'dst', addressOf('h1')]);
    // On h3, the VXLAN device re-made by hand with another VNI.
    const h3 = (...argv: string[]) => execFileSync('ip', ['netns', 'exec', `${SET.prefix}-h3`, 'ip', ...argv]);
    h3('link', 'del', vxlan);
    h3('link', 'add', vxlan, 'type', 'vxlan', 'id', '999', 'local', addressOf('h3'), 'dev', 'eth0', 'dstport', '4789');
    h3('link', 'set', vxlan, 'master', bridge, 'up');
    const plan = await tsinfra(['plan', '--detailed-exitcode', cfg.dir]);
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /overlay_network\.ovl has changed/);
    assert.match(plan.stdout, /overlay_network\.ovl will be updated in place/);
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok(floodEntries('h2', vxlan).includes(addressOf('h1')));
    const [link] = inHost('h3', ['ip', '-j', '-d', 'link', 'show', 'dev', vxlan]) as { linkinfo: { info_data: { id: number } } }[];
    assert.equal(link!.linkinfo.info_data.id, 4242, 'the VNI is put back');
    assert.equal(floodEntries('h3', vxlan).length, 3);
    assertReaches(pidOf(cfg.dir, 'container.o2'), 'alpha', 'o2');
    assertReaches(pidOf(cfg.dir, 'container.o3'), 'alpha', 'o3');
  });

  test("an overlay container's published port answers on its host's address; a sidecar shares its namespace", async () => {
    const page = spawnSync('ip', ['netns', 'exec', `${SET.prefix}-h2`, 'busybox', 'wget', '-q', '-O-', `http://${addressOf('h1')}:18080/`], {
      encoding: 'utf8',
    });
    assert.equal(page.stdout.trim(), 'hello-from-o1', page.stderr);
    const netns = (address: string) => readlinkSync(`/proc/${pidOf(cfg.dir, address)}/ns/net`);
    assert.equal(netns('container.o1side'), netns('container.o1'));
  });

  test('published ports on a macvlan-only container are refused: the host cannot reach its own macvlan containers', async () => {
    const extra = `
resource "container" "mvport" {
  host         = host.node["h1"]
  image        = image.busybox["h1"].id
  command      = ["sleep", "3600"]
  stop_timeout = "100ms"
  network { id = network.lan["h1"].id }
  port { host_port = 18081  container_port = 80 }
}
`;
    await cfg.write('main.hcl', config(hosts, image, { overlay: ['h1', 'h2', 'h3', 'h4'], extra }));
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /mvport: published ports need a bridge or overlay network/);
    await cfg.write('main.hcl', config(hosts, image, { overlay: ['h1', 'h2', 'h3', 'h4'] }));
    const back = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(back.code, 0, back.stdout + back.stderr);
  });

  test('destroy leaves no interface, FDB entry or rule on any host', async () => {
    const r = await tsinfra(['destroy', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const h of hosts.hosts) {
      assert.deepEqual(tsiLinks(h.name), [], h.name);
      const rules = execFileSync('ip', ['netns', 'exec', `${SET.prefix}-${h.name}`, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
      assert.doesNotMatch(rules, /tsi/, `${h.name}: ${rules}`);
      const flags = (inHost(h.name, ['ip', '-j', 'link', 'show', 'dev', 'eth0']) as { flags: string[] }[])[0]!.flags;
      assert.ok(!flags.includes('PROMISC'), `${h.name}: eth0 ${flags.join(',')}`);
    }
  });
});
