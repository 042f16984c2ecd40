// A container's log: JSON lines (`{"time","stream","log"}`, one per line the process
// wrote) in `container.log`, rotated by size into `container.log.1` .. `.N`. Readers get
// the last lines across the rotated files and, when following, the new ones as written.
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputEvent } from '../rpc/protocol.js';

export const LOG_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_MAX_FILES = 3;

interface Entry {
  time: string;
  stream: 'stdout' | 'stderr';
  log: string;
}

export class ContainerLog {
  private fd: number | undefined;
  private size = 0;
  private readonly events = new EventEmitter();

  constructor(
    private readonly dir: string,
    private readonly maxBytes = LOG_MAX_BYTES,
    private readonly maxFiles = LOG_MAX_FILES,
  ) {
    this.events.setMaxListeners(0);
  }

  private get path(): string {
    return join(this.dir, 'container.log');
  }

  write(stream: 'stdout' | 'stderr', line: string): void {
    const entry: Entry = { time: new Date().toISOString(), stream, log: line };
    const bytes = Buffer.from(JSON.stringify(entry) + '\n');
    if (this.fd === undefined) this.open();
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd!, bytes);
    this.size += bytes.length;
    this.events.emit('entry', toEvent(entry));
  }

  /** The last `tail` entries (all when undefined), oldest first. */
  read(tail?: number): OutputEvent[] {
    const out: OutputEvent[] = [];
    for (let i = this.maxFiles - 1; i >= 0; i--) {
      const file = i === 0 ? this.path : `${this.path}.${i}`;
      if (!existsSync(file)) continue;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          out.push(toEvent(JSON.parse(line) as Entry));
        } catch {
          // a line cut short by a crash
        }
      }
    }
    return tail === undefined ? out : out.slice(Math.max(0, out.length - tail));
  }

  /** Calls `listener` for each new entry until the returned function is called. */
  follow(listener: (e: OutputEvent) => void): () => void {
    this.events.on('entry', listener);
    return () => this.events.off('entry', listener);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i}`);
    }
    this.open();
  }
}

function toEvent(e: Entry): OutputEvent {
  return { time: e.time, stream: e.stream, data: e.log };
}
