// The agent's connection to this host's supervisor (see protocol.ts). The first call
// starts the supervisor when none is running, and replaces one of another agent build
// (an upgrade); a connection that breaks (the supervisor crashed) is made again on the
// next call. A new supervisor adopts the containers that kept running.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { decodeLine, LineSplitter } from '../rpc/line-splitter.js';
import { MAX_LINE_BYTES, responseSchema } from '../rpc/protocol.js';
import { describeIssues } from '../rpc/zod-issues.js';
import { entryArgs } from '../entry-points.js';
import type { AgentLog } from '../log.js';
import { pidFileHolder, retire } from '../system/pid-file.js';
import { agentBuild } from '../version.js';
import type { SupervisorMethods } from './protocol.js';

// Generous: a loaded or emulated host can take many seconds to start Node and load the supervisor.
const START_TIMEOUT_MS = 60_000;

type Method = Exclude<keyof SupervisorMethods, 'shutdown'>;
type Params<M extends Method> = z.input<SupervisorMethods[M]['params']>;
type Result<M extends Method> = z.output<SupervisorMethods[M]['result']>;

interface Pending {
  method: Method;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onProgress: ((message: string, data?: unknown) => void) | undefined;
}

export const SUPERVISOR_PID_FILE = 'supervisor.pid';

export function supervisorSocket(runDir: string): string {
  return join(runDir, 'supervisor.sock');
}

export class SupervisorClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private methods: SupervisorMethods | undefined;

  constructor(
    private readonly runDir: string,
    private readonly log: AgentLog,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async call<M extends Method>(method: M, params: Params<M>, onProgress?: (message: string, data?: unknown) => void): Promise<Result<M>> {
    return this.send(await this.ensureConnected(), method, params, onProgress);
  }

  /** Calls the supervisor only when one is running (never starts one); undefined otherwise. */
  async callIfRunning<M extends Method>(method: M, params: Params<M>): Promise<Result<M> | undefined> {
    if (!(this.socket && !this.socket.destroyed) && !existsSync(supervisorSocket(this.runDir))) return undefined;
    return this.call(method, params);
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }

  private ensureConnected(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    // Kept for the calls after this one; attach() forgets it when it breaks.
    this.connecting ??= this.connectOrStart()
      .then((socket) => (socket.destroyed ? socket : (this.socket = socket)))
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private send<M extends Method>(socket: Socket, method: M, params: Params<M>, onProgress?: (message: string, data?: unknown) => void): Promise<Result<M>> {
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, onProgress });
      socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  private async connectOrStart(): Promise<Socket> {
    // The answers' schemas, loaded with the first call: most sessions never make one.
    this.methods ??= (await import('./protocol.js')).supervisorMethods;
    const path = supervisorSocket(this.runDir);
    const running = await tryConnect(path);
    if (running) {
      this.attach(running);
      const theirs = await this.send(running, 'ping', {}).then(
        (r) => r.version,
        () => undefined,
      );
      if (theirs === agentBuild(this.env)) return running;
      // An upgrade: the new supervisor adopts the running containers (they keep their pids).
      running.destroy();
      await this.retire(theirs);
    }
    const started = await this.start(path);
    this.attach(started);
    return started;
  }

  /** Stops the supervisor of another build (SIGTERM leaves its containers running). */
  private async retire(theirs: string | undefined): Promise<void> {
    const holder = pidFileHolder(join(this.runDir, SUPERVISOR_PID_FILE), 'supervisor');
    if (!holder) return;
    this.log.info(`replacing the container supervisor ${theirs ?? '(unknown build)'} (pid ${holder.pid}) with ${agentBuild(this.env)}`);
    if (!(await retire(holder, START_TIMEOUT_MS)))
      throw new AgentFailure(
        'E_SUPERVISOR',
        `the container supervisor of the previous agent (pid ${holder.pid}) did not stop within ${START_TIMEOUT_MS / 1000} s`,
      );
  }

  private async start(path: string): Promise<Socket> {
    this.log.info('starting the container supervisor');
    // A small young generation: the supervisor mostly idles, and its RSS is what a host pays per run.
    const child = spawn(process.execPath, ['--max-semi-space-size=1', ...entryArgs('supervisor', this.env)], {
      detached: true,
      stdio: 'ignore',
      env: this.env,
    });
    child.on('error', () => undefined);
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    let socket: Socket | undefined;
    while (!socket && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      socket = await tryConnect(path);
    }
    if (!socket)
      throw new AgentFailure(
        'E_SUPERVISOR',
        `the container supervisor did not start within ${START_TIMEOUT_MS / 1000} s (see supervisor.log in the agent's state directory)`,
      );
    return socket;
  }

  private attach(socket: Socket): void {
    const lines = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => this.handle(decodeLine(bytes)),
      overlong: () => this.log.warn('the supervisor sent an overlong line'),
    });
    socket.on('data', (c: Buffer) => lines.push(c));
    const broken = () => {
      if (this.socket === socket) this.socket = undefined;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new AgentFailure('E_SUPERVISOR', `the container supervisor went away during ${p.method}`));
      }
    };
    socket.on('close', broken);
    socket.on('error', broken);
  }

  private handle(text: string | undefined): void {
    let parsed;
    try {
      parsed = responseSchema.safeParse(JSON.parse(text ?? ''));
    } catch {
      return;
    }
    if (!parsed.success) return;
    const m = parsed.data;
    if ('method' in m) {
      this.pending.get(m.params.requestId)?.onProgress?.(m.params.message, m.params.data);
      return;
    }
    if (m.id === null) return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if ('error' in m) {
      p.reject(new AgentFailure(m.error.code, m.error.message, m.error.data));
      return;
    }
    // Answers come on a socket connectOrStart made, after it loaded the schemas.
    const result = this.methods![p.method].result.safeParse(m.result);
    if (result.success) p.resolve(result.data);
    else p.reject(new Error(`bug: the supervisor's answer to ${p.method} is invalid: ${describeIssues(result.error, 'result')}`));
  }
}

function tryConnect(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}
