// Runs a POSIX sh script on a host over one SSH exec channel: `sh -s` (with sudo:
// `sudo -n -- sh -s`) reads the script from stdin, so no quoting has to survive the login
// shell, whatever it is. Values are put into scripts with shellQuote.
import type { Client, ClientChannel } from 'ssh2';
import { AgentError } from '../types.js';

export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ScriptOptions {
  /** `host.web`, for messages. */
  readonly host: string;
  readonly sudo: boolean;
  /** What the script does, for messages: "check the agent". */
  readonly what: string;
  readonly timeoutMs: number;
}

/** Output beyond this is dropped (scripts print a few lines; a runaway one must not fill memory). */
const MAX_OUTPUT = 1 << 20;

export function runScript(client: Client, script: string, options: ScriptOptions): Promise<ScriptResult> {
  const { host, what } = options;
  return new Promise((resolve, reject) => {
    client.exec(options.sudo ? 'sudo -n -- sh -s' : 'sh -s', (err, channel: ClientChannel) => {
      if (err) return reject(new AgentError('E_AGENT_INSTALL', `${host}: cannot run a command to ${what}: ${err.message}`, host));
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let size = 0;
      const keep = (into: Buffer[]) => (chunk: Buffer) => {
        if ((size += chunk.length) <= MAX_OUTPUT) into.push(chunk);
      };
      channel.on('data', keep(out));
      channel.stderr.on('data', keep(errs));
      let code: number | null = null;
      channel.on('exit', (c: number | null) => (code = typeof c === 'number' ? c : null));
      const timer = setTimeout(() => {
        channel.close();
        reject(new AgentError('E_AGENT_INSTALL', `${host}: the command to ${what} did not finish within ${options.timeoutMs / 1000} s`, host));
      }, options.timeoutMs);
      channel.on('close', () => {
        clearTimeout(timer);
        const stderr = Buffer.concat(errs).toString('utf8');
        const sudoFailure = options.sudo && code !== 0 ? sudoError(stderr, host) : undefined;
        if (sudoFailure) return reject(sudoFailure);
        resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr });
      });
      channel.end(script);
    });
  });
}

/** sudo's own refusals, told apart from the script's failures. */
function sudoError(stderr: string, host: string): AgentError | undefined {
  if (/^sudo: (a )?password is required|^sudo: a terminal is required|^sudo: no tty present/m.test(stderr))
    return new AgentError(
      'E_SUDO_PASSWORD',
      `${host}: sudo wants a password, and tsinfra runs sudo non-interactively (sudo -n); allow the user to run sudo without a password, or connect as root`,
      host,
    );
  if (/is not in the sudoers file|is not allowed to (run|execute)|may not run sudo/m.test(stderr))
    return new AgentError('E_SUDO_DENIED', `${host}: sudo does not allow this user to run sh as root: ${stderr.trim().split('\n')[0]}`, host);
  return undefined;
}

/** POSIX shell quoting of one word. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv array as one command line for the remote shell. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
