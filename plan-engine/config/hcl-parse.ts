// The syntax phase of loading HCL files: each file's hcl2json JSON and expression ASTs,
// from the cache when the file is unchanged, else parsed (big files in chunks, on
// worker threads). Line numbers in syntax errors are always the user's.
import { availableParallelism } from 'node:os';
import { phaseDone } from '../timings.js';
import type { Diagnostic } from '../diagnostics.js';
import { primeCache } from '../expressions/ast-cache.js';
import { locateHcl, type LocateResult } from './hcl-locator.js';
import { spreadOneLineBlocks } from './hcl-one-line-blocks.js';
import type { SyntaxResult } from './hcl-syntax.js';
import { cacheDir, readCached, writeCached } from './parse-cache.js';
import { chunkSource, mergeChunkJson, parseAll, type ParseJob } from './parse-pool.js';

/** Big files are split into chunks of about this size so that the workers stay busy. */
const CHUNK_BYTES = 128 * 1024;

export interface HclFile {
  readonly name: string;
  readonly source: string;
  readonly located: LocateResult;
}

export async function parseHclFiles(configDir: string, files: readonly HclFile[], env: NodeJS.ProcessEnv = process.env): Promise<SyntaxResult[]> {
  const dir = cacheDir(configDir, env);
  const results: (SyntaxResult | undefined)[] = await Promise.all(files.map((f) => readCached(dir, f.source)));

  const jobs: ParseJob[] = [];
  const jobsOfFile = new Map<number, number[]>();
  const lineMaps = new Map<number, (line: number) => number>();
  files.forEach((f, i) => {
    if (results[i]) return;
    const spread = spreadOneLineBlocks(f.source, f.located.body);
    if (spread.originalLine) lineMaps.set(i, spread.originalLine);
    const blocks = spread.originalLine ? locateHcl(f.name, spread.source).body.blocks : f.located.body.blocks;
    const parts = Math.min(availableParallelism() * 2, Math.ceil(spread.source.length / CHUNK_BYTES));
    const chunks = chunkSource(
      spread.source,
      blocks.map((b) => b.range.start.line - 1),
      parts,
    );
    jobsOfFile.set(
      i,
      chunks.map((c) => jobs.push({ file: f.name, source: c }) - 1),
    );
  });
  phaseDone('chunk');
  const parsed = jobs.length ? await parseAll(jobs) : [];
  phaseDone(`parse (${jobs.length} chunks)`);

  const writes: Promise<void>[] = [];
  for (const [i, js] of jobsOfFile) {
    const parts = js.map((j) => parsed[j]!);
    const diagnostics = parts.flatMap((p) => remapLines(p.diagnostics, lineMaps.get(i)));
    const failed = parts.some((p) => p.json === undefined);
    const result: SyntaxResult = {
      ...(failed ? {} : { json: parts.length === 1 ? parts[0]!.json! : mergeChunkJson(parts.map((p) => p.json!)) }),
      asts: parts.flatMap((p) => p.asts),
      diagnostics,
    };
    results[i] = result;
    writes.push(writeCached(dir, files[i]!.source, result));
  }
  await Promise.all(writes);
  for (const r of results) primeCache(r!.asts);
  return results as SyntaxResult[];
}

function remapLines(ds: readonly Diagnostic[], originalLine: ((line: number) => number) | undefined): readonly Diagnostic[] {
  if (!originalLine) return ds;
  return ds.map((d) =>
    d.range
      ? {
          ...d,
          range: {
            ...d.range,
            start: { ...d.range.start, line: originalLine(d.range.start.line) },
            end: { ...d.range.end, line: originalLine(d.range.end.line) },
          },
        }
      : d,
  );
}
