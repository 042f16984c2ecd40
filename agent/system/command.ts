// Runs host programs with argv arrays (never a shell), collecting their output.
// Commands that change the host are logged with their argv before they run.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { AgentFailure } from '../rpc/failure.js';
import type { AgentLog } from '../log.js';

export interface RunOptions {
  /** Written to the program's stdin (nft -f -). */
  readonly stdin?: string;
  /** The command changes the host: log it. */
  readonly mutates?: boolean;
  readonly timeoutMs?: number;
  /** Added to the agent's environment (DEBIAN_FRONTEND for package installs). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface CommandOutput {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandRunner {
  /** Resolves with the output of a successful run; rejects with E_COMMAND_FAILED otherwise. */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandOutput>;
  /** Resolves whatever the exit code; rejects only when the program cannot run. */
  tryRun(argv: readonly string[], options?: RunOptions): Promise<CommandOutput>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
// sudo and non-login SSH sessions often leave the sbin directories off PATH.
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of a program, or undefined when it is not installed. */
export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...SYSTEM_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function describeArgv(argv: readonly string[]): string {
  return argv.join(' ');
}

export class ProcessRunner implements CommandRunner {
  constructor(private readonly log: AgentLog) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandOutput> {
    const out = await this.tryRun(argv, options);
    if (out.code !== 0) {
      const why = out.stderr.trim().split('\n').slice(-3).join(' / ') || 'no error output';
      throw new AgentFailure('E_COMMAND_FAILED', `${describeArgv(argv)} failed (exit ${out.code}): ${why}`, {
        argv,
        code: out.code,
        stderr: out.stderr,
      });
    }
    return out;
  }

  tryRun(argv: readonly string[], options: RunOptions = {}): Promise<CommandOutput> {
    const [name, ...args] = argv;
    if (name === undefined) return Promise.reject(new Error('bug: empty argv'));
    const program = name.includes('/') ? name : findProgram(name);
    if (program === undefined) {
      return Promise.reject(new AgentFailure('E_MISSING_TOOL', `${name} is not installed on this host (not found on PATH or in ${SYSTEM_DIRS.join(', ')})`));
    }
    if (options.mutates) this.log.command(argv, options.stdin);
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env, LC_ALL: 'C' },
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let size = 0;
      let failure: AgentFailure | undefined;
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) {
          failure ??= new AgentFailure('E_COMMAND_FAILED', `${describeArgv(argv)} produced more than ${MAX_OUTPUT_BYTES} bytes of output`);
          child.kill('SIGKILL');
          return;
        }
        into.push(chunk);
      };
      child.stdout.on('data', collect(stdout));
      child.stderr.on('data', collect(stderr));
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        failure ??= new AgentFailure('E_COMMAND_TIMEOUT', `${describeArgv(argv)} did not finish within ${timeoutMs} ms`);
        child.kill('SIGKILL');
      }, timeoutMs);
      let settled = false;
      child.on('error', (e) => {
        failure ??= new AgentFailure('E_COMMAND_FAILED', `cannot run ${describeArgv(argv)}: ${e.message}`);
        // A program that never started may not emit 'close'.
        if (child.pid === undefined && !settled) {
          settled = true;
          clearTimeout(timer);
          reject(failure);
        }
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        if (failure) return reject(failure);
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        });
      });
      // The program may exit without reading its stdin (EPIPE): its exit code tells.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin ?? '');
    });
  }
}
