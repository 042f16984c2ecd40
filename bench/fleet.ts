// `npm run bench:fleet`: tsinfra against Ansible on a fleet of SSH hosts, side by side in
// one run: first apply on fresh hosts, no-op re-apply, and a plan with nothing to change.
//
//   node dist/bench/fleet.js [--hosts 10,50] [--runs N] [--slow-runs N] [--keep]
//
// The hosts are /work/shared/testhosts' fake hosts (network namespaces with a real sshd
// each). Every host gets the same thing from every tool: a Linux bridge with 10.77.0.1/24,
// MTU 1400, up, and a directory of its own under /var/lib/tsinfra. Ansible runs twice:
// with an ansible.cfg that tunes nothing, and tuned (forks 50, pipelining, no facts).
//
// One sample of a tool is a cycle: fresh hosts -> first apply -> no-op re-apply -> plan
// -> reset to fresh (unmeasured). Cycles alternate the tools run by run, so load from
// elsewhere hits all alike; rows are medians. tsinfra first runs one uncounted cycle per
// fleet size, in which its workspace gets its parse cache (see measureFleet). Every
// run's exit code and output are checked, and the hosts after each first apply, so a
// failure is reported as one and never timed. Targets that are missed are printed as MISSED; they do not fail the run.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { positiveArg } from './args.js';
import { cleanUp, cleanUpOnSignals, onCleanUp, runBench } from './cleanups.js';
import { ensureGnuTime, measure, summarize, type Sample, type Summary } from './measure.js';
import { killDescendants, lastLines, processTable, readText, run, stopPid } from './processes.js';
import { formatKb, formatMs, table } from './report.js';
import { testhostsDir } from '../test/testhosts-dir.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const CLI = join(REPO, 'bin', 'run.js');
const TESTHOSTS = testhostsDir();
const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';
// Our own set of test hosts: another set (default prefix and net) may be up at the same time.
const HOSTS_ENV = { PREFIX: 'tsbf', NET: '10.213.50' };
const HOSTS_DIR = '/tmp/tsinfra-bench-fleet';
/** Debian's default ~/.bashrc, what root has on a server. */
const SERVER_BASHRC = '/etc/skel/.bashrc';

const TARGET_HOSTS = 50;
const TARGET_FIRST_APPLY_SPEEDUP = 5;
const TARGET_REAPPLY_SPEEDUP = 10;
const TARGET_PLAN_MS = 2000;

const BRIDGE_ADDRESS = '10.77.0.1';
const BRIDGE_PREFIX = 24;
const BRIDGE_MTU = 1400;
const ANSIBLE_BRIDGE = 'tsa-front';
/** tsinfra names its bridge tsi-<name>-<hash>. */
const TSINFRA_BRIDGE = /^tsi-/;
/** Ansible's files on a host; /var/lib/tsinfra is private to each fake host. */
const ANSIBLE_DIR = '/var/lib/tsinfra/ansible/ipam';
const ANSIBLE_FILE = `${ANSIBLE_DIR}/${ANSIBLE_BRIDGE}.json`;
const ANSIBLE_JSON = '{"version":1,"subnet":"10.77.0.0/24","last":null,"addresses":{}}';
/** Tasks that report changed on a fresh host: bridge, directory, file. */
const ANSIBLE_TASKS = 3;

const TOOLS = ['tsinfra', 'ansibleDefault', 'ansibleTuned'] as const;
type ToolId = (typeof TOOLS)[number];
const TOOL_LABEL: Record<ToolId, string> = { tsinfra: 'tsinfra', ansibleDefault: 'ansible default', ansibleTuned: 'ansible tuned' };
const STEPS = ['first apply', 'no-op re-apply', 'plan'] as const;
type Step = (typeof STEPS)[number];

// ---------------------------------------------------------------- options

interface Options {
  readonly hosts: readonly number[];
  /** Overrides every tool's run count. */
  readonly runs?: number;
  /** Runs of default Ansible at 50 hosts or more (slow: minutes per cycle). */
  readonly slowRuns?: number;
  readonly keep: boolean;
  /** Keep this machine's /root/.bashrc on the hosts instead of Debian's default. */
  readonly machineBashrc: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  let hosts: number[] = [10, 50];
  let runs: number | undefined;
  let slowRuns: number | undefined;
  let keep = false;
  let machineBashrc = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--hosts') {
      const v = argv[++i] ?? '';
      hosts = v.split(',').map((s) => positiveArg('--hosts', s.trim()));
      if (hosts.some((n) => n > 244)) throw new Error('bench: the test hosts allow at most 244 hosts');
    } else if (a === '--runs') runs = positiveArg(a, argv[++i]);
    else if (a === '--slow-runs') slowRuns = positiveArg(a, argv[++i]);
    else if (a === '--keep') keep = true;
    else if (a === '--machine-bashrc') machineBashrc = true;
    else throw new Error(`bench: unknown argument ${a} (known: --hosts 10,50, --runs N, --slow-runs N, --keep, --machine-bashrc)`);
  }
  return { hosts, keep, machineBashrc, ...(runs ? { runs } : {}), ...(slowRuns ? { slowRuns } : {}) };
}

