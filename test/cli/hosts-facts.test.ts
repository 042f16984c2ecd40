// `tsinfra hosts facts` against real agents: hosts are this machine inside a throw-away
// network namespace (a `count` of them, from a variable), plus one whose namespace does
// not exist, which must be reported while the others print.
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { after, before, test } from 'node:test';
import { mapBounded } from '../../cli/host-facts.js';
import { tsinfra } from './cli-harness.js';
import { openLab, type Lab } from './lab-workspace.js';

let lab: Lab;
before(async () => {
  lab = await openLab((netns) => ({
    'main.hcl': `
variable "n" {
  type    = number
  default = 2
}
host "lab" {
  count     = var.n
  transport = "local"
  netns     = "${netns}"
}
`,
  }));
});
after(async () => {
  await lab?.close();
});

async function addUnreachableHost(): Promise<() => Promise<void>> {
  await lab.cfg.write('gone.hcl', 'host "gone" {\n  transport = "local"\n  netns     = "tsit-no-such-namespace"\n}\n');
  return () => lab.cfg.write('gone.hcl', '');
}

test('facts of every host, one block each, in address order', async () => {
  const r = await tsinfra(['hosts', 'facts', lab.cfg.dir, '--var', 'n=3', '--parallelism', '2'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const blocks = r.stdout.trim().split('\n\n');
  assert.deepEqual(
    blocks.slice(0, -1).map((b) => b.split('\n')[0]),
    ['host.lab[0]', 'host.lab[1]', 'host.lab[2]'],
  );
  const first = blocks[0]!;
  assert.match(first, new RegExp(`^  kernel +${release().replace(/[.+]/g, '\\$&')}$`, 'm'));
  assert.match(first, new RegExp(`^  architecture +${process.arch}, \\d+ CPUs?, `, 'm'));
  assert.match(first, /^ {2}cgroup +(v1|v2|hybrid): \w+/m);
  assert.match(first, /^ {2}lvm +(not installed: .*|installed, .*|\S+ +\S+ free of \S+)$/m);
  // The namespace has only its loopback device.
  assert.match(first, /^ {2}interfaces +lo +mtu 65536 +127\.0\.0\.1\/8/m);
  assert.match(first, /^ {2}agent +\d+\.\d+\.\d+ \(protocol \d+\)$/m);
  assert.match(first, new RegExp(`^  node +${process.version.replace(/\./g, '\\.')}$`, 'm'));
  assert.equal(blocks.at(-1), '3 hosts answered.');
});

test('--json gives one documented object per host', async () => {
  const r = await tsinfra(['hosts', 'facts', lab.cfg.dir, '--json'], { env: lab.env });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { format_version: string; hosts: Record<string, unknown>[] };
  assert.equal(out.format_version, '1.0');
  assert.deepEqual(
    out.hosts.map((h) => [h['host'], h['ok'], h['error']]),
    [
      ['host.lab[0]', true, null],
      ['host.lab[1]', true, null],
    ],
  );
  const f = out.hosts[0]!['facts'] as Record<string, unknown>;
  assert.equal(f['kernel_release'], release());
  assert.equal(f['arch'], process.arch);
  assert.equal(f['node_version'], process.version);
  assert.match(f['agent_version'] as string, /^\d+\.\d+\.\d+/);
  assert.equal(typeof f['protocol'], 'number');
  const cgroup = f['cgroup'] as { version: string; controllers: string[] };
  assert.ok(['v1', 'v2', 'hybrid'].includes(cgroup.version));
  assert.ok(cgroup.controllers.length > 0);
  const lvm = f['lvm'] as { present: boolean; volume_groups: { name: string; size_bytes: number; free_bytes: number }[] };
  assert.equal(typeof lvm.present, 'boolean');
  if (!lvm.present) assert.deepEqual(lvm.volume_groups, []);
  for (const vg of lvm.volume_groups) assert.ok(vg.free_bytes <= vg.size_bytes);
  const interfaces = f['interfaces'] as { name: string; mtu: number | null; addresses: string[] }[];
  assert.deepEqual(
    interfaces.map((i) => [i.name, i.mtu]),
    [['lo', 65536]],
  );
  assert.ok(interfaces[0]!.addresses.includes('127.0.0.1/8'));
  assert.equal(typeof f['state_dir_free_bytes'], 'number');
});

test('an unreachable host is reported with its error while the others print, exit 1', async (t) => {
  t.after(await addUnreachableHost());
  const r = await tsinfra(['hosts', 'facts', lab.cfg.dir], { env: lab.env });
  assert.equal(r.code, 1);
  const blocks = r.stdout.trim().split('\n\n');
  assert.deepEqual(
    blocks.slice(0, -1).map((b) => b.split('\n')[0]),
    ['host.gone', 'host.lab[0]', 'host.lab[1]'],
  );
  assert.match(blocks[0]!, /^ {2}error +E_\w+: .*host\.gone/m);
  assert.match(blocks[1]!, /^ {2}kernel +\S+$/m);
  assert.match(blocks[2]!, /^ {2}kernel +\S+$/m);
  assert.equal(blocks.at(-1), '3 hosts: 2 answered, 1 failed.');
  // The whole error on stderr, naming the host and the namespace that is missing.
  assert.match(r.stderr, /Cannot read the facts of host\.gone/);
  assert.match(r.stderr, /tsit-no-such-namespace/);
  assert.doesNotMatch(r.stderr, /host\.lab/);
});

test('--json with an unreachable host: its error in its object, the others complete, exit 1', async (t) => {
  t.after(await addUnreachableHost());
  const r = await tsinfra(['hosts', 'facts', lab.cfg.dir, '--json', '--parallelism', '1'], { env: lab.env });
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { hosts: { host: string; ok: boolean; error: { code: string; message: string } | null; facts: unknown }[] };
  const gone = out.hosts.find((h) => h.host === 'host.gone')!;
  assert.equal(gone.ok, false);
  assert.equal(gone.facts, null);
  assert.match(gone.error!.code, /^E_/);
  assert.match(gone.error!.message, /tsit-no-such-namespace/);
  assert.deepEqual(
    out.hosts.filter((h) => h.ok).map((h) => h.host),
    ['host.lab[0]', 'host.lab[1]'],
  );
  const diags = JSON.parse(r.stderr) as { diagnostics: { code: string; address: string }[] };
  assert.deepEqual(
    diags.diagnostics.map((d) => d.address),
    ['host.gone'],
  );
});

test('a configuration error contacts no host and exits 1', async () => {
  const r = await tsinfra(['hosts', 'facts', lab.cfg.dir, '--var', 'n=many'], { env: lab.env });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /\bn\b/);
});

test('hosts are asked at most --parallelism at a time, results in host order', async () => {
  let running = 0;
  let peak = 0;
  const out = await mapBounded([5, 1, 3, 2, 4], 2, async (n) => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, n * 5));
    running--;
    return n * 10;
  });
  assert.deepEqual(out, [50, 10, 30, 20, 40]);
  assert.equal(peak, 2);
  assert.deepEqual(await mapBounded([], 3, async () => 1), []);
});
