// A command running on the host over one SSH exec channel: its streams and how it ended.
// With sudo the command runs as `sudo -n -- COMMAND`: -n makes sudo fail at once instead
// of asking for a password nobody can type, and we recognise its message on stderr.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { AgentError } from '../types.js';

export interface RemoteExit {
  /** Exit status; null when the command was killed by a signal or the exit is unknown. */
  readonly code: number | null;
  readonly signal: string | null;
  /** Why it did not run or did not finish: E_SUDO_PASSWORD, E_SUDO_MISSING, E_SUDO_DENIED, E_SSH_LOST. */
  readonly error?: AgentError;
}

/** Everything a remote command needs to report its failures. */
export interface RemoteContext {
  /** `host.web`. */
  readonly host: string;
  /** `host.web (root@10.0.0.5:22)`. */
  readonly who: string;
  readonly user: string;
  /** The connection's loss, if it was lost. */
  readonly lost: () => AgentError | undefined;
}

/** How much of stderr is kept to recognise sudo's own messages. */
const SNIFF_BYTES = 4096;

export class RemoteProcess {
  /** What the command reads (its stdin): end() it to send EOF. */
  readonly stdin: Writable;
  /** What the command writes to its stdout. */
  readonly stdout: Readable;
  /** The command's stderr. It is always drained from the channel; read it or it is buffered here. */
  readonly stderr: Readable;
  /**
   * Settles once the channel has closed; never rejects. ssh2 closes a channel only after
   * its stdout has been read to the end, so read (or resume()) stdout.
   */
  readonly exit: Promise<RemoteExit>;

  constructor(
    readonly channel: ClientChannel,
    readonly command: string,
    sudo: boolean,
    ctx: RemoteContext,
  ) {
    this.stdin = channel;
    this.stdout = channel;
    // A write after the command ended must not crash the process: failures show in `exit`.
    channel.on('error', () => undefined);
    const stderr = new PassThrough();
    this.stderr = stderr;
    let head = '';
    // Drained by us (not piped) so that an unread stderr never stalls the channel's
    // window, which stdout shares.
    channel.stderr.on('data', (chunk: Buffer) => {
      if (head.length < SNIFF_BYTES) head += chunk.toString('utf8', 0, SNIFF_BYTES - head.length);
      stderr.write(chunk);
    });
    channel.stderr.on('end', () => stderr.end());
    let code: number | null = null;
    let signal: string | null = null;
    let exited = false;
    channel.on('exit', (c: number | null, s?: string) => {
      exited = true;
      code = typeof c === 'number' ? c : null;
      signal = typeof s === 'string' ? s : null;
    });
    this.exit = new Promise<RemoteExit>((resolve) => {
      channel.on('close', () => {
        if (!stderr.writableEnded) stderr.end();
        const error = (sudo && code !== 0 ? sudoError(head, code, ctx) : undefined) ?? (exited ? undefined : ctx.lost());
        resolve({ code, signal, ...(error ? { error } : {}) });
      });
    });
  }

  /** Asks sshd to signal the command, then closes the channel. */
  kill(signal: 'TERM' | 'KILL' = 'TERM'): void {
    try {
      this.channel.signal(signal);
    } catch {
      // channel already closed
    }
    this.channel.close();
  }
}

function sudoError(stderr: string, code: number | null, ctx: RemoteContext): AgentError | undefined {
  const make = (c: string, msg: string) => new AgentError(c, `${ctx.who}: ${msg}`, ctx.host, { stderr: stderr.trim() });
  if (/^sudo: (a )?password is required|^sudo: a terminal is required|^sudo: no tty present/m.test(stderr)) {
    return make(
      'E_SUDO_PASSWORD',
      `sudo wants a password for ${ctx.user}, and tsinfra runs sudo non-interactively (sudo -n). Allow the command without a password in sudoers (${ctx.user} ALL=(root) NOPASSWD: ...), or connect as root`,
    );
  }
  if (/is not in the sudoers file|is not allowed to (run|execute)|may not run sudo/m.test(stderr)) {
    return make('E_SUDO_DENIED', `sudo does not allow ${ctx.user} to run this command as root: ${firstLine(stderr)}`);
  }
  if (code === 127 && /sudo: (command )?not found|sudo: No such file/m.test(stderr)) {
    return make('E_SUDO_MISSING', 'sudo = true, but sudo is not installed on the host');
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/** POSIX shell quoting of one word, for the remote user's shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line sent to sshd: an argv array is quoted; sudo prefixes `sudo -n --`. */
export function commandLine(command: string | readonly string[], sudo: boolean): string {
  const line = typeof command === 'string' ? command : command.map(shellQuote).join(' ');
  return sudo ? `sudo -n -- ${line}` : line;
}
