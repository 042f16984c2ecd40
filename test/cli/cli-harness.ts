// Runs the real `tsinfra` binary against fixture directories, as a user would.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  /** Sees stdout as it comes (to act in the middle of a run). */
  readonly onStdout?: (soFar: string) => void;
}

export function tsinfra(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      // No parse cache in the user's home: each test run starts cold and leaves nothing behind.
      env: { ...process.env, NO_COLOR: '1', TSINFRA_CACHE: '0', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    // A run ended by a signal has no exit code: 1, and the signal named where a failing
    // assertion prints it.
    child.on('close', (code, signal) => resolve({ code: code ?? 1, stdout, stderr: signal ? `${stderr}[tsinfra was ended by ${signal}]\n` : stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A temporary configuration directory with the given files. */
export async function configDir(
  files: Record<string, string>,
): Promise<{ dir: string; write: (name: string, text: string) => Promise<void>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tsit-cfg-'));
  const write = (name: string, text: string) => writeFile(join(dir, name), text);
  for (const [name, text] of Object.entries(files)) await write(name, text);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}
