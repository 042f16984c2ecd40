// The agent's log: stderr (the engine shows its tail when the agent dies) and,
// when the state directory is writable, an append-only file that records every
// command that changed the host, with its argv.
import { closeSync, openSync, writeSync } from 'node:fs';

export interface AgentLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A command that changes the host (ip link add, nft -f, ...). */
  command(argv: readonly string[], stdin?: string): void;
}

/** A log that drops everything: for in-process tests. */
export const silentLog: AgentLog = {
  info() {},
  warn() {},
  error() {},
  command() {},
};

export class AgentFileLog implements AgentLog {
  private fd: number | undefined;

  /** `file` undefined or not openable: stderr only. */
  constructor(
    private readonly stderr: NodeJS.WritableStream,
    file: string | undefined,
  ) {
    if (file === undefined) return;
    try {
      this.fd = openSync(file, 'a', 0o600);
    } catch (e) {
      this.write('warn', `cannot open log file ${file}: ${(e as Error).message}`);
    }
  }

  info(message: string): void {
    this.write('info', message);
  }
  warn(message: string): void {
    this.write('warn', message);
  }
  error(message: string): void {
    this.write('error', message);
  }
  command(argv: readonly string[], stdin?: string): void {
    const shown = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
    this.write('exec', stdin === undefined ? shown : `${shown} <<< ${JSON.stringify(stdin)}`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private write(level: string, message: string): void {
    const line = `${new Date().toISOString()} ${process.pid} ${level} ${message}\n`;
    this.stderr.write(line);
    if (this.fd === undefined) return;
    try {
      writeSync(this.fd, line);
    } catch {
      // A full disk must not take the agent down; stderr still has the line.
    }
  }
}
