// Child processes and /proc for the benches that drive test hosts: run a command and
// keep its output, stop a process by pid, and end what this process started when a run
// is cut short.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** Runs a command to its end; `out` holds stdout, stderr and a spawn error, in that order. */
export function run(command: string, args: readonly string[], opts: RunOptions = {}): { status: number | null; out: string } {
  const r = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
  });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** The last `n` lines of a command's output on one line, for an error message. */
export function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' / ');
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; only ever by pid. */
export function stopPid(pid: number, graceMs = 3000): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < graceMs && alive(pid); waited += 20) sleepSync(20);
  try {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Pids in /proc with their parent pid and command line ("" when unreadable). */
export function processTable(): Array<{ pid: number; ppid: number; cmdline: string }> {
  const out: Array<{ pid: number; ppid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = readText(`/proc/${pid}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    out.push({ pid, ppid, cmdline: (readText(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ') });
  }
  return out;
}

/**
 * Ends what this process started and is still running (a run cut short by a signal),
 * deepest first, and removes the scratch directory of the measurement they belonged to
 * (measure.ts's own cleanup does not run when the process exits from a signal handler).
 */
export function killDescendants(): void {
  const table = processTable();
  const mine = new Set([process.pid]);
  const ordered: Array<{ pid: number; cmdline: string }> = [];
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table) {
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        ordered.push(p);
        grew = true;
      }
    }
  }
  for (const { pid, cmdline } of ordered.reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    const scratch = /^\/usr\/bin\/time .* -o (\S+\/tsinfra-bench-time-[^/ ]+)\/time\.txt /.exec(cmdline)?.[1];
    if (scratch?.startsWith(`${tmpdir()}/`)) rmSync(scratch, { recursive: true, force: true });
  }
}
