// When a container that exited is started again, per its restart policy: the delay
// starts at 100 ms and doubles on every restart, capped at one minute, and starts over
// once the container has stayed up for 10 s (as Docker does).
export type RestartPolicyName = 'no' | 'on-failure' | 'always' | 'unless-stopped';

export interface RestartPolicy {
  readonly policy: RestartPolicyName;
  /** on-failure only; undefined = no limit. */
  readonly maxRetries?: number;
}

export const BACKOFF_INITIAL_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
export const BACKOFF_RESET_AFTER_MS = 10_000;

/** Whether an exit calls for a restart. `stoppedByUser` exits never restart. `exitCode` null: unknown (an adopted container). */
export function shouldRestart(p: RestartPolicy, exitCode: number | null, retriesSoFar: number, stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  switch (p.policy) {
    case 'no':
      return false;
    case 'on-failure':
      return exitCode !== 0 && (p.maxRetries === undefined || retriesSoFar < p.maxRetries);
    case 'always':
    case 'unless-stopped':
      return true;
  }
}

export class Backoff {
  private nextMs = BACKOFF_INITIAL_MS;

  /** The delay before the next restart, given how long the container ran this time. */
  next(uptimeMs: number): number {
    if (uptimeMs >= BACKOFF_RESET_AFTER_MS) this.nextMs = BACKOFF_INITIAL_MS;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, BACKOFF_MAX_MS);
    return delay;
  }

  reset(): void {
    this.nextMs = BACKOFF_INITIAL_MS;
  }
}
