// The engine's side of the agent protocol (agent/rpc/protocol.ts) over any pair of
// streams: a child's pipes today, an SSH exec channel later. Requests carry ids and
// may be pipelined; responses are matched by id and validated with zod.
//
//   open:  hello {clientVersion, protocol} -> compare protocol -> session ready
//   call:  request line -> 0..n progress notifications -> result | error
//   close: shutdown (agent finishes in-flight work) -> end of input -> dispose channel
//
// Failures become AgentError: the agent's own code for an error response,
// E_AGENT_EXITED (with its last stderr lines) when the channel ends, E_AGENT_TIMEOUT
// when a call sees no response and no progress for `timeoutMs`, E_AGENT_PROTOCOL when
// versions differ or a result does not validate.
import type { Readable, Writable } from 'node:stream';
import { decodeLine, LineSplitter } from '../agent/rpc/line-splitter.js';
import { MAX_LINE_BYTES, methods, PROTOCOL_VERSION, responseSchema, type MethodName, type ParamsOf, type ResultOf } from '../agent/rpc/protocol.js';
import { describeIssues } from '../agent/rpc/zod-issues.js';
import { AgentError, type AgentSession } from './types.js';

/** The engine's version, sent in hello (informational; the protocol number decides). */
export const CLIENT_VERSION = '0.1.0';

export interface AgentChannel {
  /** What the agent writes (its stdout). */
  readonly fromAgent: Readable;
  /** What the agent reads (its stdin). */
  readonly toAgent: Writable;
  /** The agent's log; its last lines explain a dead agent. */
  readonly stderr?: Readable;
}

export interface AgentClientOptions {
  /** `host.web`, for messages. */
  readonly host: string;
  /** A call fails when neither its response nor a progress message came for this long. Default 10 min. */
  readonly timeoutMs?: number;
  /** How long hello may take (includes starting the agent). Default 30 s. */
  readonly helloTimeoutMs?: number;
  /** How long close waits for the shutdown answer, then for the agent to end its output. Default 10 s. */
  readonly closeTimeoutMs?: number;
  /** How the channel ended (`exit code 1`, `killed by SIGKILL`), when the transport knows; may wait briefly for it. */
  readonly describeExit?: () => string | undefined | Promise<string | undefined>;
  /** Why the channel ended when the connection under it was lost (SSH); may wait briefly for it. */
  readonly connectionLost?: () => Promise<AgentError | undefined>;
  /** Releases the channel once the session is over (reap or kill the process, close the SSH channel). */
  readonly dispose?: () => Promise<void>;
}

export type HelloInfo = ResultOf<'hello'>;

interface Pending {
  readonly method: MethodName;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: AgentError) => void;
  readonly onProgress: ((message: string, data?: unknown) => void) | undefined;
  readonly timeoutMs: number;
  timer: NodeJS.Timeout;
}

const STDERR_TAIL_LINES = 20;
const STRAY_TAIL_LINES = 5;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_HELLO_TIMEOUT_MS = 30_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** After stdout ends, how long to wait for the rest of stderr before reporting. */
const STDERR_DRAIN_MS = 1000;

export class AgentClient implements AgentSession {
  readonly host: string;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly stderrTail: string[] = [];
  /** Lines on the agent's stdout that are not protocol messages (a noisy login shell, a bug). */
  private readonly strayLines: string[] = [];
  private dead: AgentError | undefined;
  private closing: Promise<void> | undefined;
  private inputEnded = false;
  private readonly stderrEnded: Promise<void>;
  private readonly inputEndWaiters: (() => void)[] = [];
  private info: HelloInfo | undefined;