function runsOf(opts: Options, tool: ToolId, hosts: number): number {
  if (tool === 'ansibleDefault' && hosts >= 50) return opts.slowRuns ?? opts.runs ?? 1;
  return opts.runs ?? 3;
}

// ---------------------------------------------------------------- the fleet

interface Host {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly hostDir: string;
}

/** N fake hosts from testhosts/hosts-up.sh, removed again by `down()`. */
class Fleet {
  private up = false;
  hosts: Host[] = [];

  start(count: number, machineBashrc: boolean): void {
    process.stderr.write(`bench: starting ${count} test hosts ...`);
    this.up = true; // a failed hosts-up may leave parts behind: always run hosts-down
    const r = run('bash', [join(TESTHOSTS, 'hosts-up.sh'), String(count), HOSTS_DIR], { env: { ...process.env, ...HOSTS_ENV } });
    if (r.status !== 0) throw new Error(`bench: hosts-up.sh ${count} failed:\n${r.out}`);
    this.hosts = (JSON.parse(readFileSync(join(HOSTS_DIR, 'hosts.json'), 'utf8')) as Host[]).map(({ name, address, netns, hostDir }) => ({
      name,
      address,
      netns,
      hostDir,
    }));
    // The hosts share /root with this machine, whose ~/.bashrc runs `pyenv init` (about 90
    // processes, 100 ms of CPU): bash reads it for every command sshd runs, for both tools.
    // A server has Debian's default; each host gets it in its own mount namespace.
    if (!machineBashrc && existsSync(SERVER_BASHRC) && existsSync('/root/.bashrc')) {
      for (const host of this.hosts) {
        const sshd = readText(join(host.hostDir, 'sshd.pid'))?.trim() ?? '';
        const r2 = run('nsenter', ['-t', sshd, '-m', '--', 'mount', '--bind', SERVER_BASHRC, '/root/.bashrc']);
        if (r2.status !== 0) throw new Error(`bench: cannot give ${host.name} Debian's default /root/.bashrc:\n${r2.out}`);
      }
    }
    process.stderr.write(` ${/up in [\d.]+s/.exec(r.out)?.[0] ?? 'up'}\n`);
  }

  down(): void {
    if (!this.up) return;
    const r = run('bash', [join(TESTHOSTS, 'hosts-down.sh'), HOSTS_DIR], { env: { ...process.env, ...HOSTS_ENV } });
    if (r.status !== 0) console.error(`bench: hosts-down.sh failed (status ${r.status}):\n${r.out}`);
    this.up = false;
    this.hosts = [];
  }

