// Points fds 0, 1 and 2 at /dev/null, so that the SSH channel that started an agent sees
// the end of its output while the process stays (resident.ts), and nothing can later be
// written to a dead pipe or land on a file that took one of those numbers.
//
// Node.js has no dup2, and loading koffi for it costs about 7 ms of CPU per host at the
// end of every fresh host's session. So this uses the old daemon idiom instead: close the
// descriptor, then open /dev/null, which gets the lowest free number, the one just closed.
// That holds as long as no other thread opens a file in between. In Node.js only libuv's
// thread pool does that on our behalf (fs calls, DNS lookups), so the swap waits until no
// such request is in flight, then runs in one synchronous step. koffi's dup2 remains the
// fallback when the pool stays busy.
import { closeSync, openSync } from 'node:fs';

/** In-flight requests whose work on libuv's pool may open a file descriptor. */
const OPENS_ON_POOL = /^(FSReq|FileHandle|GetAddrInfo|GetNameInfo)/;
const WAIT_STEP_MS = 10;
const MAX_WAIT_MS = 1000;

export async function releaseStdio(): Promise<'swapped' | 'dup2'> {
  for (let waited = 0; waited < MAX_WAIT_MS; waited += WAIT_STEP_MS) {
    if (!process.getActiveResourcesInfo().some((name) => OPENS_ON_POOL.test(name))) {
      swapOntoDevNull();
      return 'swapped';
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
  const { dup2 } = await import('../runtime/libc.js');
  const devNull = openSync('/dev/null', 'r+');
  for (const fd of [0, 1, 2]) dup2(devNull, fd);
  closeSync(devNull);
  return 'dup2';
}

function swapOntoDevNull(): void {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
    } catch (e) {
      // Already closed: then it is free for /dev/null all the same.
      if ((e as NodeJS.ErrnoException).code !== 'EBADF') throw e;
    }
    const got = openSync('/dev/null', 'r+');
    // Cannot happen while nothing else opens files; if it did, `fd` now belongs to
    // someone else and staying would let stray output reach it.
    if (got !== fd) {
      closeSync(got);
      throw new Error(`/dev/null opened as fd ${got}, not ${fd}: another thread opened a file meanwhile`);
    }
  }
}
