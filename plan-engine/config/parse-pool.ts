// Parses many HCL sources on worker threads. hcl2json costs ~0.14 ms per resource on
// one thread (measured: 1.4 s warm for 10,000 resources), so big configurations are
// split into chunks on top-level block boundaries and spread over one worker per core.
// A worker needs ~150 ms to start its WebAssembly parser: warmUpParsers() starts them
// as soon as the loader knows the configuration is big, while it reads and scans files.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseHclSyntax, type SyntaxResult } from './hcl-syntax.js';

export interface ParseJob {
  readonly file: string;
  readonly source: string;
}

/** Below this many bytes in total, starting workers costs more than it saves. */
const WORKER_THRESHOLD = 256 * 1024;

const WARM_UP_ID = -1;
let warm: Worker[] = [];

/** Starts parser workers ahead of time when `totalBytes` of HCL will need them. */
export function warmUpParsers(totalBytes: number): void {
  const threads = availableParallelism();
  if (totalBytes < WORKER_THRESHOLD || threads < 2 || warm.length) return;
  warm = Array.from({ length: threads }, () => {
    const w = new Worker(new URL('./parse-worker.js', import.meta.url));
    w.postMessage({ id: WARM_UP_ID, file: 'warm-up.hcl', source: 'a = 1\n' });
    // Not needed any more if nothing comes to parse (everything was cached).
    w.unref();
    return w;
  });
}

export async function parseAll(jobs: readonly ParseJob[]): Promise<SyntaxResult[]> {
  const total = jobs.reduce((n, j) => n + j.source.length, 0);
  const threads = Math.min(availableParallelism(), jobs.length);
  if (total < WORKER_THRESHOLD || threads < 2) {
    const out: SyntaxResult[] = [];
    for (const j of jobs) out.push(await parseHclSyntax(j.file, j.source));
    return out;
  }
  return runOnWorkers(jobs, threads);
}

async function runOnWorkers(jobs: readonly ParseJob[], threads: number): Promise<SyntaxResult[]> {
  const results = new Array<SyntaxResult>(jobs.length);
  const url = new URL('./parse-worker.js', import.meta.url);
  let next = 0;
  const ready = warm.splice(0, threads);
  const workers = [...ready, ...Array.from({ length: threads - ready.length }, () => new Worker(url))];
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const send = (): void => {
              if (next >= jobs.length) return resolve();
              const id = next++;
              w.postMessage({ id, file: jobs[id]!.file, source: jobs[id]!.source });
            };
            w.on('message', (m: { id: number; result?: SyntaxResult; error?: string }) => {
              if (m.id === WARM_UP_ID) return;
              if (m.error !== undefined) return reject(new Error(`HCL parser worker failed: ${m.error}`));
              results[m.id] = m.result!;
              send();
            });
            w.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all([...workers, ...warm.splice(0)].map((w) => w.terminate()));
  }
  return results;
}

/**
 * Splits a big file into about `parts` sources at top-level block boundaries (given as
 * 0-based line numbers where blocks start). Each chunk is padded with the newlines that
 * precede it so that line numbers in syntax errors stay those of the whole file.
 */
export function chunkSource(source: string, blockStartLines: readonly number[], parts: number): string[] {
  if (parts < 2 || blockStartLines.length < parts * 2) return [source];
  const lineOffsets = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineOffsets.push(i + 1);
  const per = Math.ceil(blockStartLines.length / parts);
  const cuts: number[] = [];
  for (let i = per; i < blockStartLines.length; i += per) cuts.push(blockStartLines[i]!);
  const chunks: string[] = [];
  let startLine = 0;
  for (const cutLine of [...cuts, lineOffsets.length]) {
    const from = lineOffsets[startLine]!;
    const to = cutLine < lineOffsets.length ? lineOffsets[cutLine]! : source.length;
    chunks.push('\n'.repeat(startLine) + source.slice(from, to));
    startLine = cutLine;
  }
  return chunks;
}

/** Merges hcl2json results of chunks of one file: objects merge, block arrays concatenate in order. */
export function mergeChunkJson(parts: readonly Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of parts) mergeInto(out, p);
  return out;
}

function mergeInto(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (cur === undefined) into[k] = v;
    else if (Array.isArray(cur) && Array.isArray(v)) cur.push(...(v as unknown[]));
    else if (isPlainObject(cur) && isPlainObject(v)) mergeInto(cur, v);
    else into[k] = v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