  /** The network namespace inode of the host's sshd: where the host's own processes run. */
  netnsOf(host: Host): string | undefined {
    const sshd = Number(readText(join(host.hostDir, 'sshd.pid'))?.trim());
    try {
      return sshd ? readlinkSync(`/proc/${sshd}/ns/net`) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A network interface on a host, from `ip -j addr`. */
interface Link {
  readonly ifname: string;
  readonly flags: string[];
  readonly mtu: number;
  readonly linkinfo?: { info_kind?: string };
  readonly addr_info: Array<{ family: string; local: string; prefixlen: number }>;
}

function linksOf(host: Host): Link[] {
  const r = run('ip', ['-n', host.netns, '-d', '-j', 'addr', 'show']);
  if (r.status !== 0) throw new Error(`bench: ip -n ${host.netns} addr show failed: ${r.out}`);
  return JSON.parse(r.out) as Link[];
}

/** What is wrong with a host's bridge, or undefined when it is as configured. */
function bridgeProblem(links: readonly Link[], name: RegExp | string): string | undefined {
  const found = links.filter((l) => (typeof name === 'string' ? l.ifname === name : name.test(l.ifname)));
  if (found.length !== 1) return `${found.length} bridges named ${String(name)} (want 1)`;
  const l = found[0]!;
  if (l.linkinfo?.info_kind !== 'bridge') return `${l.ifname} is a ${l.linkinfo?.info_kind ?? 'device'}, not a bridge`;
  if (l.mtu !== BRIDGE_MTU) return `${l.ifname} has MTU ${l.mtu}`;
  if (!l.flags.includes('UP')) return `${l.ifname} is down`;
  if (!l.addr_info.some((a) => a.family === 'inet' && a.local === BRIDGE_ADDRESS && a.prefixlen === BRIDGE_PREFIX))
    return `${l.ifname} lacks ${BRIDGE_ADDRESS}/${BRIDGE_PREFIX}`;
  return undefined;
}

function modeProblem(path: string, kind: 'directory' | 'file', mode: number): string | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return `${path} is missing`;
  }
  if (kind === 'directory' ? !st.isDirectory() : !st.isFile()) return `${path} is not a ${kind}`;
  if ((st.mode & 0o7777) !== mode) return `${path} has mode ${(st.mode & 0o7777).toString(8)} (want ${mode.toString(8)})`;
  return undefined;
}

/** Entries in the host's private tsinfra directories (all of them start empty). */
function privateLeftovers(host: Host): string[] {
  const out: string[] = [];
  for (const dir of ['var/lib/tsinfra', 'run/tsinfra']) {
    const full = join(host.hostDir, dir);
    if (existsSync(full)) for (const e of readdirSync(full)) out.push(`/${dir}/${e}`);
  }
  return out;
}

/** Throws when a host is not as hosts-up left it: the next first apply would not start fresh. */
function assertFresh(fleet: Fleet): void {
  const dirty: string[] = [];
  for (const host of fleet.hosts) {
    const extra = linksOf(host)
      .map((l) => l.ifname)
      .filter((n) => n !== 'lo' && n !== 'eth0');
    const files = privateLeftovers(host);
    if (extra.length || files.length) dirty.push(`${host.name}: ${[...extra, ...files].join(', ')}`);
  }
  if (dirty.length) throw new Error(`bench: the reset left hosts not fresh:\n  ${dirty.slice(0, 5).join('\n  ')}`);
}

// ---------------------------------------------------------------- the contenders

/** One command to time, and how to tell that it did what it should. */
interface Job {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Why the output does not show success, or undefined. */
  readonly check: (stdout: string) => string | undefined;
}

interface Contender {
  readonly id: ToolId;
  /** Writes its configuration for the fleet's hosts (unmeasured). */
  prepare(fleet: Fleet): void;
  job(step: Step): Job;
  /** Loads the tool's code once, unmeasured (page cache), without touching a host. */
  warmUp(): void;
  /** Why the hosts do not have what the first apply should have made, or undefined. */
  verify(fleet: Fleet): string | undefined;
  /** Back to fresh hosts (and no local state), unmeasured. */
  reset(fleet: Fleet): void;
}

function tsinfraHcl(fleet: Fleet): string {
  const addresses = fleet.hosts.map((h) => `    "${h.address}",`).join('\n');
  return `variable "addresses" {
  type = list(string)
  default = [
${addresses}
  ]
}

host "node" {
  for_each         = toset(var.addresses)
  address          = each.value
  private_key_file = "${HOSTS_DIR}/id_ed25519"
  known_hosts_file = "${HOSTS_DIR}/known_hosts"
}

resource "network" "front" {
  for_each = toset(var.addresses)
  host     = host.node[each.key]
  driver   = "bridge"
  subnet   = "10.77.0.0/24"
  mtu      = ${BRIDGE_MTU}
  nat      = false
}
`;
}

class Tsinfra implements Contender {
  readonly id = 'tsinfra';
  private readonly dir: string;
  private hosts = 0;

  constructor(private readonly work: string) {
    this.dir = join(work, 'tsinfra');
  }

  private env(): NodeJS.ProcessEnv {
    // A user's TSINFRA_* (state key, cache switch, variables) would change what is measured.
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TSINFRA_')) env[k] = v;
    return { ...env, NO_COLOR: '1' };
  }

  prepare(fleet: Fleet): void {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'main.hcl'), tsinfraHcl(fleet));
    this.hosts = fleet.hosts.length;
  }

  job(step: Step): Job {
    const n = this.hosts;
    const args = step === 'plan' ? ['plan', this.dir] : ['apply', '--auto-approve', this.dir];
    const want = step === 'first apply' ? new RegExp(`Apply complete! Resources: ${n} added, 0 changed, 0 destroyed\\.`) : /No changes\./;
    return {
      command: process.execPath,
      args: [CLI, ...args],
      env: this.env(),
      cwd: this.work,
      check: (out) => (want.test(out) ? undefined : `output lacks /${want.source}/: ${lastLines(out)}`),
    };
  }

  warmUp(): void {
    run(process.execPath, [CLI, 'validate', this.dir], { env: this.env() });
  }

  verify(fleet: Fleet): string | undefined {
    for (const host of fleet.hosts) {
      const problem = bridgeProblem(linksOf(host), TSINFRA_BRIDGE) ?? modeProblem(join(host.hostDir, 'var/lib/tsinfra/ipam'), 'directory', 0o700);
      if (problem) return `${host.name}: ${problem}`;
    }
    return undefined;
  }

  /**
   * destroy, then stop the resident agent (and supervisor) on each host and empty its
   * directories, then forget the local state: the next apply uploads the agent again.
   */
  reset(fleet: Fleet): void {
    const destroy = run(process.execPath, [CLI, 'destroy', '--auto-approve', this.dir], { env: this.env() });
    if (destroy.status !== 0) console.error(`bench: tsinfra destroy failed (status ${destroy.status}): ${lastLines(destroy.out)}; removing by hand`);
    stopAgents(fleet);
    for (const host of fleet.hosts) {
      for (const l of linksOf(host)) if (TSINFRA_BRIDGE.test(l.ifname)) run('ip', ['-n', host.netns, 'link', 'del', l.ifname]);
      emptyPrivateDirs(host);
    }
    for (const f of ['state.json', 'state.json.backup']) rmSync(join(this.dir, '.tsinfra', f), { force: true });
  }
}

