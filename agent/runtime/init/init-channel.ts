// The init's end of its pipes to the supervisor: blocking reads and writes on the main
// thread (fs.readSync/writeSync run on the calling thread, never on libuv's pool, which
// matters once the main thread has entered namespaces the other threads are not in).
import { openSync, readSync, writeSync } from 'node:fs';
import { fromInit, toInit, type FromInit, type ToInit } from './init-protocol.js';

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
    const outFd = openSync(outPath, 'w');
    const inFd = openSync(inPath, 'r');
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
        return toInit.parse(JSON.parse(line));
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
    const line = Buffer.from(JSON.stringify(fromInit.parse(message)) + '\n');
    let off = 0;
    while (off < line.length) off += writeSync(this.outFd, line, off);
  }
}
