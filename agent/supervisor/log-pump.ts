// Moves what a container writes to its stdout/stderr FIFOs into its JSON log, one entry
// per line. The read ends are non-blocking; the container's own read-write opens keep
// the FIFOs alive, so a supervisor restart loses nothing that fits in the pipe buffer.
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { ContainerLog } from './log-files.js';

const MAX_LINE = 64 * 1024;

export class LogPump {
  private readonly sockets: Socket[] = [];

  constructor(
    private readonly log: ContainerLog,
    fifos: Record<'stdout' | 'stderr', string>,
  ) {
    for (const stream of ['stdout', 'stderr'] as const) {
      const fd = openSync(fifos[stream], constants.O_RDONLY | constants.O_NONBLOCK);
      const socket = new Socket({ fd, readable: true, writable: false });
      let partial = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        partial += chunk;
        let nl: number;
        while ((nl = partial.indexOf('\n')) >= 0) {
          this.log.write(stream, partial.slice(0, nl));
          partial = partial.slice(nl + 1);
        }
        if (partial.length > MAX_LINE) {
          this.log.write(stream, partial);
          partial = '';
        }
      });
      socket.on('end', () => {
        if (partial) this.log.write(stream, partial);
        partial = '';
      });
      socket.on('error', () => undefined);
      this.sockets.push(socket);
    }
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
  }
}
