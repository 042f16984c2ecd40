// The real-kernel scenarios every CgroupManager must pass, written once against the
// interface: cgroup-v1.test.ts runs them on this machine's v1 hierarchies and
// test/vm/cgroups-v2.test.ts runs them under pure cgroup v2 in the VM tier. Each host
// says which limits it can enforce and which files must show them.
//
// Cleanup: every process is started by the test (and killed by pid), every cgroup lives
// under a random `tsit-<hex>` parent that `after` removes, also when a test failed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitDev } from '../../../../agent/runtime/cgroups/block-devices.js';
import { mknod } from '../../../../agent/runtime/libc.js';
import { DEFAULT_DEVICE_RULES, type CgroupLimits, type CgroupManager } from '../../../../agent/runtime/cgroups/cgroup-manager.js';

/** The whole disk (not a partition) that holds `path`, as /dev/NAME: throttles apply to disks. */
export async function diskOf(path: string): Promise<{ path: string; dev: string }> {
  const { dev } = await stat(path, { bigint: true });
  const { major, minor } = splitDev(dev);
  let sys = await realpath(`/sys/dev/block/${major}:${minor}`);
  if (await stat(join(sys, 'partition')).catch(() => undefined)) sys = dirname(sys);
  const name = /^DEVNAME=(.+)$/m.exec(await readFile(join(sys, 'uevent'), 'utf8'))![1]!;
  return { path: `/dev/${name}`, dev: (await readFile(join(sys, 'dev'), 'utf8')).trim() };
}

export function randomParent(): string {
  return `tsit-${randomBytes(4).toString('hex')}`;
}

export interface HandChange {
  /** A file of the cgroup (looked up in each of its directories). */
  readonly file: string;
  readonly value: string;
  /** What observe() must then report, for the attributes that changed. */
  readonly drift: CgroupLimits;
}

export interface ScenarioHost {
  readonly manager: CgroupManager;
  /** Every attribute this host can enforce, with values that need rounding where the kernel rounds. */
  readonly limits: CgroupLimits;
  /** Cgroup file -> the value (trimmed) it must hold once `limits` are set. */
  expectedFiles(id: string): Promise<Record<string, string>>;
  readonly handChanges: readonly HandChange[];
  /** Limits for the memory hog: 32M of memory and no swap where the host can say so. */
  readonly oomLimits: CgroupLimits;
}

/** The first of the cgroup's directories that holds `file`. */
export async function cgroupFile(manager: CgroupManager, id: string, file: string): Promise<string> {
  for (const dir of manager.paths(id)) {
    try {
      await readFile(join(dir, file));
      return join(dir, file);
    } catch {
      // not in this hierarchy
    }
  }
  return assert.fail(`cgroup ${id} has no ${file}`);
}

export async function readCgroupFile(manager: CgroupManager, id: string, file: string): Promise<string> {
  return (await readFile(await cgroupFile(manager, id, file), 'utf8')).trim();
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Processes the tests start; `killAll` kills each of them by pid. */
export class TestProcesses {
  private readonly started: ChildProcess[] = [];

  /** Starts argv; with `join`, the process first moves itself into the cgroup's procs files, then execs argv. */
  start(argv: readonly string[], join?: { manager: CgroupManager; id: string }): ChildProcess {
    const wrapped = join ? ['sh', '-c', 'for f in $TSIT_PROCS; do echo $$ > "$f" || exit 99; done; exec "$@"', 'sh', ...argv] : argv;
    const child = spawn(wrapped[0]!, wrapped.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TSIT_PROCS: join ? join.manager.procsFiles(join.id).join(' ') : '' },
    });
    this.started.push(child);
    return child;
  }

  exited(child: ChildProcess): Promise<Exit> {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.resume();
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode, stderr });
      else child.once('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
  }

  async killAll(): Promise<void> {
    for (const child of this.started) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      const gone = this.exited(child);
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
      await gone;
    }
  }
}

