// What a bench must undo on every way out (test hosts, agents, scratch directories):
// at its end, on a failure, and on Ctrl-C, where only synchronous code still runs.
const pending: Array<() => void> = [];

/** Registers a cleanup; `cleanUp` runs the latest first. */
export function onCleanUp(cleanup: () => void): void {
  pending.push(cleanup);
}

/** Runs (and forgets) every cleanup, latest first; one that throws does not stop the others. */
export function cleanUp(): void {
  while (pending.length) {
    try {
      pending.pop()!();
    } catch (e) {
      console.error(`bench: cleanup: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** SIGINT, SIGTERM and SIGHUP clean up and exit with 130. */
export function cleanUpOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}: cleaning up`);
      cleanUp();
      console.error('bench: cleaned up');
      process.exit(130);
    });
  }
}

/** Runs a bench's main and exits with its code; a throw is printed, cleaned up after, and exits 1. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      cleanUp();
      process.exit(1);
    },
  );
}
