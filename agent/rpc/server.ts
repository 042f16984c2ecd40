// The agent's side of the protocol (see protocol.ts): reads request lines from the
// input, runs them concurrently, writes responses and progress notifications to the
// output. Whatever arrives (garbage, binary, half lines, huge lines) is answered or
// dropped without crashing, and nothing but protocol lines is ever written.
//
//   input bytes -> LineSplitter -> decode UTF-8 -> JSON.parse -> envelope (zod)
//     -> method known? -> params (zod) -> handler -> result (zod) -> output line
//   any step failing -> an error response (id null when the id is unknown)
//
// Lifecycle: serve() resolves at end of input (after in-flight requests finish) or
// after a `shutdown` request, which is answered once every in-flight request is done.
import type { Readable, Writable } from 'node:stream';
import type { z } from 'zod';
import type { AgentLog } from '../log.js';
import { isAgentFailure } from './failure.js';
import { decodeLine, LineSplitter } from './line-splitter.js';
import { MAX_LINE_BYTES, methods, requestSchema, RPC_ERRORS, type RpcError } from './protocol.js';
import { describeIssues } from './zod-issues.js';

export interface CallContext {
  readonly id: number;
  /** Sends a progress notification for this request (dropped once it has been answered); `data` carries streamed output. */
  progress(message: string, data?: unknown): void;
  /** Aborted when the client has gone (end of input): streaming calls stop then. */
  readonly signal: AbortSignal;
}

/** The methods a server speaks: the agent's (protocol.ts) or the supervisor's. Each has `shutdown`. */
export type MethodTable = { readonly shutdown: { params: z.ZodType; result: z.ZodType } } & Readonly<Record<string, { params: z.ZodType; result: z.ZodType }>>;
type HandledMethod<T extends MethodTable> = Exclude<keyof T & string, 'shutdown'>;
export type MethodImpl<T extends MethodTable, M extends HandledMethod<T>> = (
  params: z.output<T[M]['params']>,
  ctx: CallContext,
) => Promise<z.output<T[M]['result']>>;
/** One implementation per method; `shutdown` belongs to the server. */
export type ImplsOf<T extends MethodTable> = { readonly [M in HandledMethod<T>]: MethodImpl<T, M> };
export type MethodImpls = ImplsOf<typeof methods>;

export interface RpcServerOptions<T extends MethodTable> {
  readonly log: AgentLog;
  readonly maxLineBytes?: number;
  /** The method table; default: the agent protocol's. */
  readonly table?: T;
}

export type EndReason = 'eof' | 'shutdown';

