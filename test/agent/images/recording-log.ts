// An AgentLog that keeps its lines, to count what the store did (layers unpacked, ...).
import type { AgentLog } from '../../../agent/log.js';

export class RecordingLog implements AgentLog {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`info ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error ${m}`);
  }
  command(argv: readonly string[]): void {
    this.lines.push(`exec ${argv.join(' ')}`);
  }
  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }
}
