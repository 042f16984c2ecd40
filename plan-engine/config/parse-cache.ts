// Parse results cached by content: hcl2json and the expression parser cost most of a
// plan's time, and a configuration is planned again and again unchanged. Entries are
// keyed by sha256 of the source and the parser version, and live in the workspace's
// own DIR/.tsinfra/cache (0700) once that directory exists (after the first apply):
// parsed files can hold secrets, which must not spread to a shared cache directory,
// and a workspace that was only validated or planned must stay as the user left it.
// Only successful parses are cached. TSINFRA_CACHE=0 disables the cache;
// TSINFRA_CACHE_DIR puts it elsewhere (benchmarks).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SyntaxResult } from './hcl-syntax.js';

/** Bump when the cached shape changes, so stale entries are never read. */
const FORMAT = 'tsinfra-parse-1;hcl2json-0.21';

export function cacheDir(configDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env['TSINFRA_CACHE'] === '0') return undefined;
  if (env['TSINFRA_CACHE_DIR']) return env['TSINFRA_CACHE_DIR'];
  const workspace = join(configDir, '.tsinfra');
  return existsSync(workspace) ? join(workspace, 'cache') : undefined;
}

function keyOf(source: string): string {
  return createHash('sha256').update(FORMAT).update('\0').update(source).digest('hex');
}

export async function readCached(dir: string | undefined, source: string): Promise<SyntaxResult | undefined> {
  if (!dir) return undefined;
  try {
    const r = JSON.parse(await readFile(join(dir, `${keyOf(source)}.json`), 'utf8')) as SyntaxResult;
    return r.json !== undefined && Array.isArray(r.asts) ? r : undefined;
  } catch {
    return undefined; // absent or damaged: parse again
  }
}

export async function writeCached(dir: string | undefined, source: string, result: SyntaxResult): Promise<void> {
  if (!dir || result.json === undefined || result.diagnostics.length) return;
  const path = join(dir, `${keyOf(source)}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(tmp, JSON.stringify({ json: result.json, asts: result.asts, diagnostics: [] }), { mode: 0o600 });
    await rename(tmp, path);
  } catch {
    // A cache that cannot be written only costs time.
  }
}
