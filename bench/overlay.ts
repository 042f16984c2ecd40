// `npm run bench:overlay`: a VXLAN overlay across 10 SSH test hosts with 2 containers each.
//
//   node dist/bench/overlay.js [--runs N] [--ping-rounds N] [--pings N] [--keep]
//
// 1. Bring-up: one `tsinfra apply` from fresh hosts (the agent uploaded, 10 images
//    imported, the overlay's VXLAN device and bridge on every host, 20 containers), then
//    a no-op re-apply and the destroy. Each run starts from fresh hosts: destroy, agents
//    and supervisors stopped, the hosts' private tsinfra directories emptied, the state
//    forgotten. One uncounted run first (page cache, the workspace's parse cache); rows
//    are medians. Every run's exit code and output are checked, and after each first
//    apply the FDB entries on every member and a ping from each host's containers to the
//    next host's, so a failure is reported as one and never timed.
// 2. Latency: pings from a container on h1 to a container on h2 over the overlay, and from
//    h1's own namespace to h2's underlay address, in alternating rounds with the same
//    busybox; side by side with the overhead in microseconds and percent. A container on
//    h1 to the other one on h1 (the overlay's bridge, no VXLAN) is shown for context.
//
// The hosts are /work/shared/testhosts' fake hosts (a network namespace and a real sshd
// each, one kernel, one LAN bridge as the underlay): brought up at the start and always
// down at the end, also on failure or Ctrl-C, after destroying what tsinfra made.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveArg } from './args.js';
import { cleanUp, cleanUpOnSignals, onCleanUp, runBench } from './cleanups.js';
import { ensureGnuTime, measure, summarize, type Sample } from './measure.js';
import { killDescendants, lastLines, readText, run, stopPid } from './processes.js';
import { formatKb, formatMs, table } from './report.js';
import { buildTestImage } from '../test/cli/container-lab.js';
import { cleanUpHost, removeSharedCgroupParent } from '../test/cli/fleet-hosts.js';
import { hostsDown, hostsUp, mountCgroups, sshdPid, type TestHost } from '../test/transport/install/test-hosts.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const CLI = join(REPO, 'bin', 'run.js');
// Our own set of test hosts: other sets (default prefix and net) may be up at the same time.
const SET = { prefix: 'tsbo', net: '10.213.60', dir: '/tmp/tsinfra-bench-overlay' };
const HOST_COUNT = 10;
const CONTAINERS_PER_HOST = ['a', 'b'] as const;
const OVERLAY_SUBNET = '10.92.0.0/16';
const VNI = 4600;
/** Images, the overlay, the containers. */
const RESOURCES = HOST_COUNT + 1 + HOST_COUNT * CONTAINERS_PER_HOST.length;
/** Debian's default ~/.bashrc, what root has on a server (see Hosts.start). */
const SERVER_BASHRC = '/etc/skel/.bashrc';
const PING_INTERVAL_S = '0.05';

// ---------------------------------------------------------------- options

interface Options {
  readonly runs: number;
  readonly pingRounds: number;
  readonly pings: number;
  readonly keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const opts = { runs: 3, pingRounds: 5, pings: 50, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runs') opts.runs = positiveArg(a, argv[++i]);
    else if (a === '--ping-rounds') opts.pingRounds = positiveArg(a, argv[++i]);
    else if (a === '--pings') opts.pings = positiveArg(a, argv[++i]);
    else if (a === '--keep') opts.keep = true;
    else throw new Error(`bench: unknown argument ${a} (known: --runs N, --ping-rounds N, --pings N, --keep)`);
  }
  return opts;
}

// ---------------------------------------------------------------- small helpers

/** The environment for tsinfra: a user's TSINFRA_* (state key, cache, variables) would change what is measured. */
function tsinfraEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TSINFRA_')) env[k] = v;
  return { ...env, NO_COLOR: '1' };
}

