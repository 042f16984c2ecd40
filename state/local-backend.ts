// The local backend: state in DIR/.tsinfra/state.json, lock in DIR/.tsinfra/state.lock.
//
// Writes are atomic, so that at every instant a complete state.json exists:
//   1. write state.json.tmp-<pid>-<rand> (0600), fsync it
//   2. on the first write of this backend: hard-link state.json to a temp name and
//      rename that over state.json.backup (copy when links are unsupported); the
//      backup is thus the state as it was before this run, as with Terraform
//   3. rename the temp file over state.json, fsync the directory
// A crash leaves at worst a stray tmp file, which readState never looks at.
//
// Locking: the lock file is created exclusively and holds the holder's LockInfo. It is
// never broken automatically, not even when its holder is dead: the state that holder
// left may be half-applied, and a human should look before going on (force-unlock).
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, copyFile, link, mkdir, open, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiagnosticError, hasErrors, type Diagnostic } from '../plan-engine/diagnostics.js';
import { newLockInfo, StateLockedError, type Backend, type LockHandle, type LockInfo, type LockRequest } from './backend.js';
import { StateKey } from './encryption.js';
import type { State } from './model.js';
import { parseStateFile, serializeState } from './statefile.js';

export const STATE_DIR_NAME = '.tsinfra';
export const STATE_FILE_NAME = 'state.json';
export const BACKUP_FILE_NAME = 'state.json.backup';
export const LOCK_FILE_NAME = 'state.lock';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export interface LocalBackendOptions {
  /** The configuration directory; state goes to DIR/.tsinfra. */
  readonly dir: string;
  /** The state key: absent means TSINFRA_STATE_KEY; null means none. */
  readonly stateKey?: StateKey | string | null;
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function ioError(code: string, summary: string, e: unknown): DiagnosticError {
  const d: Diagnostic = { severity: 'error', code, summary, detail: e instanceof Error ? e.message : String(e) };
  return new DiagnosticError([d]);
}

function tmpSuffix(): string {
  return `tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** True when a process with this pid exists on this machine (EPERM: exists, not ours). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

export class LocalBackend implements Backend {
  readonly stateDir: string;
  readonly statePath: string;
  readonly backupPath: string;
  readonly lockPath: string;
  private readonly key: StateKey | undefined;
  private backupDone = false;

  constructor(opts: LocalBackendOptions) {
    this.stateDir = join(resolve(opts.dir), STATE_DIR_NAME);
    this.statePath = join(this.stateDir, STATE_FILE_NAME);
    this.backupPath = join(this.stateDir, BACKUP_FILE_NAME);
    this.lockPath = join(this.stateDir, LOCK_FILE_NAME);
    const k = opts.stateKey;
    if (k === undefined) this.key = StateKey.fromEnv();
    else if (k === null || k === '') this.key = undefined;
    else this.key = typeof k === 'string' ? new StateKey(k) : k;
  }

  describe(): string {
    return `local state file ${this.statePath}`;
  }

  async readState(): Promise<State | null> {
    let text: string;
    try {
      text = await readFile(this.statePath, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return null;
      throw ioError('E_STATE_READ', `Cannot read state file ${this.statePath}`, e);
    }
    // Tighten modes a user or an older tool loosened; reading someone else's state may not allow it.
    await this.tightenModes().catch(() => undefined);
    const r = await parseStateFile(text, this.statePath, { key: this.key });
    if (hasErrors(r.diagnostics) || !r.value) throw new DiagnosticError(r.diagnostics);
    return r.value;
  }

  async writeState(s: State): Promise<void> {
    const text = await serializeState(s, { key: this.key });
    try {
      await this.ensureDir();
      await this.replaceStateFile(text);
    } catch (e) {
      if (e instanceof DiagnosticError) throw e;
      throw ioError('E_STATE_WRITE', `Cannot write state file ${this.statePath}`, e);
    }
  }

  async lock(req: LockRequest): Promise<LockHandle> {
    const info = newLockInfo(req);
    const dirExisted = await stat(this.stateDir).then(
      () => true,
      () => false,
    );
    try {
      await this.ensureDir();
    } catch (e) {
      throw ioError('E_STATE_LOCK_IO', `Cannot create the state directory ${this.stateDir}`, e);
    }
    const created = await this.createLockFile(JSON.stringify(info, null, 2) + '\n');
    if (!created) {
      const held = await this.readLock();
      if (!held) return this.lock(req); // released between our attempt and the read
      const local = held.who.slice(held.who.lastIndexOf('@') + 1) === hostname();
      throw new StateLockedError(held, this.lockPath, local && !processAlive(held.pid));
    }
    let released = false;
    return {
      info,
      unlock: async () => {
        if (released) return;
        released = true;
        // Only our own lock: after a force-unlock another run may hold a new one.
        const cur = await this.readLock().catch(() => undefined);
        if (cur?.id === info.id) await unlink(this.lockPath).catch((e) => ignore(e, 'ENOENT'));
        // A run that wrote nothing leaves no trace: remove the directory it made for the lock.
        if (!dirExisted) await rmdir(this.stateDir).catch(() => undefined);
      },
    };
  }

  async forceUnlock(id: string): Promise<void> {
    const held = await this.readLock();
    if (!held) {
      throw new DiagnosticError([{ severity: 'error', code: 'E_STATE_NOT_LOCKED', summary: `State is not locked (no ${this.lockPath})` }]);
    }
    if (held.id !== id) {
      throw new DiagnosticError([
        {
          severity: 'error',
          code: 'E_STATE_LOCK_ID_MISMATCH',
          summary: `Lock ID ${id} does not match the current lock, ${held.id}`,
          detail:
            `The state is locked by ${held.who} (pid ${held.pid}) for "${held.operation}" since ${held.created}. ` +
            'It may be a newer lock than the one you meant to release; check before unlocking it.',
        },
      ]);
    }
    await unlink(this.lockPath).catch((e) => ignore(e, 'ENOENT'));
  }

  // ---- files ----

  /** Creates DIR/.tsinfra (0700), tightening the modes of what exists. */
  private async ensureDir(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: DIR_MODE });
    await this.tightenModes();
  }

  private async tightenModes(): Promise<void> {
    await tighten(this.stateDir, DIR_MODE);
    await tighten(this.statePath, FILE_MODE);
    await tighten(this.backupPath, FILE_MODE);
  }

  private async replaceStateFile(text: string): Promise<void> {
    const tmp = `${this.statePath}.${tmpSuffix()}`;
    try {
      await writeDurably(tmp, text);
      if (!this.backupDone) {
        await this.keepBackup();
        this.backupDone = true;
      }
      await rename(tmp, this.statePath);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await syncDir(this.stateDir);
  }

  /** Makes state.json.backup the current state.json, without a moment where either is partial. */
  private async keepBackup(): Promise<void> {
    const tmp = `${this.backupPath}.${tmpSuffix()}`;
    try {
      try {
        await link(this.statePath, tmp);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') return; // no previous state
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw e;
        await copyFile(this.statePath, tmp, fsConstants.COPYFILE_EXCL);
      }
      await chmod(tmp, FILE_MODE);
      await rename(tmp, this.backupPath);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  // ---- lock file ----

  /**
   * Creates the lock file exclusively (O_EXCL); false when it exists. The content is
   * written right after creation, so readLock tolerates a briefly empty file.
   */
  private async createLockFile(content: string): Promise<boolean> {
    let fh;
    try {
      fh = await open(this.lockPath, 'wx', FILE_MODE);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false;
      throw ioError('E_STATE_LOCK_IO', `Cannot create lock file ${this.lockPath}`, e);
    }
    try {
      await fh.chmod(FILE_MODE);
      await fh.writeFile(content);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(this.lockPath).catch(() => undefined);
      throw ioError('E_STATE_LOCK_IO', `Cannot write lock file ${this.lockPath}`, e);
    }
    await fh.close();
    return true;
  }

  /** The current lock, undefined when there is none; throws DiagnosticError when it is unreadable. */
  private async readLock(): Promise<LockInfo | undefined> {
    let lastProblem = '';
    // A lock being created is empty for an instant; give its writer a moment.
    for (let attempt = 0; attempt < 10; attempt++) {
      let text: string;
      try {
        text = await readFile(this.lockPath, 'utf8');
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') return undefined;
        throw ioError('E_STATE_LOCK_IO', `Cannot read lock file ${this.lockPath}`, e);
      }
      const info = parseLockInfo(text);
      if (info) return info;
      lastProblem = text.trim() === '' ? 'it is empty' : 'it does not hold lock information';
      await sleep(20);
    }
    throw new DiagnosticError([
      {
        severity: 'error',
        code: 'E_STATE_LOCK_UNREADABLE',
        summary: `State is locked, but lock file ${this.lockPath} is unreadable: ${lastProblem}`,
        detail: `If no tsinfra run is active, delete ${this.lockPath} by hand.`,
      },
    ]);
  }
}

function parseLockInfo(text: string): LockInfo | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const id = str('id');
  if (id === undefined || typeof o['pid'] !== 'number') return undefined;
  return {
    id,
    who: str('who') ?? 'unknown',
    operation: str('operation') ?? 'unknown',
    created: str('created') ?? 'unknown time',
    pid: o['pid'],
    version: str('version') ?? 'unknown',
  };
}

function ignore(e: unknown, code: string): void {
  if (errnoCode(e) !== code) throw e;
}

/** chmod to `mode` when the current mode grants more; absent paths are fine. */
async function tighten(path: string, mode: number): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    ignore(e, 'ENOENT');
    return;
  }
  if ((st.mode & 0o777 & ~mode) !== 0) await chmod(path, mode);
}

async function writeDurably(path: string, text: string): Promise<void> {
  const fh = await open(path, 'wx', FILE_MODE);
  try {
    await fh.chmod(FILE_MODE); // the umask may have taken bits we need; never more than 0600
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so a rename in it survives a power loss. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
    if (errnoCode(e) !== 'EINVAL' && errnoCode(e) !== 'EISDIR') throw e;
  } finally {
    await fh.close();
  }
}