/** Stops the agents tsinfra left on the hosts, by the pids in their pid files. */
function stopAgents(fleet: Fleet): void {
  for (const host of fleet.hosts) {
    const hostNetns = fleet.netnsOf(host);
    for (const file of ['agent.pid', 'supervisor.pid']) {
      const pid = Number(readText(join(host.hostDir, 'run/tsinfra', file))?.trim());
      if (!pid) continue;
      // A pid file may be stale and its pid reused: only an agent inside this host counts.
      const cmdline = readText(`/proc/${pid}/cmdline`) ?? '';
      let netns: string | undefined;
      try {
        netns = readlinkSync(`/proc/${pid}/ns/net`);
      } catch {
        continue;
      }
      if (cmdline.includes('agent.mjs') && netns === hostNetns) stopPid(pid);
    }
  }
}

function emptyPrivateDirs(host: Host): void {
  for (const dir of ['var/lib/tsinfra', 'run/tsinfra']) {
    const full = join(host.hostDir, dir);
    if (existsSync(full)) for (const e of readdirSync(full)) rmSync(join(full, e), { recursive: true, force: true });
  }
}

/** The shell task: checks each property of the bridge and changes only what differs. */
const BRIDGE_SCRIPT = `set -eu
dev=${ANSIBLE_BRIDGE} addr=${BRIDGE_ADDRESS}/${BRIDGE_PREFIX} mtu=${BRIDGE_MTU}
changed=0
# In check mode: say what would change, change nothing.
act() { changed=1; [ "$DRY_RUN" = 1 ] || "$@"; }
if ! link=$(ip -d -o link show dev "$dev" 2>/dev/null); then
  act ip link add name "$dev" mtu "$mtu" type bridge
  if [ "$DRY_RUN" = 1 ]; then echo changed; exit 0; fi
  link=$(ip -d -o link show dev "$dev")
fi
case "$link" in *" bridge "*) ;; *) echo "$dev exists and is not a bridge" >&2; exit 1 ;; esac
case "$link" in *" mtu $mtu "*) ;; *) act ip link set dev "$dev" mtu "$mtu" ;; esac
ip -4 -o addr show dev "$dev" | grep -q " inet $addr " || act ip addr add "$addr" dev "$dev"
echo "$link" | grep -Eq '[<,]UP[,>]' || act ip link set dev "$dev" up
[ "$changed" = 0 ] || echo changed
`;

function playbook(gatherFacts: boolean): string {
  const indent = (text: string, n: number): string =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => ' '.repeat(n) + l)
      .join('\n');
  return `- name: front bridge and its files
  hosts: fleet
${gatherFacts ? '' : '  gather_facts: false\n'}  tasks:
    - name: bridge ${ANSIBLE_BRIDGE}, ${BRIDGE_ADDRESS}/${BRIDGE_PREFIX}, MTU ${BRIDGE_MTU}, up
      ansible.builtin.shell: |
${indent(BRIDGE_SCRIPT, 8)}
      environment:
        DRY_RUN: "{{ ansible_check_mode | ternary('1', '0') }}"
      # Runs in --check too: the script itself changes nothing then.
      check_mode: false
      register: bridge
      changed_when: "'changed' in bridge.stdout_lines"

    - name: state directory
      ansible.builtin.file:
        path: ${ANSIBLE_DIR}
        state: directory
        mode: "0700"

    - name: address record of the bridge
      ansible.builtin.copy:
        dest: ${ANSIBLE_FILE}
        content: '${ANSIBLE_JSON}'
        mode: "0600"
`;
}