// ---------------------------------------------------------------- the hosts

/** The 10 fake hosts, from testhosts/hosts-up.sh; `down()` removes them again. */
class Hosts {
  private up = false;
  list: TestHost[] = [];

  start(): void {
    process.stderr.write(`bench: starting ${HOST_COUNT} test hosts (${SET.prefix}, ${SET.net}.0/24) ...`);
    this.up = true; // a failed hosts-up may leave parts behind: always run hosts-down
    this.list = hostsUp(SET, HOST_COUNT);
    for (const h of this.list) {
      // sshd was started through `ip netns exec`, whose fresh /sys lacks the cgroup file
      // systems the supervisor needs; a real host has them.
      mountCgroups(h);
      // The hosts share /root with this machine, whose ~/.bashrc runs `pyenv init` (about
      // 100 ms of CPU) for every command sshd runs; a server has Debian's default (as in
      // bench/fleet.ts), given to each host in its own mount namespace.
      if (existsSync(SERVER_BASHRC) && existsSync('/root/.bashrc')) {
        const r = run('nsenter', ['-t', String(sshdPid(h)), '-m', '--', 'mount', '--bind', SERVER_BASHRC, '/root/.bashrc']);
        if (r.status !== 0) throw new Error(`bench: cannot give ${h.name} Debian's default /root/.bashrc:\n${r.out}`);
      }
    }
    process.stderr.write(' up\n');
  }

  down(): void {
    if (!this.up) return;
    try {
      hostsDown(SET);
    } catch (e) {
      console.error(`bench: hosts-down.sh failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? String(e)}`);
    }
    this.up = false;
    this.list = [];
  }

  byName(name: string): TestHost {
    const h = this.list.find((x) => x.name === name);
    if (!h) throw new Error(`bench: no test host ${name}`);
    return h;
  }
}

/** Stops the agent tsinfra left on a host, by its pid file, if that pid is an agent inside this host. */
function stopAgent(h: TestHost): void {
  const pid = Number(readText(join(h.hostDir, 'run/tsinfra/agent.pid'))?.trim());
  if (!pid) return;
  try {
    // A pid file may be stale and its pid reused: only an agent in this host's namespace counts.
    const inHost = readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync(`/proc/${sshdPid(h)}/ns/net`);
    if (inHost && (readText(`/proc/${pid}/cmdline`) ?? '').includes('agent.mjs')) stopPid(pid);
  } catch {
    // gone
  }
}

/** What tsinfra started on the hosts: container processes and cgroups, supervisors, agents. */
function stopHostDaemons(hosts: Hosts): void {
  for (const h of hosts.list) {
    cleanUpHost(h);
    stopAgent(h);
  }
}

function emptyPrivateDirs(h: TestHost): void {
  for (const dir of ['var/lib/tsinfra', 'run/tsinfra']) {
    const full = join(h.hostDir, dir);
    if (existsSync(full)) for (const e of readdirSync(full)) rmSync(join(full, e), { recursive: true, force: true });
  }
}

function inHost(h: TestHost, argv: readonly string[]): string {
  const r = run('ip', ['netns', 'exec', h.netns, ...argv]);
  if (r.status !== 0) throw new Error(`bench: ${argv.join(' ')} on ${h.name} failed: ${r.out}`);
  return r.out;
}

