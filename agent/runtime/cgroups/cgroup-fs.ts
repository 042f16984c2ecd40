// Reading and writing cgroup files. Every write is one write(2) of one value, as the
// kernel wants (devices.allow, io.max and cgroup.procs take one entry per write), and a
// refused write becomes an AgentFailure that names the cgroup, the file and the value.
import { access, readFile, readdir, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentFailure } from '../../rpc/failure.js';

const HINTS: Record<string, string> = {
  EINVAL: 'the kernel refused the value',
  EBUSY: 'the cgroup is busy (for a memory limit: usage cannot be brought under it)',
  ENOSPC: 'no CPUs or memory nodes are assigned to the cgroup',
  EPERM: 'not permitted (the agent must run as root)',
  EACCES: 'not permitted (the agent must run as root)',
  ESRCH: 'no such process',
  EOPNOTSUPP: 'not supported by this kernel',
};

/** The file's contents, trimmed. */
export async function readText(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

/** The file's contents, or undefined when the file does not exist. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readText(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `value` to `file`. `what` names the cgroup and attribute for the message
 * ("cgroup tsinfra/abc: memory").
 */
export async function writeValue(file: string, value: string, what: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT') {
      if (!(await exists(dirname(file)))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${what}: cgroup ${dirname(file)} does not exist (create it first)`);
      throw new AgentFailure('E_CGROUP_UNSUPPORTED', `${what}: this host's kernel has no ${basename(file)} in ${dirname(file)}`);
    }
    const hint = HINTS[code] ?? (e as Error).message;
    throw new AgentFailure('E_CGROUP_WRITE_FAILED', `${what}: writing ${JSON.stringify(value)} to ${file} failed: ${code} (${hint})`, { file, value, code });
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as numbers. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out.set(key, Number(value));
  }
  return out;
}

/** The pids listed in a cgroup.procs file; a missing file is an empty cgroup. */
export async function readPids(procsFile: string): Promise<number[]> {
  const text = await readOptional(procsFile);
  return (text ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/** Polls `done` every `intervalMs` until it holds; false when `timeoutMs` ran out first. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number, intervalMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/**
 * Removes a cgroup directory and its sub-cgroups, deepest first (a container may have
 * made its own inside its cgroup namespace). ENOENT is success. EBUSY right after the
 * last process exited is retried a few times, as runc does: the kernel frees the css
 * asynchronously. Returns the errno code of a final failure.
 */
export async function removeCgroupDir(dir: string): Promise<string | undefined> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) {
      const failed = await removeCgroupDir(join(dir, entry.name));
      if (failed) return failed;
    }
  }
  let delay = 10;
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return undefined;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'ENOENT') return undefined;
      if (code !== 'EBUSY' || attempt >= 5) return code;
      await sleep(delay);
      delay *= 2;
    }
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
