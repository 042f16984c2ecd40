// The init's end of its pipes to the supervisor: blocking reads and writes on the main
// thread (fs.readSync/writeSync run on the calling thread, never on libuv's pool, which
// matters once the main thread has entered namespaces the other threads are not in).
import { constants, openSync, readSync, writeSync } from 'node:fs';
import { setBlocking } from '../libc.js';
import type { FromInit, ToInit } from './init-protocol.js';

export class InitChannel {
  private buffered = '';

  constructor(
    private readonly inFd: number,
    private readonly outFd: number,
  ) {}

  /**
   * Opens the two FIFOs the supervisor made (it holds their other ends open already, so
   * neither open blocks). The init opens them itself, close-on-exec, rather than
   * inheriting them: `unshare`, its parent, would otherwise keep copies open, and the
   * supervisor could not see the end of the channel that tells it execve happened.
   */
  static open(inPath: string, outPath: string): InitChannel {
    // Non-blocking opens: with the supervisor gone they fail (ENXIO) or read end-of-file at
    // once instead of waiting forever for a peer; then blocking I/O as usual.
    const outFd = openSync(outPath, constants.O_WRONLY | constants.O_NONBLOCK);
    const inFd = openSync(inPath, constants.O_RDONLY | constants.O_NONBLOCK);
    setBlocking(outFd);
    setBlocking(inFd);
    return new InitChannel(inFd, outFd);
  }

  /** The next message, or undefined when the supervisor closed its end. */
  receive(): ToInit | undefined {
    const chunk = Buffer.alloc(64 * 1024);
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const message = JSON.parse(line) as ToInit;
        if (typeof message !== 'object' || message === null || typeof message.type !== 'string')
          throw new Error('bug: the supervisor sent a message without a type');
        return message;
      }
      let n: number;
      try {
        n = readSync(this.inFd, chunk, 0, chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) return undefined;
      this.buffered += chunk.toString('utf8', 0, n);
    }
  }

  send(message: FromInit): void {
    const line = Buffer.from(JSON.stringify(message) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(this.outFd, line, off);
  }
}