/** Per host: ok/changed/unreachable/failed/skipped counts from PLAY RECAP. */
function recapProblem(stdout: string, hosts: readonly Host[], wantChanged: number): string | undefined {
  const at = stdout.lastIndexOf('PLAY RECAP');
  if (at < 0) return `no PLAY RECAP: ${lastLines(stdout)}`;
  const recap = new Map<string, Record<string, number>>();
  for (const line of stdout.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const counts: Record<string, number> = {};
    for (const [, k, v] of m[2]!.matchAll(/(\w+)=(\d+)/g)) counts[k!] = Number(v);
    recap.set(m[1]!, counts);
  }
  const problems: string[] = [];
  for (const h of hosts) {
    const c = recap.get(h.name);
    if (!c) problems.push(`${h.name} not in PLAY RECAP`);
    else if (c['unreachable'] !== 0 || c['failed'] !== 0) problems.push(`${h.name} unreachable=${c['unreachable']} failed=${c['failed']}`);
    else if (c['changed'] !== wantChanged) problems.push(`${h.name} changed=${c['changed']} (want ${wantChanged})`);
    else if (c['skipped'] !== 0) problems.push(`${h.name} skipped=${c['skipped']}`);
  }
  if (!problems.length) return undefined;
  const failedTask = /^fatal: .*$/m.exec(stdout)?.[0];
  return `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}${failedTask ? ` | ${failedTask.slice(0, 300)}` : ''}`;
}

class Ansible implements Contender {
  private readonly dir: string;
  private hostList: Host[] = [];

  constructor(
    readonly id: 'ansibleDefault' | 'ansibleTuned',
    private readonly work: string,
  ) {
    this.dir = join(work, id === 'ansibleDefault' ? 'ansible-default' : 'ansible-tuned');
  }

  private get tuned(): boolean {
    return this.id === 'ansibleTuned';
  }

  /** Shared by both settings: kept short, the control sockets live in it. */
  private get controlDir(): string {
    return join(this.work, 'cp');
  }

  env(): NodeJS.ProcessEnv {
    // Nothing from the user's environment but the basics: no ANSIBLE_* leaks in.
    return {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      ANSIBLE_CONFIG: join(this.dir, 'ansible.cfg'),
      ANSIBLE_HOME: join(this.dir, 'home'),
      ANSIBLE_LOCAL_TEMP: join(this.dir, 'local-tmp'),
      // The fake hosts share the machine's /tmp: the same path works on every host.
      ANSIBLE_REMOTE_TEMP: join(this.dir, 'remote-tmp'),
      ANSIBLE_SSH_CONTROL_PATH_DIR: this.controlDir,
      ANSIBLE_NOCOLOR: '1',
    };
  }

  prepare(fleet: Fleet): void {
    this.hostList = fleet.hosts;
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.controlDir, { recursive: true });
    const ssh = [
      '-o KexAlgorithms=curve25519-sha256',
      `-o UserKnownHostsFile=${HOSTS_DIR}/known_hosts`,
      '-o GlobalKnownHostsFile=/dev/null',
      '-o StrictHostKeyChecking=yes',
      '-o IdentitiesOnly=yes',
    ].join(' ');
    const inventory = [
      '[fleet]',
      ...fleet.hosts.map((h) => `${h.name} ansible_host=${h.address}`),
      '',
      '[fleet:vars]',
      'ansible_user=root',
      'ansible_python_interpreter=/usr/bin/python3',
      `ansible_ssh_private_key_file=${HOSTS_DIR}/id_ed25519`,
      `ansible_ssh_common_args=${ssh}`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, 'inventory.ini'), inventory);
    // Default: nothing tuned (forks 5, no pipelining, ssh's ControlPersist=60s as shipped).
    const cfg = ['[defaults]', `inventory = ${join(this.dir, 'inventory.ini')}`];
    if (this.tuned) cfg.push('forks = 50', '', '[ssh_connection]', 'pipelining = True');
    writeFileSync(join(this.dir, 'ansible.cfg'), cfg.join('\n') + '\n');
    writeFileSync(join(this.dir, 'site.yml'), playbook(!this.tuned));
  }

  job(step: Step): Job {
    const args = [...(step === 'plan' ? ['--check'] : []), join(this.dir, 'site.yml')];
    const hosts = this.hostList;
    return {
      command: ANSIBLE_PLAYBOOK,
      args,
      env: this.env(),
      cwd: this.dir,
      check: (out) => recapProblem(out, hosts, step === 'first apply' ? ANSIBLE_TASKS : 0),
    };
  }

  warmUp(): void {
    run(ANSIBLE_PLAYBOOK, ['--syntax-check', join(this.dir, 'site.yml')], { env: this.env() });
  }

  verify(fleet: Fleet): string | undefined {
    for (const host of fleet.hosts) {
      const file = join(host.hostDir, ANSIBLE_FILE);
      const problem =
        bridgeProblem(linksOf(host), ANSIBLE_BRIDGE) ??
        modeProblem(join(host.hostDir, ANSIBLE_DIR), 'directory', 0o700) ??
        modeProblem(file, 'file', 0o600) ??
        (readText(file) === ANSIBLE_JSON ? undefined : `${file} does not hold the expected JSON`);
      if (problem) return `${host.name}: ${problem}`;
    }
    return undefined;
  }

  reset(fleet: Fleet): void {
    for (const host of fleet.hosts) {
      if (linksOf(host).some((l) => l.ifname === ANSIBLE_BRIDGE)) run('ip', ['-n', host.netns, 'link', 'del', ANSIBLE_BRIDGE]);
      rmSync(join(host.hostDir, 'var/lib/tsinfra/ansible'), { recursive: true, force: true });
    }
    stopSshMasters(this.controlDir);
    for (const d of ['remote-tmp', 'local-tmp']) rmSync(join(this.dir, d), { recursive: true, force: true });
  }
}

