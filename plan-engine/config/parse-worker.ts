// Worker thread entry: parses HCL sources sent by the pool (see parse-pool.ts).
import { parentPort } from 'node:worker_threads';
import { parseHclSyntax } from './hcl-syntax.js';

interface Job {
  readonly id: number;
  readonly file: string;
  readonly source: string;
}

parentPort!.on('message', (job: Job) => {
  parseHclSyntax(job.file, job.source).then(
    (result) => parentPort!.postMessage({ id: job.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});
