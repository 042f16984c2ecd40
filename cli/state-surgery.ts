// How `state mv`, `state rm` and `state push` change the state by hand:
//
//   lock (unless --lock=false) -> read -> the command computes the new state (errors: stop,
//   nothing written) -> copy the stored file to DIR/.tsinfra/state.json.<ISO time>.backup
//   (0600) -> write the new state with a higher serial -> unlock
//
// The timestamped copy is kept on top of the backend's own state.json.backup (which a
// later run overwrites), so that every surgery can be undone by `state push --force`.
import { Flags } from '@oclif/core';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DiagnosticError, type Diagnostic } from '../plan-engine/diagnostics.js';
import { TSINFRA_VERSION } from '../plan-engine/version.js';
import type { LockHandle } from '../state/backend.js';
import { LocalBackend, STATE_FILE_NAME } from '../state/local-backend.js';
import type { State } from '../state/model.js';

export const surgeryFlags = {
  dir: Flags.directory({ description: 'Configuration directory; the state is DIR/.tsinfra/state.json.', default: '.' }),
  lock: Flags.boolean({ description: 'Lock the state while changing it (--lock=false to skip).', default: true, allowNo: true }),
};

export const dryRunFlag = {
  'dry-run': Flags.boolean({ description: 'Show what would change; write nothing.', default: false }),
};

export interface SurgeryOptions {
  /** For the lock: `state mv`, `state rm`, `state push`. */
  readonly operation: string;
  readonly lock: boolean;
  /** Proceed when the stored state cannot be read (push --force replaces a damaged file). */
  readonly allowUnreadable?: boolean;
}

export interface Committed {
  /** The timestamped copy of the previous state file; undefined when there was none. */
  readonly backupPath: string | undefined;
  readonly previousSerial: number | undefined;
  readonly serial: number;
}

export class StateSurgery {
  private constructor(
    readonly backend: LocalBackend,
    private readonly lock: LockHandle | undefined,
    /** The stored state; null when there is none (or it is unreadable and that was allowed). */
    readonly stored: State | null,
    /** Why the stored state could not be read, when allowUnreadable let us go on. */
    readonly unreadable: readonly Diagnostic[],
  ) {}

  static async begin(dir: string, opts: SurgeryOptions): Promise<StateSurgery> {
    const backend = new LocalBackend({ dir });
    const lock = opts.lock ? await backend.lock({ operation: opts.operation, version: TSINFRA_VERSION }) : undefined;
    try {
      let stored: State | null = null;
      let unreadable: readonly Diagnostic[] = [];
      try {
        stored = await backend.readState();
      } catch (e) {
        if (!(opts.allowUnreadable && e instanceof DiagnosticError)) throw e;
        unreadable = e.diagnostics;
      }
      return new StateSurgery(backend, lock, stored, unreadable);
    } catch (e) {
      await lock?.unlock();
      throw e;
    }
  }

  /**
   * Keeps a timestamped copy of the stored file, then writes `next`. The serial written is
   * next.serial, raised past the stored one when needed: the serial only moves forward,
   * so saved plans made before the surgery are refused.
   */
  async commit(next: State): Promise<Committed> {
    const backupPath = await this.keepTimestampedCopy();
    const previousSerial = this.stored?.serial;
    const serial = previousSerial === undefined ? next.serial : Math.max(next.serial, previousSerial + 1);
    await this.backend.writeState({ ...next, serial });
    return { backupPath, previousSerial, serial };
  }

  async close(): Promise<void> {
    await this.lock?.unlock();
  }

  /** Copies state.json byte for byte (encrypted values stay encrypted) to a new 0600 file. */
  private async keepTimestampedCopy(): Promise<string | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.backend.statePath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new DiagnosticError([
        { severity: 'error', code: 'E_STATE_BACKUP', summary: `Cannot read ${this.backend.statePath} to back it up`, detail: (e as Error).message },
      ]);
    }
    for (;;) {
      const path = join(this.backend.stateDir, `${STATE_FILE_NAME}.${new Date().toISOString()}.backup`);
      try {
        await writeNewFile(path, bytes);
        return path;
      } catch (e) {
        // Two surgeries within one millisecond (possible with --lock=false): take the next one.
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          await sleep(2);
          continue;
        }
        throw new DiagnosticError([
          { severity: 'error', code: 'E_STATE_BACKUP', summary: `Cannot write the backup ${path}; the state was not changed`, detail: (e as Error).message },
        ]);
      }
    }
  }
}

/** Creates `path` exclusively, 0600, and makes it durable before the state is replaced. */
async function writeNewFile(path: string, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(path, { force: true });
    throw e;
  }
  await fh.close();
}

/** "State serial 3 -> 4." (or "State serial 1." for a first state) */
export function serialLine(c: Committed): string {
  return c.previousSerial === undefined ? `State serial ${c.serial}.` : `State serial ${c.previousSerial} -> ${c.serial}.`;
}