/** Ends the ControlPersist masters whose sockets are in `controlDir`. */
function stopSshMasters(controlDir: string): void {
  if (!existsSync(controlDir)) return;
  for (const sock of readdirSync(controlDir)) {
    const path = join(controlDir, sock);
    if (statSync(path, { throwIfNoEntry: false })?.isSocket()) run('ssh', ['-F', '/dev/null', '-o', `ControlPath=${path}`, '-O', 'exit', 'bench-host']);
    rmSync(path, { force: true });
  }
  // A master whose socket is gone no longer answers -O exit: its title names the path.
  for (const p of processTable()) {
    if (p.cmdline.startsWith('ssh: ') && p.cmdline.includes(`${controlDir}/`)) stopPid(p.pid);
  }
}

// ---------------------------------------------------------------- measuring

type Cell = Summary | string;
type Results = Map<string, Record<ToolId, Cell>>;

class FleetBench {
  readonly results: Results = new Map();
  readonly failures: string[] = [];
  /** tsinfra's uncounted first cycle per fleet size, with a cold parse cache. */
  readonly warmUps: string[] = [];
  private logCount = 0;

  constructor(private readonly work: string) {}

  /** One timed run; `error` says why it does not count. */
  async timed(job: Job): Promise<{ sample?: Sample; error?: string }> {
    const n = this.logCount++;
    const stdoutFile = join(this.work, 'logs', `${n}.out`);
    const stderrFile = join(this.work, 'logs', `${n}.err`);
    const sample = await measure(job.command, job.args, { cwd: job.cwd, env: job.env, stdoutFile, stderrFile });
    const stdout = readFileSync(stdoutFile, 'utf8');
    if (sample.exitCode !== 0) return { error: `exit code ${sample.exitCode}: ${lastLines(readFileSync(stderrFile, 'utf8') || stdout)} (log ${stdoutFile})` };
    const wrong = job.check(stdout);
    return wrong ? { error: wrong } : { sample };
  }

  /** One cycle from fresh hosts: the samples of its steps, or why it failed. Leaves the hosts fresh. */
  async cycle(c: Contender, fleet: Fleet, what: string): Promise<{ samples: Map<Step, Sample>; error?: string }> {
    const samples = new Map<Step, Sample>();
    process.stderr.write(`bench: ${fleet.hosts.length} hosts, ${TOOL_LABEL[c.id]}, ${what}:`);
    try {
      for (const step of STEPS) {
        const res = await this.timed(c.job(step));
        const wrongHosts = !res.error && step === 'first apply' ? c.verify(fleet) : undefined;
        const error = res.error ?? (wrongHosts ? `hosts after apply: ${wrongHosts}` : undefined);
        if (error) {
          process.stderr.write(` ${step} FAILED\n`);
          return { samples, error: `failed at ${step}: ${error}` };
        }
        process.stderr.write(` ${step} ${formatMs(res.sample!.wallMs)}`);
        samples.set(step, res.sample!);
      }
      process.stderr.write('\n');
      return { samples };
    } finally {
      c.reset(fleet);
      assertFresh(fleet);
    }
  }

