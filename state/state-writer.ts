// Serialises state writes during apply. Resources complete concurrently and each asks
// for the state to be persisted; writes must not interleave, and the serial must count
// real changes only.
//
//   persist(s1) ─┐            ┌─ write s1 (serial n+1) ─┐
//   persist(s2) ─┼─> pending ─┤                         ├─ write s3 (serial n+2)
//   persist(s3) ─┘            └─ (s2 superseded by s3) ─┘
//
// Every persist hands over the whole state, so while a write runs only the newest
// state waits: it contains the changes of the ones it replaced. It is copied when its
// write starts. A persist resolves once a write containing its changes is on disk (or
// rejects with that write's error).
import type { Backend } from './backend.js';
import { cloneState, statesEqual, type State } from './model.js';

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class StateWriter {
  private written: State | null;
  private pending: { state: State; waiters: Waiter[] } | undefined;
  private running: Promise<void> | undefined;
  private lastError: unknown;
  private failed = false;

  /**
   * @param backend where to write
   * @param stored the state as it is in the backend now (null when there is none):
   *   the baseline for "changed" and for the next serial
   */
  constructor(
    private readonly backend: Backend,
    stored: State | null,
  ) {
    this.written = stored ? cloneState(stored) : null;
  }

  /** The state last written (or the stored one), with the serial it was written with. */
  get current(): State | null {
    return this.written ? cloneState(this.written) : null;
  }

  /**
   * Queues a write of `state`. The state is copied when its write starts, not now:
   * callers hand over their live state after every change, and copying a 10,000
   * resource state once per change made apply quadratic. A caller must therefore not
   * hand over an object it later changes in a way it does not want written.
   * Writes with serial = previous + 1 when the content changed; does nothing otherwise.
   */
  persist(state: State): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.state = state;
        this.pending.waiters.push({ resolve, reject });
      } else {
        this.pending = { state, waiters: [{ resolve, reject }] };
      }
      this.running ??= this.drain();
    });
  }

  /**
   * Waits until every queued write is done. Rejects when the last write failed, so that
   * after a successful flush the backend holds the latest persisted state.
   */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.failed) throw this.lastError;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        const { state, waiters } = this.pending;
        this.pending = undefined;
        try {
          await this.writeIfChanged(cloneState(state));
          this.failed = false;
          for (const w of waiters) w.resolve();
        } catch (e) {
          this.failed = true;
          this.lastError = e;
          for (const w of waiters) w.reject(e);
        }
      }
    } finally {
      this.running = undefined;
    }
  }

  private async writeIfChanged(state: State): Promise<void> {
    const prev = this.written;
    if (prev && statesEqual(prev, state)) return;
    state.serial = (prev?.serial ?? state.serial) + 1;
    await this.backend.writeState(state);
    this.written = state;
  }
}
