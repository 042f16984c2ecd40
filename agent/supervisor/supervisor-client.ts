// The agent's connection to this host's supervisor (see protocol.ts). The first call
// starts the supervisor when none is running; a connection that breaks (the supervisor
// crashed or was upgraded) is made again on the next call, and the new supervisor adopts
// the containers that kept running.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { decodeLine, LineSplitter } from '../rpc/line-splitter.js';
import { MAX_LINE_BYTES, responseSchema } from '../rpc/protocol.js';
import { describeIssues } from '../rpc/zod-issues.js';
import { entryArgs } from '../entry-points.js';
import type { AgentLog } from '../log.js';
import { supervisorMethods, type SupervisorMethods } from './protocol.js';

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

export function supervisorSocket(runDir: string): string {
  return join(runDir, 'supervisor.sock');
}

export class SupervisorClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly runDir: string,
    private readonly log: AgentLog,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  async call<M extends Method>(method: M, params: Params<M>, onProgress?: (message: string, data?: unknown) => void): Promise<Result<M>> {
    const socket = await this.ensureConnected();
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, onProgress });
      socket.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  close(): void {
    this.socket?.end();
    this.socket = undefined;
  }

  private ensureConnected(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.connectOrStart().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectOrStart(): Promise<Socket> {
    const path = supervisorSocket(this.runDir);
    let socket = await tryConnect(path);
    if (!socket) {
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
      while (!socket && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        socket = await tryConnect(path);
      }
      if (!socket)
        throw new AgentFailure(
          'E_SUPERVISOR',
          `the container supervisor did not start within ${START_TIMEOUT_MS / 1000} s (see supervisor.log in the agent's state directory)`,
        );
    }
    this.attach(socket);
    this.socket = socket;
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
    const result = supervisorMethods[p.method].result.safeParse(m.result);
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
