// Container start benchmark, side by side in one run: `tsinfra apply` of busybox
// containers against `runc run` of the same rootfs (runc from Debian, the yardstick), and
// the supervisor's memory with 100 idle containers.
//
// Everything runs in a throw-away network namespace with agent directories and a cgroup
// parent of its own, removed at the end, also on failure.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(REPO, 'bin', 'run.js');
const RUNS = Number(process.env['BENCH_CONTAINER_RUNS'] || 3);

interface Lab {
  readonly dir: string;
  readonly netns: string;
  readonly env: NodeJS.ProcessEnv;
  readonly cgroupParent: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function ms(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`;
}

async function tsinfra(lab: Lab, args: string[]): Promise<number> {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { env: lab.env, encoding: 'utf8' });
  const elapsed = performance.now() - t0;
  if (r.status !== 0) throw new Error(`tsinfra ${args.join(' ')} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return elapsed;
}

function config(lab: Lab, image: string, count: number): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${lab.netns}"
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
${
  count > 0
    ? `resource "container" "c" {
  count   = ${count}
  host    = host.lab
  image   = image.busybox.id
  command = ["sleep", "3600"]
  # sleep as pid 1 ignores SIGTERM: do not wait for it between runs
  stop_timeout = "100ms"
}`
    : ''
}
`;
}

async function applyContainers(lab: Lab, image: string, count: number): Promise<number> {
  writeFileSync(join(lab.dir, 'main.hcl'), config(lab, image, count));
  return tsinfra(lab, ['apply', '--auto-approve', '--parallelism', '20', lab.dir]);
}

function supervisorPid(lab: Lab): number | undefined {
  try {
    return Number(readFileSync(join(lab.env['TSINFRA_AGENT_RUN_DIR']!, 'supervisor.pid'), 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

function supervisorLog(lab: Lab): string {
  try {
    return readFileSync(join(lab.env['TSINFRA_AGENT_STATE_DIR']!, 'supervisor.log'), 'utf8');
  } catch {
    return '';
  }
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

async function runcLoop(bundle: string, root: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `tsibench-${process.pid}-${i}`;
    const t0 = performance.now();
    const r = spawnSync('runc', ['--root', root, 'run', '--bundle', bundle, id], { encoding: 'utf8' });
    times.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`runc run failed: ${r.stderr}`);
  }
  return times;
}

async function makeRuncBundle(work: string): Promise<string> {
  const bundle = join(work, 'bundle');
  await run('bash', [join(REPO, 'scripts', 'build-test-image.sh'), join(bundle, 'rootfs'), '--format', 'rootfs']);
  await run('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean } };
  spec.process.args = ['/bin/true'];
  spec.process.terminal = false;
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

function cleanupCgroups(parent: string): void {
  for (const c of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', c, parent);
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) {
      if (!child.isDirectory()) continue;
      try {
        for (const pid of readFileSync(join(dir, child.name, 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter(Boolean))
          process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const c of readdirSync('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', c, parent);
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) rmdirSync(join(dir, child.name), { recursive: false });
    rmdirSync(dir);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'tsibench-containers-'));
  const netns = `tsit-${randomBytes(4).toString('hex')}`;
  const cgroupParent = `tsit-${randomBytes(4).toString('hex')}`;
  const lab: Lab = {
    dir: join(work, 'cfg'),
    netns,
    cgroupParent,
    env: {
      ...process.env,
      NO_COLOR: '1',
      TSINFRA_CACHE: '0',
      TSINFRA_AGENT_STATE_DIR: join(work, 'state'),
      TSINFRA_AGENT_RUN_DIR: join(work, 'run'),
      TSINFRA_CGROUP_PARENT: cgroupParent,
    },
  };
  await run('mkdir', ['-p', lab.dir]);
  await run('ip', ['netns', 'add', netns]);
  try {
    console.log('container start: tsinfra apply vs runc run (same busybox rootfs)');
    console.log(
      `node ${process.version}, ${cpus().length} cores, load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    const image = join(work, 'busybox.tar');
    await run('bash', [join(REPO, 'scripts', 'build-test-image.sh'), image, '--format', 'oci']);
    const bundle = await makeRuncBundle(work);
    const runcRoot = join(work, 'runc-state');

    // The image is imported once, untimed, as an operator's first apply would.
    await applyContainers(lab, image, 0);

    const rows: [string, string, string][] = [];
    const runcOne = await runcLoop(bundle, runcRoot, 10);
    for (const n of [1, 20]) {
      const applyTimes: number[] = [];
      const startPaths: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const logBefore = supervisorLog(lab).length;
        applyTimes.push(await applyContainers(lab, image, n));
        startPaths.push(
          ...[
            ...supervisorLog(lab)
              .slice(logBefore)
              .matchAll(/started in ([\d.]+) ms/g),
          ].map((m) => Number(m[1])),
        );
        await applyContainers(lab, image, 0);
      }
      const runcTimes: number[] = [];
      for (let i = 0; i < RUNS; i++) runcTimes.push((await runcLoop(bundle, runcRoot, n)).reduce((a, b) => a + b, 0));
      const a = median(applyTimes);
      const r = median(runcTimes);
      rows.push([`${n} container${n > 1 ? 's' : ''}: whole \`tsinfra apply\` -> running`, ms(a), `${ms(r)} (runc run x${n})  ratio ${(a / r).toFixed(1)}x`]);
      const perRunc = r / n;
      if (n === 1) {
        // From the supervisor's log: request received -> the command exec'd (a warm init).
        const sp = median(startPaths);
        rows.push(['1 container: supervisor start path (median)', ms(sp), `${ms(perRunc)} (runc run)  ratio ${(sp / perRunc).toFixed(1)}x`]);
      } else {
        rows.push([`${n} containers: per container (whole apply / ${n})`, ms(a / n), `${ms(perRunc)} (runc run)  ratio ${(a / n / perRunc).toFixed(1)}x`]);
      }
    }
    rows.push(['runc run of /bin/true, median of 10', '', ms(median(runcOne))]);

    // Supervisor memory with 100 idle containers.
    await applyContainers(lab, image, 100);
    await new Promise((res) => setTimeout(res, 1000));
    const pid = supervisorPid(lab);
    const rss = pid ? rssKb(pid) : 0;
    rows.push(['supervisor RSS with 100 idle containers', `${(rss / 1024).toFixed(1)} MiB`, 'target < 80 MB']);
    await applyContainers(lab, image, 0);

    const w0 = Math.max(...rows.map((x) => x[0].length));
    const w1 = Math.max(...rows.map((x) => x[1].length), 'tsinfra'.length);
    console.log(`${'measurement'.padEnd(w0)}  ${'tsinfra'.padEnd(w1)}  runc`);
    for (const [k, a, b] of rows) console.log(`${k.padEnd(w0)}  ${a.padEnd(w1)}  ${b}`);
  } finally {
    spawnSync(process.execPath, [BIN, 'destroy', '--auto-approve', lab.dir], { env: lab.env });
    const pid = supervisorPid(lab);
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    cleanupCgroups(cgroupParent);
    await run('ip', ['netns', 'del', netns]).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