/** Why a host is not as hosts-up left it (links, rules, mounts, files), or undefined. */
function freshProblem(h: TestHost): string | undefined {
  const links = (JSON.parse(inHost(h, ['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n !== 'lo' && n !== 'eth0');
  if (links.length) return `links ${links.join(', ')}`;
  if (/tsi/.test(inHost(h, ['nft', 'list', 'ruleset']))) return 'nftables rules of tsinfra';
  const mounts = (readText(`/proc/${sshdPid(h)}/mountinfo`) ?? '')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith('/var/lib/tsinfra/') || m.startsWith('/run/tsinfra/'));
  if (mounts.length) return `mounts ${mounts.slice(0, 3).join(', ')}`;
  for (const dir of ['var/lib/tsinfra', 'run/tsinfra']) {
    const full = join(h.hostDir, dir);
    const entries = existsSync(full) ? readdirSync(full) : [];
    if (entries.length) return `/${dir} holds ${entries.join(', ')}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- the configuration

function configHcl(hosts: Hosts, image: string): string {
  const hostMap = Object.fromEntries(hosts.list.map((h) => [h.name, h.address]));
  const container = (name: string): string => `
resource "container" "${name}" {
  for_each     = var.hosts
  host         = host.node[each.key]
  image        = image.busybox[each.key].id
  command      = ["sleep", "3600"]
  # sleep as pid 1 ignores SIGTERM: do not wait for it on destroy
  stop_timeout = "100ms"
  network { id = overlay_network.ovl.id }
}
`;
  return `variable "hosts" { default = ${JSON.stringify(hostMap)} }

host "node" {
  for_each         = var.hosts
  address          = each.value
  private_key_file = "${SET.dir}/id_ed25519"
  known_hosts_file = "${SET.dir}/known_hosts"
}

resource "image" "busybox" {
  for_each = var.hosts
  host     = host.node[each.key]
  source   = "oci-archive:${image}"
}

resource "overlay_network" "ovl" {
  hosts  = [${hosts.list.map((h) => `host.node["${h.name}"]`).join(', ')}]
  subnet = "${OVERLAY_SUBNET}"
  vni    = ${VNI}
}
${CONTAINERS_PER_HOST.map(container).join('')}`;
}

interface Instance {
  readonly address: string;
  readonly attributes: Record<string, unknown>;
}

function stateInstances(dir: string): Instance[] {
  const text = readText(join(dir, '.tsinfra', 'state.json'));
  return text ? ((JSON.parse(text) as { resources?: Instance[] }).resources ?? []) : [];
}

function attributesOf(dir: string, address: string): Record<string, unknown> {
  const found = stateInstances(dir).find((i) => i.address === address);
  if (!found) throw new Error(`bench: ${address} is not in the state`);
  return found.attributes;
}

interface ContainerRef {
  readonly address: string;
  readonly pid: number;
  readonly ip: string;
}

function containerOf(dir: string, name: string, host: string): ContainerRef {
  const address = `container.${name}["${host}"]`;
  const a = attributesOf(dir, address);
  const pid = a['pid'];
  const ip = a['ip_address'];
  if (typeof pid !== 'number' || typeof ip !== 'string') throw new Error(`bench: ${address} has no pid or ip_address in the state`);
  return { address, pid, ip };
}

// ---------------------------------------------------------------- pings

interface PingResult {
  readonly sent: number;
  readonly received: number;
  /** Round-trip times of the replies, in ms (busybox prints them to the microsecond). */
  readonly times: number[];
  readonly out: string;
}

/** busybox ping from the network namespace of `pid` (a container's or a host's sshd). */
function ping(pid: number, target: string, count: number): PingResult {
  const r = run('nsenter', [
    '-t',
    String(pid),
    '-n',
    '--',
    'busybox',
    'ping',
    '-c',
    String(count),
    '-i',
    PING_INTERVAL_S,
    '-w',
    String(Math.ceil(count * 0.05) + 5),
    target,
  ]);
  const m = /(\d+) packets transmitted, (\d+) packets received/.exec(r.out);
  return {
    sent: Number(m?.[1] ?? 0),
    received: Number(m?.[2] ?? 0),
    times: [...r.out.matchAll(/time=([\d.]+) ms/g)].map((x) => Number(x[1])),
    out: r.out,
  };
}

function reaches(pid: number, target: string): string | undefined {
  const r = ping(pid, target, 1);
  return r.received === 1 ? undefined : lastLines(r.out, 2);
}

// ---------------------------------------------------------------- checks of a first apply

/** Why the hosts do not have the overlay and containers the first apply should have made, or undefined. */
function overlayProblem(hosts: Hosts, dir: string): string | undefined {
  const ovl = attributesOf(dir, 'overlay_network.ovl');
  const vxlan = ovl['vxlan'];
  if (typeof vxlan !== 'string') return 'overlay_network.ovl has no vxlan device in the state';
  for (const h of hosts.list) {
    const want = hosts.list
      .filter((o) => o !== h)
      .map((o) => o.address)
      .sort();
    const flood = (JSON.parse(inHost(h, ['bridge', '-j', 'fdb', 'show', 'dev', vxlan]) || '[]') as { mac: string; dst?: string }[])
      .filter((e) => e.mac === '00:00:00:00:00:00' && e.dst)
      .map((e) => e.dst!)
      .sort();
    if (flood.join() !== want.join()) return `${h.name}: ${vxlan} floods to [${flood.join(', ')}], want the ${want.length} other members`;
  }
  // Across hosts: each host's container "a" reaches the next host's container "b", and the
  // last host's "a" the first host's "b"; and every container is running.
  const names = hosts.list.map((h) => h.name);
  for (const [i, host] of names.entries()) {
    for (const name of CONTAINERS_PER_HOST) {
      const c = containerOf(dir, name, host);
      if (!existsSync(`/proc/${c.pid}`)) return `${c.address}: pid ${c.pid} is not running`;
    }
    const from = containerOf(dir, 'a', host);
    const to = containerOf(dir, 'b', names[(i + 1) % names.length]!);
    const problem = reaches(from.pid, to.ip);
    if (problem) return `${from.address} does not reach ${to.address} (${to.ip}): ${problem}`;
  }
  return undefined;
}

// ---------------------------------------------------------------- bring-up runs

const STEPS = ['first apply', 'no-op re-apply', 'destroy'] as const;
type Step = (typeof STEPS)[number];

class BringUp {
  private logCount = 0;

  constructor(
    private readonly work: string,
    private readonly cfg: string,
    private readonly hosts: Hosts,
  ) {}

  /** One timed tsinfra command; throws when its exit code or output shows a failure. */
  private async timed(args: readonly string[], want: RegExp, what: string): Promise<Sample> {
    const n = this.logCount++;
    const stdoutFile = join(this.work, 'logs', `${n}.out`);
    const stderrFile = join(this.work, 'logs', `${n}.err`);
    const sample = await measure(process.execPath, [CLI, ...args], { cwd: this.work, env: tsinfraEnv(), stdoutFile, stderrFile });
    const stdout = readFileSync(stdoutFile, 'utf8');
    if (sample.exitCode !== 0)
      throw new Error(`${what}: exit code ${sample.exitCode}: ${lastLines(readFileSync(stderrFile, 'utf8') || stdout, 4)} (log ${stdoutFile})`);
    if (!want.test(stdout)) throw new Error(`${what}: output lacks /${want.source}/: ${lastLines(stdout, 4)} (log ${stdoutFile})`);
    return sample;
  }

  /**
   * Fresh hosts -> first apply (checked on the hosts) -> no-op re-apply -> destroy -> fresh
   * hosts again. `between` runs with the containers up, untimed.
   */
  async cycle(label: string, between?: () => void): Promise<Record<Step, Sample>> {
    process.stderr.write(`bench: ${label}:`);
    const step = async (s: Step, args: readonly string[], want: RegExp): Promise<Sample> => {
      const sample = await this.timed(args, want, `${label}, ${s}`);
      process.stderr.write(` ${s} ${formatMs(sample.wallMs)}`);
      return sample;
    };
    const first = await step(
      'first apply',
      ['apply', '--auto-approve', this.cfg],
      new RegExp(`Apply complete! Resources: ${RESOURCES} added, 0 changed, 0 destroyed\\.`),
    );
    const problem = overlayProblem(this.hosts, this.cfg);
    if (problem) throw new Error(`${label}: the hosts after the first apply: ${problem}`);
    process.stderr.write(' (checked)');
    const again = await step('no-op re-apply', ['apply', '--auto-approve', this.cfg], /No changes\./);
    if (between) {
      process.stderr.write('\n');
      between();
      process.stderr.write(`bench: ${label}:`);
    }
    const destroy = await step('destroy', ['destroy', '--auto-approve', this.cfg], new RegExp(`Destroy complete! Resources: ${RESOURCES} destroyed\\.`));
    process.stderr.write('\n');
    this.reset();
    return { 'first apply': first, 'no-op re-apply': again, destroy };
  }

  /** After a destroy: agents and supervisors stopped, the hosts' directories emptied, no local state. */
  reset(): void {
    const mounted = this.hosts.list.map((h) => [h.name, freshProblem(h)] as const).find(([, p]) => p?.startsWith('mounts') || p?.startsWith('links'));
    if (mounted) throw new Error(`bench: destroy left ${mounted[0]} with ${mounted[1]}`);
    stopHostDaemons(this.hosts);
    for (const h of this.hosts.list) emptyPrivateDirs(h);
    for (const f of ['state.json', 'state.json.backup']) rmSync(join(this.cfg, '.tsinfra', f), { force: true });
    const dirty = this.hosts.list.map((h) => [h.name, freshProblem(h)] as const).filter(([, p]) => p);
    if (dirty.length) throw new Error(`bench: the reset left hosts not fresh: ${dirty.map(([n, p]) => `${n}: ${p}`).join('; ')}`);
  }
}

// ---------------------------------------------------------------- latency

interface Path {
  readonly label: string;
  readonly fromPid: number;
  readonly target: string;
}

interface PathStats {
  readonly label: string;
  readonly sent: number;
  readonly received: number;
  readonly minMs: number;
  readonly avgMs: number;
  readonly medianMs: number;
  readonly maxMs: number;
  /** As iputils ping: the standard deviation, sqrt(mean(t^2) - mean(t)^2). */
  readonly mdevMs: number;
  /** Each round's average, to see the spread between rounds. */
  readonly roundAvgsMs: number[];
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function statsOf(label: string, rounds: readonly PingResult[]): PathStats {
  const times = rounds.flatMap((r) => r.times);
  if (!times.length) throw new Error(`bench: ${label}: no replies: ${lastLines(rounds.at(-1)?.out ?? '', 3)}`);
  const avg = times.reduce((a, b) => a + b, 0) / times.length;
  const meanSquare = times.reduce((a, b) => a + b * b, 0) / times.length;
  return {
    label,
    sent: rounds.reduce((a, r) => a + r.sent, 0),
    received: rounds.reduce((a, r) => a + r.received, 0),
    minMs: Math.min(...times),
    avgMs: avg,
    medianMs: median(times),
    maxMs: Math.max(...times),
    mdevMs: Math.sqrt(Math.max(0, meanSquare - avg * avg)),
    roundAvgsMs: rounds.map((r) => (r.times.length ? r.times.reduce((a, b) => a + b, 0) / r.times.length : NaN)),
  };
}

/** Rounds of `pings` pings per path, the paths' order rotating each round so load from elsewhere hits all alike. */
function measureLatency(paths: readonly Path[], opts: Options): PathStats[] {
  // The first packets resolve neighbours and fill the VXLAN device's learned FDB entries.
  for (const p of paths) ping(p.fromPid, p.target, 3);
  const results = paths.map(() => [] as PingResult[]);
  for (let round = 0; round < opts.pingRounds; round++) {
    process.stderr.write(`bench: ping round ${round + 1}/${opts.pingRounds}:`);
    for (let k = 0; k < paths.length; k++) {
      const i = (k + round) % paths.length;
      const r = ping(paths[i]!.fromPid, paths[i]!.target, opts.pings);
      results[i]!.push(r);
      process.stderr.write(` ${paths[i]!.label.split(':')[0]} ${r.received}/${r.sent}`);
    }
    process.stderr.write('\n');
  }
  return paths.map((p, i) => statsOf(p.label, results[i]!));
}

// ---------------------------------------------------------------- report

const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`;

function renderBringUp(samples: readonly Record<Step, Sample>[]): string {
  const body = STEPS.map((step) => {
    const s = summarize(samples.map((x) => x[step]));
    return [step, String(s.runs), formatMs(s.wallMs), `${formatMs(s.wallMinMs)} - ${formatMs(s.wallMaxMs)}`, `${s.cpuS.toFixed(2)} s`, formatKb(s.peakRssKb)];
  });
  return table(['step', 'runs', 'wall median', 'min-max', 'local CPU', 'peak RSS'], body, new Set([1, 2, 4, 5]));
}

function renderLatency(stats: readonly PathStats[]): string {
  const body = stats.map((s) => [
    s.label,
    `${s.received}/${s.sent}`,
    us(s.minMs),
    us(s.avgMs),
    us(s.medianMs),
    us(s.maxMs),
    us(s.mdevMs),
    s.roundAvgsMs.map((a) => (a * 1000).toFixed(0)).join(' '),
  ]);
  return table(['path', 'replies', 'min', 'avg', 'median', 'max', 'mdev', 'round avgs (µs)'], body, new Set([1, 2, 3, 4, 5, 6]));
}

function renderOverhead(underlay: PathStats, overlay: PathStats): string {
  const row = (what: string, pick: (s: PathStats) => number): string[] => {
    const d = pick(overlay) - pick(underlay);
    return [
      what,
      us(pick(underlay)),
      us(pick(overlay)),
      `${d >= 0 ? '+' : ''}${(d * 1000).toFixed(0)} µs`,
      `${d >= 0 ? '+' : ''}${((d / pick(underlay)) * 100).toFixed(1)} %`,
    ];
  };
  return table(
    ['overlay vs underlay', 'underlay', 'overlay', 'overhead', 'overhead %'],
    [row('min', (s) => s.minMs), row('avg', (s) => s.avgMs), row('median', (s) => s.medianMs)],
    new Set([1, 2, 3, 4]),
  );
}

function printHeader(opts: Options): void {
  console.log(`tsinfra: a VXLAN overlay across ${HOST_COUNT} SSH test hosts with ${CONTAINERS_PER_HOST.length} containers each`);
  console.log(
    `node ${process.version}, kernel ${release()}, ${availableParallelism()} cores, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`hosts: ../shared/testhosts (a network namespace and a real sshd each, one kernel; underlay: veths on one bridge, ${SET.net}.0/24)`);
  console.log(`root's ~/.bashrc on the hosts: Debian's default (${SERVER_BASHRC}), as on a server`);
  console.log(
    `configuration: ${HOST_COUNT} images (busybox oci-archive), overlay_network ${OVERLAY_SUBNET} vni ${VNI} on all hosts, ` +
      `${HOST_COUNT * CONTAINERS_PER_HOST.length} containers (sleep) on it: ${RESOURCES} resources; default --parallelism (10 hosts)`,
  );
  console.log(
    `first apply = from fresh hosts (no agent, no image, no state); ${opts.runs} counted runs after one uncounted; ` +
      `pings: ${opts.pingRounds} rounds x ${opts.pings}, interval ${PING_INTERVAL_S} s, 56-byte payload, busybox ping\n`,
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('bench: the test hosts need root');
  if (!existsSync(join(REPO, 'dist', 'cli', 'commands'))) throw new Error('bench: dist/ is not built; run `npm run bench:overlay` (it builds first)');
  if (run('busybox', ['true']).status !== 0) throw new Error('bench: busybox is missing (apt-get install busybox)');
  ensureGnuTime();

  const work = mkdtempSync(join(tmpdir(), 'tsbo-'));
  const cfg = join(work, 'cfg');
  mkdirSync(join(work, 'logs'));
  mkdirSync(cfg);
  const hosts = new Hosts();
  onCleanUp(() => (opts.keep ? console.log(`\nwork directory kept: ${work}`) : rmSync(work, { recursive: true, force: true })));
  onCleanUp(() => hosts.down());
  onCleanUp(() => {
    stopHostDaemons(hosts);
    removeSharedCgroupParent();
  });
  onCleanUp(() => {
    // Whatever a run cut short left in the state: destroyed by tsinfra itself first.
    if (!stateInstances(cfg).length || !hosts.list.length) return;
    console.error(`bench: destroying the ${stateInstances(cfg).length} resources in the state`);
    const r = run(process.execPath, [CLI, 'destroy', '--auto-approve', '--no-lock', cfg], { env: tsinfraEnv(), timeoutMs: 180_000 });
    if (r.status !== 0) console.error(`bench: cleanup destroy failed (status ${r.status}): ${lastLines(r.out, 4)}; hosts-down removes the rest`);
  });
  onCleanUp(killDescendants);
  cleanUpOnSignals();

  printHeader(opts);
  const started = Date.now();
  const samples: Record<Step, Sample>[] = [];
  let latency: PathStats[] = [];
  let warmUp: Record<Step, Sample> | undefined;
  try {
    const image = await buildTestImage(work);
    hosts.start();
    writeFileSync(join(cfg, 'main.hcl'), configHcl(hosts, image));
    const bench = new BringUp(work, cfg, hosts);
    warmUp = await bench.cycle('uncounted run (page cache, parse cache)');
    for (let r = 0; r < opts.runs; r++) {
      const last = r === opts.runs - 1;
      samples.push(
        await bench.cycle(`run ${r + 1}/${opts.runs}`, () => {
          if (!last) return;
          const a1 = containerOf(cfg, 'a', 'h1');
          const b1 = containerOf(cfg, 'b', 'h1');
          const a2 = containerOf(cfg, 'a', 'h2');
          const h1 = hosts.byName('h1');
          const h2 = hosts.byName('h2');
          latency = measureLatency(
            [
              { label: `underlay: h1 -> h2 (${h1.address} -> ${h2.address})`, fromPid: sshdPid(h1), target: h2.address },
              { label: `overlay: container h1 -> container h2 (${a1.ip} -> ${a2.ip})`, fromPid: a1.pid, target: a2.ip },
              { label: `bridge: container h1 -> container h1 (${a1.ip} -> ${b1.ip})`, fromPid: a1.pid, target: b1.ip },
            ],
            opts,
          );
        }),
      );
    }
  } catch (e) {
    console.log(`\nFAILED (not timed): ${e instanceof Error ? e.message : String(e)}`);
    cleanUp();
    return 1;
  }
  cleanUp();

  console.log(
    `Bring-up, ${HOST_COUNT} hosts x ${CONTAINERS_PER_HOST.length} containers: medians of wall time (local CPU: user+sys of tsinfra, not the hosts)\n`,
  );
  console.log(renderBringUp(samples));
  if (warmUp) console.log(`\nuncounted first run (new workspace): ${STEPS.map((s) => `${s} ${formatMs(warmUp![s].wallMs)}`).join(', ')}`);
  console.log(`\nRound-trip latency (${latency[0]?.sent ?? 0} pings per path, from the network namespace of h1 or of its container)\n`);
  console.log(renderLatency(latency));
  console.log('');
  console.log(renderOverhead(latency[0]!, latency[1]!));
  console.log('\nIssue 7 sets no targets for these figures.');
  console.log(`\nbench took ${formatMs(Date.now() - started)}`);
  return 0;
}

runBench(main);