export class RpcServer<T extends MethodTable = typeof methods> {
  private readonly log: AgentLog;
  private readonly table: T;
  private readonly maxLineBytes: number;
  private readonly inFlight = new Map<number, Promise<void>>();
  private shuttingDown = false;
  private outputBroken = false;
  private ended: ((reason: EndReason) => void) | undefined;
  private readonly clientGone = new AbortController();

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly impls: ImplsOf<T>,
    options: RpcServerOptions<T>,
  ) {
    this.log = options.log;
    this.table = options.table ?? (methods as unknown as T);
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  serve(): Promise<EndReason> {
    const done = new Promise<EndReason>((resolve) => (this.ended = resolve));
    const splitter = new LineSplitter(this.maxLineBytes, {
      line: (bytes) => this.handleLine(bytes),
      overlong: (n) => this.sendError(null, RPC_ERRORS.parse, `line of ${n} bytes exceeds the limit of ${this.maxLineBytes} bytes; discarded`),
    });
    const onData = (chunk: Buffer | string) => {
      try {
        splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      } catch (e) {
        this.log.error(`bug while reading input: ${stackOf(e)}`);
      }
    };
    let inputDone = false;
    const onEnd = () => {
      if (inputDone) return;
      inputDone = true;
      this.clientGone.abort();
      splitter.end();
      void this.finish('eof');
    };
    this.input.on('data', onData);
    this.input.on('end', onEnd);
    this.input.on('close', onEnd);
    this.input.on('error', (e) => {
      this.log.warn(`input error: ${e.message}`);
      onEnd();
    });
    // Flowing even if paused: the host bootstrap pauses stdin before it hands it over.
    this.input.resume();
    this.output.on('error', (e) => {
      if (!this.outputBroken) this.log.warn(`output closed: ${e.message}`);
      this.outputBroken = true;
    });
    return done;
  }

  private async finish(reason: EndReason): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
    const ended = this.ended;
    this.ended = undefined;
    ended?.(this.shuttingDown ? 'shutdown' : reason);
  }

  private handleLine(bytes: Buffer): void {
    const text = decodeLine(bytes);
    if (text === undefined) return this.sendError(null, RPC_ERRORS.parse, 'line is not valid UTF-8');
    if (text.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (e) {
      return this.sendError(null, RPC_ERRORS.parse, `line is not JSON: ${(e as Error).message}`);
    }
    const envelope = requestSchema.safeParse(message);
    if (!envelope.success) {
      return this.sendError(idOf(message), RPC_ERRORS.invalid, `invalid request: ${describeIssues(envelope.error, '')}`);
    }
    const { id, method, params } = envelope.data;
    if (this.shuttingDown) return this.sendError(id, RPC_ERRORS.shuttingDown, 'the agent is shutting down');
    if (this.inFlight.has(id)) return this.sendError(id, RPC_ERRORS.invalid, `id: ${id} is already used by a request in progress`);
    if (!Object.hasOwn(this.table, method)) {
      return this.sendError(id, RPC_ERRORS.method, `unknown method ${JSON.stringify(method)} (known: ${Object.keys(this.table).join(', ')})`);
    }
    const task = (method === 'shutdown' ? this.shutdown(id, params) : this.dispatch(id, method, params))
      .catch((e: unknown) => this.log.error(`bug while answering request ${id}: ${stackOf(e)}`))
      .finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, task);
  }

  private async dispatch(id: number, method: string, rawParams: unknown): Promise<void> {
    const spec = this.table[method]!;
    const params = spec.params.safeParse(rawParams);
    if (!params.success) {
      return this.sendError(id, RPC_ERRORS.invalid, `invalid params for ${method}: ${describeIssues(params.error, 'params')}`);
    }
    let answered = false;
    const ctx: CallContext = {
      id,
      signal: this.clientGone.signal,
      progress: (message, data) => {
        if (!answered)
          this.send({ jsonrpc: '2.0', method: 'progress', params: { requestId: id, message: String(message), ...(data === undefined ? {} : { data }) } });
      },
    };
    try {
      const impl = (this.impls as unknown as Record<string, (p: unknown, c: CallContext) => Promise<unknown>>)[method]!;
      const result = await impl(params.data, ctx);
      const checked = spec.result.safeParse(result);
      answered = true;
      if (!checked.success) {
        this.log.error(`bug: ${method} produced an invalid result: ${describeIssues(checked.error, 'result')}`);
        return this.sendError(id, RPC_ERRORS.internal, `the agent produced an invalid result for ${method}: ${describeIssues(checked.error, 'result')}`);
      }
      this.sendResult(id, checked.data);
    } catch (e) {
      answered = true;
      this.sendRpcError(id, this.toRpcError(e, method));
    }
  }

  private async shutdown(id: number, rawParams: unknown): Promise<void> {
    const params = this.table.shutdown.params.safeParse(rawParams);
    if (!params.success) {
      return this.sendError(id, RPC_ERRORS.invalid, `invalid params for shutdown: ${describeIssues(params.error, 'params')}`);
    }
    this.shuttingDown = true;
    this.log.info('shutdown requested; waiting for requests in progress');
    const others = () => [...this.inFlight].filter(([other]) => other !== id).map(([, p]) => p);
    while (others().length > 0) await Promise.allSettled(others());
    this.sendResult(id, {});
    // Resolve once this request has left the in-flight set.
    setImmediate(() => void this.finish('shutdown'));
  }

  private toRpcError(e: unknown, method: string): RpcError {
    if (isAgentFailure(e)) {
      return e.data === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, data: e.data };
    }
    this.log.error(`bug in ${method}: ${stackOf(e)}`);
    return { code: RPC_ERRORS.internal, message: `internal error in ${method}: ${e instanceof Error ? e.message : String(e)}` };
  }

  private sendResult(id: number, result: unknown): void {
    this.send({ jsonrpc: '2.0', id, result }, id);
  }

  private sendError(id: number | null, code: string, message: string): void {
    this.sendRpcError(id, { code, message });
  }

  private sendRpcError(id: number | null, error: RpcError): void {
    this.send({ jsonrpc: '2.0', id, error });
  }

  /** Writes one line; a value JSON cannot encode becomes an internal error for that id. */
  private send(message: object, idForFailure?: number): void {
    if (this.outputBroken) return;
    let line: string;
    try {
      line = JSON.stringify(message);
    } catch (e) {
      this.log.error(`bug: cannot encode a response: ${stackOf(e)}`);
      if (idForFailure === undefined) return;
      line = JSON.stringify({
        jsonrpc: '2.0',
        id: idForFailure,
        error: { code: RPC_ERRORS.internal, message: 'the agent produced a result it cannot encode' },
      });
    }
    try {
      this.output.write(line + '\n');
    } catch (e) {
      this.outputBroken = true;
      this.log.warn(`cannot write to output: ${(e as Error).message}`);
    }
  }
}

/** The request's id when it has a usable one, so that even an invalid request is answered by id. */
function idOf(message: unknown): number | null {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return null;
  const id = (message as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}

function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