  constructor(
    private readonly channel: AgentChannel,
    private readonly options: AgentClientOptions,
  ) {
    this.host = options.host;
    const stdout = new LineSplitter(MAX_LINE_BYTES, {
      line: (bytes) => this.handleLine(bytes),
      overlong: (n) => this.remember(this.strayLines, `(a line of ${n} bytes, too long)`, STRAY_TAIL_LINES),
    });
    channel.fromAgent.on('data', (chunk: Buffer | string) => stdout.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    // Flowing even if paused: the bootstrap's line reader pauses the channel before it hands it over.
    channel.fromAgent.resume();
    const ended = () => {
      if (this.inputEnded) return;
      this.inputEnded = true;
      stdout.end();
      for (const w of this.inputEndWaiters.splice(0)) w();
      void this.channelEnded();
    };
    channel.fromAgent.on('end', ended);
    channel.fromAgent.on('close', ended);
    channel.fromAgent.on('error', ended);
    channel.toAgent.on('error', () => ended());

    const stderr = channel.stderr;
    if (stderr) {
      const lines = new LineSplitter(64 * 1024, {
        line: (bytes) => this.remember(this.stderrTail, decodeLine(bytes) ?? '(not UTF-8)', STDERR_TAIL_LINES),
        overlong: () => this.remember(this.stderrTail, '(a very long line)', STDERR_TAIL_LINES),
      });
      stderr.on('data', (chunk: Buffer | string) => lines.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
      this.stderrEnded = new Promise((resolve) => {
        const done = () => {
          lines.end();
          resolve();
        };
        stderr.on('end', done);
        stderr.on('close', done);
        stderr.on('error', done);
      });
    } else {
      this.stderrEnded = Promise.resolve();
    }
  }

  /** Connects over `channel` and checks the agent speaks our protocol version. */
  static async open(channel: AgentChannel, options: AgentClientOptions): Promise<AgentClient> {
    const client = new AgentClient(channel, options);
    try {
      await client.hello();
    } catch (e) {
      await client.close().catch(() => {});
      throw e;
    }
    return client;
  }

  /** What the agent said in hello (after open). */
  get agent(): HelloInfo | undefined {
    return this.info;
  }

  /** The last lines the agent wrote to stderr. */
  get recentStderr(): readonly string[] {
    return [...this.stderrTail];
  }

  call<M extends MethodName>(method: M, params: ParamsOf<M>, onProgress?: (message: string, data?: unknown) => void): Promise<ResultOf<M>> {
    if (this.closing) return Promise.reject(new AgentError('E_AGENT_CLOSED', `the session with the agent on ${this.host} is closed`, this.host));
    return this.request(method, params, onProgress, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** Asks the agent to finish and exit, then releases the channel. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async hello(): Promise<void> {
    const info = await this.request(
      'hello',
      { clientVersion: CLIENT_VERSION, protocol: PROTOCOL_VERSION },
      undefined,
      this.options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    );
    if (info.protocol !== PROTOCOL_VERSION) {
      throw new AgentError(
        'E_AGENT_PROTOCOL',
        `the agent on ${this.host} (version ${info.agentVersion}) speaks protocol ${info.protocol}, this tsinfra speaks protocol ${PROTOCOL_VERSION}; install the matching agent`,
        this.host,
        { agentVersion: info.agentVersion, agentProtocol: info.protocol, clientProtocol: PROTOCOL_VERSION },
      );
    }
    this.info = info;
  }

  private async shutdown(): Promise<void> {
    if (!this.dead) {
      await this.request('shutdown', {}, undefined, this.closeTimeout()).catch(() => undefined);
    }
    this.channel.toAgent.end();
    if (!this.inputEnded) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.closeTimeout());
        this.inputEndWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.failAll(new AgentError('E_AGENT_CLOSED', `the session with the agent on ${this.host} was closed`, this.host));
    await this.options.dispose?.();
  }

  private request<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    onProgress: ((message: string, data?: unknown) => void) | undefined,
    timeoutMs: number,
  ): Promise<ResultOf<M>> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const entry: Pending = {
        method,
        resolve: resolve as (result: unknown) => void,
        reject,
        onProgress,
        timeoutMs,
        timer: setTimeout(() => this.timedOut(id), timeoutMs),
      };
      this.pending.set(id, entry);
      try {
        this.channel.toAgent.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
      } catch (e) {
        this.settle(id)?.reject(new AgentError('E_AGENT_EXITED', `cannot write to the agent on ${this.host}: ${(e as Error).message}`, this.host));
      }
    });
  }

  private handleLine(bytes: Buffer): void {
    const text = decodeLine(bytes);
    if (text === undefined || text.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.remember(this.strayLines, text.slice(0, 200), STRAY_TAIL_LINES);
    }
    const message = responseSchema.safeParse(json);
    if (!message.success) return this.remember(this.strayLines, text.slice(0, 200), STRAY_TAIL_LINES);
    const m = message.data;
    if ('method' in m) {
      const p = this.pending.get(m.params.requestId);
      if (!p) return;
      p.timer.refresh();
      try {
        p.onProgress?.(m.params.message, m.params.data);
      } catch {
        // A failing progress callback must not break the session.
      }
      return;
    }
    if (m.id === null) {
      // The agent could not read one of our lines; we cannot tell which, the call will time out.
      return this.remember(this.strayLines, `agent error: ${'error' in m ? m.error.message : ''}`, STRAY_TAIL_LINES);
    }
    const p = this.settle(m.id);
    if (!p) return;
    if ('error' in m) {
      p.reject(new AgentError(m.error.code, m.error.message, this.host, m.error.data));
      return;
    }
    const result = methods[p.method].result.safeParse(m.result);
    if (!result.success) {
      p.reject(
        new AgentError(
          'E_AGENT_PROTOCOL',
          `the agent on ${this.host} sent an invalid result for ${p.method}: ${describeIssues(result.error, 'result')}`,
          this.host,
        ),
      );
      return;
    }
    p.resolve(result.data);
  }

  private timedOut(id: number): void {
    const p = this.settle(id);
    if (!p) return;
    p.reject(
      new AgentError(
        'E_AGENT_TIMEOUT',
        `the agent on ${this.host} did not answer ${p.method} (no result or progress for ${formatDuration(p.timeoutMs)})`,
        this.host,
        {
          stderr: this.recentStderr,
        },
      ),
    );
  }

  private async channelEnded(): Promise<void> {
    // Give the agent's last words on stderr a moment to arrive.
    // Unref'd: waiting for a dead agent's last words must not keep the engine alive.
    const pause = () => new Promise<undefined>((r) => setTimeout(() => r(undefined), STDERR_DRAIN_MS).unref());
    await Promise.race([this.stderrEnded, pause()]);
    const how = await Promise.race([Promise.resolve(this.options.describeExit?.()), pause()]);
    const busy = [...new Set([...this.pending.values()].map((p) => p.method))].filter((m) => m !== 'shutdown');
    const lost = await Promise.race([this.options.connectionLost?.(), pause()]);
    if (lost) {
      // The agent may well live on and finish: say so rather than "exited".
      const during = busy.length ? ` during ${busy.join(', ')}, which may have finished on the host (the next plan refreshes what is there)` : '';
      this.dead = new AgentError(lost.code, `${lost.message}${during}`, this.host, lost.data);
      this.failAll(this.dead);
      return;
    }
    const parts = [`the agent on ${this.host} exited${how ? ` (${how})` : ''}${busy.length ? ` while handling ${busy.join(', ')}` : ''}`];
    if (this.stderrTail.length) parts.push(`its last messages:\n  ${this.stderrTail.join('\n  ')}`);
    if (this.strayLines.length) parts.push(`it also printed:\n  ${this.strayLines.join('\n  ')}`);
    this.dead = new AgentError('E_AGENT_EXITED', parts.join('; '), this.host, { stderr: this.recentStderr, exit: how ?? null });
    this.failAll(this.dead);
  }

  private failAll(error: AgentError): void {
    for (const id of [...this.pending.keys()]) {
      const p = this.settle(id);
      // A shutdown answered by the agent exiting is a success.
      if (p?.method === 'shutdown') p.resolve({});
      else p?.reject(error);
    }
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  private closeTimeout(): number {
    return this.options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  }

  private remember(into: string[], line: string, max: number): void {
    into.push(line);
    if (into.length > max) into.splice(0, into.length - max);
  }
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
