// The parts of `tsinfra exec`'s command line oclif cannot parse for us: the command
// after `--` (kept verbatim: neither flag parsing nor `-var` normalisation may touch
// `ls -la`), `--env NAME=VALUE` pairs, and piped input.
import type { Readable } from 'node:stream';

/** Splits at the first `--`: tsinfra's own arguments, and the command (undefined without `--`). */
export function splitCommand(argv: readonly string[]): { own: string[]; command: string[] | undefined } {
  const i = argv.indexOf('--');
  if (i < 0) return { own: [...argv], command: undefined };
  return { own: argv.slice(0, i), command: argv.slice(i + 1) };
}

/** `NAME=VALUE` flags as a map (later ones win), or the message for the first malformed one. */
export function parseEnvFlags(pairs: readonly string[]): Record<string, string> | string {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) return `--env ${JSON.stringify(p)}: expected NAME=VALUE`;
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

/** All of stdin as text when it is not a terminal (piped or redirected), else undefined. */
export async function readPipedStdin(stdin: Readable & { isTTY?: boolean }): Promise<string | undefined> {
  if (stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