async function alive(pid: number): Promise<boolean> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function defineCgroupScenarios(name: string, host: () => ScenarioHost): void {
  describe(name, () => {
    const processes = new TestProcesses();
    const created = new Set<string>();
    let scratch: string | undefined;

    const create = async (id: string) => {
      created.add(id);
      await host().manager.create(id);
      return host().manager;
    };

    after(async () => {
      const manager = host().manager;
      await processes.killAll();
      for (const id of created) {
        // Thawed first: a frozen process only dies of SIGKILL once it runs again.
        if (await manager.isFrozen(id).catch(() => false)) await manager.thaw(id);
        await manager.killAll(id).catch(() => undefined);
        await manager.destroy(id);
      }
      await manager.destroyParent();
      for (const parentDir of manager.paths('any').map((dir) => join(dir, '..'))) {
        assert.equal(await readFile(join(parentDir, 'cgroup.procs')).catch(() => 'gone'), 'gone', `${parentDir} removed`);
      }
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('creates a cgroup idempotently and tells whether it exists', async () => {
      const manager = host().manager;
      assert.equal(await manager.exists('created'), false);
      await create('created');
      await manager.create('created');
      assert.equal(await manager.exists('created'), true);
      assert.deepEqual(await manager.pids('created'), []);
    });

    it('sets every attribute the host can enforce and the files show it', async () => {
      const manager = await create('limits');
      await manager.set('limits', host().limits);
      for (const [file, expected] of Object.entries(await host().expectedFiles('limits'))) {
        assert.equal(await readCgroupFile(manager, 'limits', file), expected, file);
      }
    });

    it('observes the recorded values unchanged, and a file changed by hand as drift', async () => {
      const manager = await create('drift');
      const limits = host().limits;
      await manager.set('drift', limits);
      assert.deepEqual(await manager.observe('drift', limits), limits, 'kernel rounding is not drift');
      for (const change of host().handChanges) {
        await manager.set('drift', limits);
        await writeFile(await cgroupFile(manager, 'drift', change.file), change.value);
        assert.deepEqual(await manager.observe('drift', limits), { ...limits, ...change.drift }, `${change.file} = ${change.value}`);
      }
    });

    it('puts attributes that are no longer set back to unlimited', async () => {
      const manager = await create('reset');
      await manager.set('reset', host().limits);
      await manager.set('reset', {});
      assert.deepEqual(await manager.observe('reset', {}), {});
      assert.equal(await readCgroupFile(manager, 'reset', 'pids.max'), 'max');
      assert.deepEqual(await manager.observe('reset', host().limits), {}, 'every recorded limit shows as removed');
    });

    it('updates limits in place while a process runs in the cgroup', async () => {
      const manager = await create('inplace');
      await manager.set('inplace', { memory: 64 << 20, pidsLimit: 32, cpuShares: 512 });
      const sleeper = processes.start(['sleep', '1000']);
      await manager.addProcess('inplace', sleeper.pid!);
      assert.deepEqual(await manager.pids('inplace'), [sleeper.pid]);
      const raised = { memory: 128 << 20, pidsLimit: 64, cpuShares: 1024 };
      await manager.set('inplace', raised);
      assert.deepEqual(await manager.observe('inplace', raised), raised);
      assert.deepEqual(await manager.pids('inplace'), [sleeper.pid], 'same process, still there');
      assert.equal(await alive(sleeper.pid!), true);
      await manager.set('inplace', { memory: 32 << 20 });
      assert.deepEqual(await manager.observe('inplace', {}), { memory: 32 << 20 });
      for (const file of manager.procsFiles('inplace')) assert.match(await readFile(file, 'utf8'), new RegExp(`^${sleeper.pid}$`, 'm'), file);
    });

    it('freezes and thaws the processes', async () => {
      const manager = await create('freeze');
      scratch ??= await mkdtemp(join(tmpdir(), 'tsit-cgroup-'));
      const counter = join(scratch, 'counter');
      // One process that rewrites a counter every 20 ms: frozen, the counter stands still.
      const perl = 'my $i = 0; while (1) { open(my $f, ">", $ARGV[0]) or die; print $f $i++; close($f); select(undef, undef, undef, 0.02) }';
      const child = processes.start(['perl', '-e', perl, counter], { manager, id: 'freeze' });
      const read = async () => Number(await readFile(counter, 'utf8').catch(() => '-1'));
      await waitFor('the counter to start', async () => (await read()) > 0);
      assert.equal(await manager.isFrozen('freeze'), false);
      await manager.freeze('freeze');
      assert.equal(await manager.isFrozen('freeze'), true);
      const frozenAt = await read();
      await sleep(300);
      assert.equal(await read(), frozenAt, 'no progress while frozen');
      assert.equal(await alive(child.pid!), true);
      await manager.thaw('freeze');
      assert.equal(await manager.isFrozen('freeze'), false);
      await waitFor('the counter to move again', async () => (await read()) > frozenAt);
    });

    it('reports cpu, memory, pids and block I/O', async () => {
      const manager = await create('stats');
      await manager.set('stats', { memory: 256 << 20 });
      scratch ??= await mkdtemp(join(tmpdir(), 'tsit-cgroup-'));
      const file = join(scratch, 'direct-io');
      // Burns a little CPU, writes 1 MiB past the page cache, keeps a second process alive.
      const script = `i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; dd if=/dev/zero of="$0" bs=64k count=16 oflag=direct 2>/dev/null; sleep 1000 & echo > "$0.done"; wait`;
      const child = processes.start(['sh', '-c', script, file], { manager, id: 'stats' });
      await waitFor('the write and a second process', async () => (await readFile(`${file}.done`).catch(() => undefined)) !== undefined);
      await waitFor('two processes', async () => (await manager.pids('stats')).length === 2);
      const stats = await manager.stats('stats');
      assert.ok(stats.cpuUsageNs > 0, `cpu ${stats.cpuUsageNs}`);
      assert.ok(stats.memoryUsage > 0, `memory ${stats.memoryUsage}`);
      assert.equal(stats.memoryLimit, 256 << 20);
      assert.equal(stats.pids, 2);
      assert.ok(stats.blockWriteBytes >= 1 << 20, `written ${stats.blockWriteBytes}`);
      assert.equal(stats.oomKills, 0);
      assert.ok(child.pid);
    });

    it('OOM-kills a memory hog inside its limit', async () => {
      const manager = await create('oom');
      await manager.set('oom', host().oomLimits);
      // perl allocates and fills 256 MiB of anonymous memory at once.
      const hog = processes.start(['perl', '-e', '$x = "a" x (256 * 1024 * 1024); print length($x)'], { manager, id: 'oom' });
      const exit = await processes.exited(hog);
      assert.equal(exit.signal, 'SIGKILL', `hog exit: ${JSON.stringify(exit)}`);
      assert.ok((await manager.stats('oom')).oomKills >= 1);
    });

    it('denies devices outside the allow-list', async () => {
      const manager = await create('devices');
      scratch ??= await mkdtemp(join(tmpdir(), 'tsit-cgroup-'));
      // /dev/kmsg's numbers (char 1:11): on every kernel, harmless to open, not in the default list.
      const kmsg = join(scratch, 'kmsg');
      mknod(kmsg, 0o020600, 1, 11);
      const script = 'head -c1 /dev/urandom > /dev/null || exit 1; true < /dev/null || exit 2; true < "$0" || exit 3';
      const control = await processes.exited(processes.start(['sh', '-c', script, kmsg]));
      assert.equal(control.code, 0, `outside the cgroup the node opens: ${control.stderr}`);
      await manager.setDevices('devices', DEFAULT_DEVICE_RULES);
      await manager.setDevices('devices', DEFAULT_DEVICE_RULES); // re-applying replaces
      const inside = await processes.exited(processes.start(['sh', '-c', script, kmsg], { manager, id: 'devices' }));
      assert.equal(inside.code, 3, `urandom and null allowed, kmsg denied: ${inside.stderr}`);
      assert.match(inside.stderr, /Operation not permitted/);
      await manager.setDevices('devices', [...DEFAULT_DEVICE_RULES, { type: 'c', major: 1, minor: 11, access: 'r' }]);
      const allowed = await processes.exited(processes.start(['sh', '-c', script, kmsg], { manager, id: 'devices' }));
      assert.equal(allowed.code, 0, `allowed once listed: ${allowed.stderr}`);
    });

    it('refuses to destroy a cgroup with processes, kills them all, then destroys it', async () => {
      const manager = await create('destroy');
      const parent = processes.start(['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], { manager, id: 'destroy' });
      await waitFor('three processes', async () => (await manager.pids('destroy')).length === 3);
      await assert.rejects(manager.destroy('destroy'), (e: Error & { code?: string }) => e.code === 'E_CGROUP_BUSY' && /still has processes/.test(e.message));
      await manager.killAll('destroy');
      assert.deepEqual(await manager.pids('destroy'), []);
      assert.equal((await processes.exited(parent)).signal, 'SIGKILL');
      await manager.destroy('destroy');
      assert.equal(await manager.exists('destroy'), false);
      await manager.destroy('destroy'); // absent is fine
      created.delete('destroy');
    });
  });
}
