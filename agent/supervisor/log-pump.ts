// Moves what a container writes to its stdout/stderr FIFOs into its JSON log, one entry
// per line. Both sides open the FIFOs read-write: neither ever sees the other's end go
// away, so output survives a supervisor restart (up to the pipe buffer) and the pump
// stays open across the container's restarts, catching even a process that writes one
// line and exits at once.
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { ContainerLog } from './log-files.js';

const MAX_LINE = 64 * 1024;

export class LogPump {
  private readonly sockets: Socket[] = [];
  private readonly partial = { stdout: '', stderr: '' };

  constructor(
    private readonly log: ContainerLog,
    fifos: Record<'stdout' | 'stderr', string>,
  ) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const fd = openSync(fifos[stream], constants.O_RDWR | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: true, writable: false });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        this.partial[stream] += chunk;
        let nl: number;
        while ((nl = this.partial[stream].indexOf('\n')) >= 0) {
          this.log.write(stream, this.partial[stream].slice(0, nl));
          this.partial[stream] = this.partial[stream].slice(nl + 1);
        }
        if (this.partial[stream].length > MAX_LINE) this.flush();
      });
      socket.on('error', () => undefined);
      this.sockets.push(socket);
    }
  }

  /** Writes out a last line that had no newline (the process exited). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.log.write(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  close(): void {
    this.flush();
    for (const s of this.sockets) s.destroy();
  }
}
