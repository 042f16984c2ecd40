// The processes of a cgroup, sub-cgroups included (a container may create its own
// inside its cgroup namespace), and killing them all; shared by v1 and v2.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentFailure } from '../../rpc/failure.js';
import { readPids, waitUntil } from './cgroup-fs.js';

const KILL_TIMEOUT_MS = 10_000;

/** Pids in the cgroup directories `dirs` and every sub-cgroup, sorted, no duplicates. */
export async function pidsUnder(dirs: readonly string[]): Promise<number[]> {
  const found = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    for (const pid of await readPids(join(dir, 'cgroup.procs'))) found.add(pid);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // removed meanwhile
    }
    for (const entry of entries) if (entry.isDirectory()) await walk(join(dir, entry.name));
  };
  for (const dir of dirs) await walk(dir);
  return [...found].sort((a, b) => a - b);
}

/** SIGKILL to each pid; one that is gone already is fine. */
export function sigkill(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

/**
 * Kills what `list` returns until it returns nothing (a process may fork between the
 * listing and the signal). E_CGROUP_BUSY when processes survive, e.g. stuck in the kernel.
 */
export async function killUntilEmpty(what: string, list: () => Promise<number[]>): Promise<void> {
  let left: number[] = [];
  const empty = await waitUntil(
    async () => {
      left = await list();
      sigkill(left);
      return left.length === 0;
    },
    KILL_TIMEOUT_MS,
    20,
  );
  if (!empty) {
    throw new AgentFailure(
      'E_CGROUP_BUSY',
      `${what}: processes ${left.join(', ')} are still there ${KILL_TIMEOUT_MS / 1000} s after SIGKILL (stuck in the kernel?)`,
    );
  }
}

/** What freezeAndKill needs of a cgroup manager. */
interface Freezable {
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  pids(id: string): Promise<number[]>;
}

/**
 * SIGKILL to every process while the cgroup is frozen, so nothing forks between the
 * listing and the signal (the kills land on thaw). A cgroup that cannot be frozen (a task
 * stuck in the kernel) is left to killUntilEmpty.
 */
export async function freezeAndKill(cgroups: Freezable, id: string): Promise<void> {
  try {
    await cgroups.freeze(id);
  } catch {
    return;
  }
  try {
    sigkill(await cgroups.pids(id));
  } finally {
    await cgroups.thaw(id);
  }
}