  async measureFleet(fleet: Fleet, contenders: readonly Contender[], opts: Options): Promise<void> {
    const n = fleet.hosts.length;
    const samples = new Map<string, Sample[]>();
    const failed = new Map<ToolId, string>();
    const key = (tool: ToolId, step: Step): string => `${tool}|${step}`;
    const fail = (tool: ToolId, error: string): void => {
      failed.set(tool, error);
      this.failures.push(`${n} hosts, ${TOOL_LABEL[tool]}: ${error}`);
    };
    // tsinfra's parse cache lives in the workspace and is first written by the run after
    // the first apply: one uncounted cycle, so that every counted run finds it as an
    // operator re-running an unchanged configuration does. Shown beside the table.
    for (const c of contenders) {
      if (c.id !== 'tsinfra') continue;
      const warm = await this.cycle(c, fleet, 'warm-up cycle, not counted (new workspace)');
      if (warm.error) fail(c.id, `warm-up cycle ${warm.error}`);
      else this.warmUps.push(`${n} hosts: ${STEPS.map((s) => `${s} ${formatMs(warm.samples.get(s)!.wallMs)}`).join(', ')}`);
    }
    const maxRuns = Math.max(...contenders.map((c) => runsOf(opts, c.id, n)));
    for (let r = 0; r < maxRuns; r++) {
      for (const c of contenders) {
        if (r >= runsOf(opts, c.id, n) || failed.has(c.id)) continue;
        const res = await this.cycle(c, fleet, `run ${r + 1}`);
        if (res.error) fail(c.id, res.error);
        for (const [step, sample] of res.samples) samples.set(key(c.id, step), [...(samples.get(key(c.id, step)) ?? []), sample]);
      }
    }
    for (const step of STEPS) {
      const row = {} as Record<ToolId, Cell>;
      for (const tool of TOOLS) {
        const s = samples.get(key(tool, step));
        // A tool that failed once at this size shows the failure in all its cells, not a median of the rest.
        row[tool] = failed.get(tool) ?? (s?.length ? summarize(s) : 'not measured');
      }
      this.results.set(`${step}, ${n} hosts`, row);
    }
  }
}

// ---------------------------------------------------------------- report

function cellText(c: Cell): string {
  return typeof c === 'string' ? c.split(':')[0]! : formatMs(c.wallMs);
}

function speedup(ts: Cell, other: Cell): number | undefined {
  return typeof ts === 'string' || typeof other === 'string' ? undefined : other.wallMs / ts.wallMs;
}

