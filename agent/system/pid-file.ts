// One daemon per run directory (the supervisor, the resident agent): a pid file taken
// with O_EXCL. The pid in a file is trusted only while /proc/PID/cmdline is still the
// program that wrote it, since pids are reused; the fake test hosts even share one
// process table, so a name match alone would hit another host's daemon.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isEntryCommandLine, type EntryPoint } from '../entry-points.js';

export type Daemon = EntryPoint | 'agent';

export interface PidFileHolder {
  readonly pid: number;
  /** Its /proc/PID/cmdline, NUL-separated: which build it runs. */
  readonly cmdline: string;
}

/** The live process that holds the pid file, if any. */
export function pidFileHolder(path: string, daemon: Daemon): PidFileHolder | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return isEntryCommandLine(cmdline, daemon) ? { pid, cmdline } : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the pid file for this process; false when a live `daemon` holds it. A stale file is taken over. */
export function takePidFile(path: string, daemon: Daemon): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (pidFileHolder(path, daemon)) return false;
    rmSync(path, { force: true });
  }
  return false;
}

/** Whether the pid file still names this process (a successor may have taken it). */
export function holdsPidFile(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === String(process.pid);
  } catch {
    return false;
  }
}

/** This process's own command line, to compare with a holder's: the same build runs the same file. */
export function ownCommandLine(): string {
  return readFileSync('/proc/self/cmdline', 'utf8');
}

/** SIGTERM to `holder`, then waits up to `timeoutMs` for it to be gone. True when it is. */
export async function retire(holder: PidFileHolder, timeoutMs: number): Promise<boolean> {
  try {
    process.kill(holder.pid, 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isSameProcess(holder)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !isSameProcess(holder);
}

function isSameProcess(holder: PidFileHolder): boolean {
  try {
    return readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8') === holder.cmdline;
  } catch {
    return false;
  }
}
