// `tsinfra exec`: a command in a running container, with the container's namespaces,
// cgroup, credentials, capabilities and seccomp filter (the init in exec mode, see
// ../runtime/init/init-protocol.ts). Output streams back as it comes.
import type { Readable, Writable } from 'node:stream';
import { appendFileSync } from 'node:fs';
import { constants } from 'node:os';
import { signalProcess } from '../runtime/libc.js';
import { AgentFailure } from '../rpc/failure.js';
import type { OutputEvent } from '../rpc/protocol.js';
import type { ProcessSpec } from '../runtime/init/init-protocol.js';
import { launchExecInit } from './init-launcher.js';

export interface ExecRequest {
  readonly command: string[];
  readonly env?: Record<string, string> | undefined;
  readonly user?: string | undefined;
  readonly working_dir?: string | undefined;
  readonly stdin?: string | undefined;
}

export async function runExec(
  runDir: string,
  targetPid: number,
  container: ProcessSpec,
  procsFiles: readonly string[],
  req: ExecRequest,
  onOutput: (e: OutputEvent) => void,
  signal?: AbortSignal,
): Promise<number> {
  const init = await launchExecInit(runDir, targetPid);
  // Whoever asked is gone (Ctrl-C on the CLI): the command goes too. After execve the
  // init's pid is the command's; nsenter, its parent, goes with it.
  const onAbort = () => {
    if (init.hostPid > 0) signalProcess(init.hostPid, constants.signals.SIGKILL);
    init.kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const child = init.child;
  for (const stream of ['stdout', 'stderr'] as const) {
    (child.stdio[stream === 'stdout' ? 1 : 2] as Readable).on('data', (chunk: Buffer) =>
      onOutput({ stream, time: new Date().toISOString(), data: chunk.toString('utf8') }),
    );
  }
  try {
    // Into the container's cgroup before anything runs in it.
    for (const file of procsFiles) appendFileSync(file, `${init.hostPid}\n`);
    const env = new Map(container.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
    for (const [k, v] of Object.entries(req.env ?? {})) env.set(k, v);
    const process: ProcessSpec = {
      ...container,
      args: req.command,
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: req.working_dir ?? container.cwd,
      user: req.user ?? container.user,
    };
    init.send({ type: 'exec-config', config: { targetPid, process } });
    const e = await init.next();
    if (e.type === 'error') throw new AgentFailure('E_EXEC_FAILED', `exec: ${e.stage}: ${e.message}`);
    init.closeChannel();
    const stdin = child.stdio[0] as Writable;
    stdin.on('error', () => undefined);
    stdin.end(req.stdin ?? '');
  } catch (err) {
    init.closeChannel();
    init.kill();
    await init.exited;
    throw err;
  }
  const exit = await init.exited;
  signal?.removeEventListener('abort', onAbort);
  return exit.code ?? 128 + (exit.signal ? (constants.signals[exit.signal] ?? 0) : 0);
}
