// Where state lives. The engine and CLI see only this interface: the local file backend
// implements it today, a postgres backend (`backend "postgres" {...}`) can later.
//
// Protocol of a run that changes state:
//   const lock = await backend.lock({ operation: 'apply', version })   // StateLockedError if held
//   try { s = await backend.readState(); ... await backend.writeState(s') ... }
//   finally { await lock.unlock() }
// readState/writeState do not check the lock themselves: the caller holds it.
import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { DiagnosticError, type Diagnostic } from '../plan-engine/diagnostics.js';
import type { State } from './model.js';

/** Who holds a lock, since when, for what: stored with the lock and shown on contention. */
export interface LockInfo {
  /** A uuid; `tsinfra force-unlock ID` must name it. */
  readonly id: string;
  /** user@hostname */
  readonly who: string;
  /** plan, apply, destroy, state mv, ... */
  readonly operation: string;
  /** ISO 8601 time the lock was taken. */
  readonly created: string;
  readonly pid: number;
  /** tsinfra version of the holder. */
  readonly version: string;
}

export interface LockRequest {
  readonly operation: string;
  /** tsinfra version of the caller. */
  readonly version: string;
}

export interface LockHandle {
  readonly info: LockInfo;
  /** Releases the lock if it is still ours (it may have been force-unlocked); idempotent. */
  unlock(): Promise<void>;
}

export interface Backend {
  /** The stored state, or null when there is none yet. Throws DiagnosticError when it cannot be read. */
  readState(): Promise<State | null>;
  /** Stores the state as given: the serial is the caller's to set (see StateWriter). */
  writeState(s: State): Promise<void>;
  /** Takes the lock, or throws StateLockedError when someone holds it. */
  lock(req: LockRequest): Promise<LockHandle>;
  /** Removes the lock when its id is `id`; throws DiagnosticError otherwise. */
  forceUnlock(id: string): Promise<void>;
  /** Where the state lives, for messages ("local state file /srv/x/.tsinfra/state.json"). */
  describe(): string;
}

/** A LockInfo for this process. */
export function newLockInfo(req: LockRequest): LockInfo {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env['USER'] ?? `uid${process.getuid?.() ?? '?'}`;
  }
  return {
    id: randomUUID(),
    who: `${user}@${hostname()}`,
    operation: req.operation,
    created: new Date().toISOString(),
    pid: process.pid,
    version: req.version,
  };
}

/**
 * The state is locked by another run. A DiagnosticError (code E_STATE_LOCKED) whose
 * message says who holds the lock, since when, for which operation, and its id.
 */
export class StateLockedError extends DiagnosticError {
  static readonly code = 'E_STATE_LOCKED';

  constructor(
    readonly lock: LockInfo,
    /** Where the lock lives (a file path, a table), for the detail. */
    readonly where: string,
    /** The holder ran on this machine and its process is gone. */
    readonly holderGone: boolean = false,
  ) {
    super([lockedDiagnostic(lock, where, holderGone)]);
    this.name = 'StateLockedError';
  }

  /** Recognises the error even across duplicate copies of this module. */
  static is(e: unknown): e is StateLockedError {
    return e instanceof Error && e.name === 'StateLockedError' && 'lock' in e;
  }
}

function lockedDiagnostic(lock: LockInfo, where: string, holderGone: boolean): Diagnostic {
  const holder = `${lock.who} (pid ${lock.pid}, tsinfra ${lock.version})`;
  // For the local backend, name the configuration directory so the command works from anywhere.
  const dir = /^(.*)\/\.tsinfra\/state\.lock$/.exec(where)?.[1];
  const unlock = `tsinfra force-unlock ${dir ? `--dir ${dir} ` : ''}${lock.id}`;
  const summary = holderGone
    ? `State is locked by ${lock.who} for "${lock.operation}" since ${lock.created}, ` +
      `but that process (pid ${lock.pid}) seems to have died; lock ID ${lock.id}`
    : `State is locked by ${lock.who} for "${lock.operation}" since ${lock.created}; lock ID ${lock.id}`;
  const detail = holderGone
    ? `The lock at ${where} was taken by ${holder}, which is no longer running on this machine. ` +
      `A crashed run may have left the state half-written; check it, then release the lock with:\n  ${unlock}`
    : `Another run of tsinfra, by ${holder}, is using the state at ${where}. Wait for it to finish. ` +
      `If you are sure no run is active, release the lock with:\n  ${unlock}`;
  return { severity: 'error', code: StateLockedError.code, summary, detail };
}
