// Run by the tests inside another network namespace (nsenter --net): connects as told by
// the JSON in argv[2], runs one command, and prints the outcome as one JSON line.
//   in:  { address, settings, options?, command }
//   out: { ok: true, stdout, code } | { ok: false, code, message }
import { SshConnection, type SshConnectOptions } from '../../../transport/ssh/ssh-connection.js';
import { AgentError } from '../../../transport/types.js';

interface Request {
  readonly address: string;
  readonly settings: Record<string, unknown>;
  readonly options?: SshConnectOptions;
  readonly command: string;
}

const req = JSON.parse(process.argv[2] ?? '{}') as Request;
try {
  const conn = await SshConnection.open({ address: req.address, settings: req.settings }, req.options ?? {});
  try {
    const r = await conn.run(req.command, { timeoutMs: 10_000 });
    process.stdout.write(JSON.stringify({ ok: true, stdout: r.stdout, code: r.code }) + '\n');
  } finally {
    await conn.close();
  }
} catch (e) {
  const code = e instanceof AgentError ? e.code : 'E_NOT_AGENT_ERROR';
  process.stdout.write(JSON.stringify({ ok: false, code, message: (e as Error).message }) + '\n');
}