function renderComparison(results: Results): string {
  const x = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)}x`);
  const body = [...results].map(([label, row]) => [
    label,
    cellText(row.tsinfra),
    cellText(row.ansibleDefault),
    cellText(row.ansibleTuned),
    x(speedup(row.tsinfra, row.ansibleTuned)),
    x(speedup(row.tsinfra, row.ansibleDefault)),
  ]);
  return table(['measurement', 'tsinfra', 'ansible default', 'ansible tuned', 'speed-up vs tuned', 'vs default'], body, new Set([1, 2, 3, 4, 5]));
}

function renderDetails(results: Results): string {
  const body: string[][] = [];
  for (const [label, row] of results) {
    for (const tool of TOOLS) {
      const c = row[tool];
      if (typeof c === 'string') {
        body.push([label, TOOL_LABEL[tool], '-', c.length > 100 ? `${c.slice(0, 100)}...` : c, '', '', '', '']);
        continue;
      }
      body.push([
        label,
        TOOL_LABEL[tool],
        String(c.runs),
        formatMs(c.wallMs),
        `${formatMs(c.wallMinMs)} - ${formatMs(c.wallMaxMs)}`,
        `${c.cpuS.toFixed(2)} s`,
        formatKb(c.peakRssKb),
        String(c.maxProcesses),
      ]);
    }
  }
  return table(['measurement', 'tool', 'runs', 'wall median', 'min-max', 'local CPU', 'peak RSS', 'processes'], body, new Set([2, 3, 5, 6, 7]));
}

function renderTargets(results: Results): string[] {
  const row = (step: Step): Record<ToolId, Cell> | undefined => results.get(`${step}, ${TARGET_HOSTS} hosts`);
  const first = row('first apply');
  const reapply = row('no-op re-apply');
  const plan = row('plan');
  if (!first || !reapply || !plan) return [`Targets at ${TARGET_HOSTS} hosts: not measured (run with --hosts including ${TARGET_HOSTS})`];
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'NOT MEASURED' : ok ? 'met' : 'MISSED');
  const factor = (ts: Cell, other: Cell, want: number, what: string): string => {
    const s = speedup(ts, other);
    return `  ${what} >= ${want}x faster than tuned Ansible: ${s === undefined ? 'n/a' : `${s.toFixed(1)}x`}  ${verdict(s === undefined ? undefined : s >= want)}`;
  };
  const planMs = typeof plan.tsinfra === 'string' ? undefined : plan.tsinfra.wallMs;
  return [
    `Targets at ${TARGET_HOSTS} hosts:`,
    factor(first.tsinfra, first.ansibleTuned, TARGET_FIRST_APPLY_SPEEDUP, 'first apply'),
    factor(reapply.tsinfra, reapply.ansibleTuned, TARGET_REAPPLY_SPEEDUP, 'no-op re-apply'),
    `  tsinfra no-op plan < ${formatMs(TARGET_PLAN_MS)}: ${planMs === undefined ? 'n/a' : formatMs(planMs)}  ${verdict(planMs === undefined ? undefined : planMs < TARGET_PLAN_MS)}`,
  ];
}

function printHeader(ansibleEnv: NodeJS.ProcessEnv, machineBashrc: boolean): void {
  // With the bench's env: even --version makes ~/.ansible/tmp otherwise.
  const ansible = /core ([\d.]+)/.exec(run(ANSIBLE_PLAYBOOK, ['--version'], { env: ansibleEnv }).out)?.[1] ?? '(not found)';
  console.log('tsinfra vs Ansible: a bridge and its files on every host of a fleet, over SSH');
  console.log(
    `node ${process.version}, ansible-core ${ansible}, ${run('ssh', ['-V']).out.split(',')[0]}, ${availableParallelism()} cores, ` +
      `load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(`hosts: ${TESTHOSTS} (a network namespace and a real sshd each, one kernel), kex curve25519-sha256`);
  console.log(
    machineBashrc
      ? "root's ~/.bashrc on the hosts: this machine's (--machine-bashrc; bash reads it for every command sshd runs)"
      : `root's ~/.bashrc on the hosts: Debian's default (${SERVER_BASHRC}); this machine's runs pyenv init, 100 ms per SSH command (--machine-bashrc keeps it)`,
  );
  console.log(`per host: bridge ${BRIDGE_ADDRESS}/${BRIDGE_PREFIX}, MTU ${BRIDGE_MTU}, up, and a 0700 directory under /var/lib/tsinfra`);
  console.log('  tsinfra: network resource (bridge tsi-..., empty ipam/ directory), its agent uploaded over SFTP on a fresh host;');
  console.log(`  ansible: shell task (ip, changes only what differs), file ${ANSIBLE_DIR} 0700, copy ${ANSIBLE_FILE} 0600`);
  console.log('  ansible default: forks 5, no pipelining, facts gathered; tuned: forks 50, pipelining, gather_facts false;');
  console.log('  both keep ssh ControlPersist=60s. plan = tsinfra plan / ansible-playbook --check.\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('bench: the test hosts need root');
  if (!existsSync(ANSIBLE_PLAYBOOK)) throw new Error(`bench: ${ANSIBLE_PLAYBOOK} is missing (apt-get install ansible-core)`);
  if (!existsSync(join(REPO, 'dist', 'cli', 'commands'))) throw new Error('bench: dist/ is not built; run `npm run bench:fleet` (it builds first)');
  ensureGnuTime();

  // Short: ssh control sockets live in it, and a socket path holds at most 107 bytes.
  const work = mkdtempSync(join(tmpdir(), 'tsbf-'));
  mkdirSync(join(work, 'logs'));
  const fleet = new Fleet();
  const ansibleDefault = new Ansible('ansibleDefault', work);
  const contenders: Contender[] = [new Tsinfra(work), ansibleDefault, new Ansible('ansibleTuned', work)];
  onCleanUp(() => (opts.keep ? console.log(`\nwork directory kept: ${work}`) : rmSync(work, { recursive: true, force: true })));
  onCleanUp(() => fleet.down());
  onCleanUp(() => {
    stopSshMasters(join(work, 'cp'));
    if (fleet.hosts.length) stopAgents(fleet);
  });
  onCleanUp(killDescendants);
  cleanUpOnSignals();

  printHeader(ansibleDefault.env(), opts.machineBashrc);
  const bench = new FleetBench(work);
  const started = Date.now();
  try {
    for (const n of opts.hosts) {
      fleet.start(n, opts.machineBashrc);
      try {
        for (const c of contenders) c.prepare(fleet);
        for (const c of contenders) c.warmUp();
        await bench.measureFleet(fleet, contenders, opts);
      } finally {
        stopSshMasters(join(work, 'cp'));
        stopAgents(fleet);
        fleet.down();
      }
    }
  } finally {
    cleanUp();
  }

  console.log('Medians of wall time; speed-up = Ansible ÷ tsinfra (above 1: tsinfra is faster).\n');
  console.log(renderComparison(bench.results));
  console.log('\nDetails (local CPU: user+sys of the tool and the children it waited for, not the hosts)\n');
  console.log(renderDetails(bench.results));
  if (bench.warmUps.length) {
    console.log('\ntsinfra in a new workspace (its uncounted warm-up cycle: no parse cache yet; the first apply');
    console.log('does not write it, the run after it does):');
    for (const w of bench.warmUps) console.log(`  ${w}`);
  }
  console.log(`\n${renderTargets(bench.results).join('\n')}`);
  console.log(`\nbench took ${formatMs(Date.now() - started)}`);
  if (bench.failures.length) {
    console.log('\nFAILED runs (not timed):');
    for (const f of bench.failures) console.log(`  ${f}`);
    return 1;
  }
  return 0;
}

runBench(main);
