// Resource handlers by type: what resource.read, resource.apply and resource.import
// dispatch to. A read batch runs concurrently (bounded) and answers per item, so one
// broken object does not hide the state of the others.
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS, type ApplyAction, type ResourceState, type RpcError } from '../rpc/protocol.js';

export type Progress = (message: string) => void;

export interface ResourceHandler {
  /** The object as it really is now, or null when it is gone. */
  read(state: ResourceState): Promise<ResourceState | null>;
  /** Makes the object match `planned` (null after a delete); returns the resulting state. */
  apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress, address: string): Promise<ResourceState | null>;
  /** Adopts an existing object by its id; null when there is no such object. */
  import(id: string): Promise<ResourceState | null>;
}

/**
 * A handler whose code is loaded on its first call: an agent session loads only the
 * modules of the types it is asked about (its start is on every fresh host's path).
 */
export function lazyHandler(load: () => Promise<ResourceHandler>): ResourceHandler {
  const handler = once(load);
  return {
    read: async (state) => (await handler()).read(state),
    apply: async (action, prior, planned, progress, address) => (await handler()).apply(action, prior, planned, progress, address),
    import: async (id) => (await handler()).import(id),
  };
}

/** `make` once, on first use. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

export type ReadItem = { state: ResourceState | null } | { error: RpcError };

const READ_CONCURRENCY = 8;

export class ResourceRegistry {
  private readonly handlers = new Map<string, ResourceHandler>();

  constructor(private readonly onBug: (message: string) => void = () => {}) {}

  register(type: string, handler: ResourceHandler): this {
    if (this.handlers.has(type)) throw new Error(`bug: resource type ${type} registered twice`);
    this.handlers.set(type, handler);
    return this;
  }

  types(): string[] {
    return [...this.handlers.keys()].sort();
  }

  get(type: string): ResourceHandler {
    const handler = this.handlers.get(type);
    if (!handler) {
      throw new AgentFailure(
        RPC_ERRORS.unknownType,
        `this agent does not manage resources of type ${JSON.stringify(type)} (known: ${this.types().join(', ') || 'none'})`,
      );
    }
    return handler;
  }

  /** Reads every item, at most READ_CONCURRENCY at a time; results in input order. */
  async readBatch(items: readonly { type: string; state: ResourceState }[]): Promise<ReadItem[]> {
    const results = new Array<ReadItem>(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        const item = items[i]!;
        try {
          results[i] = { state: await this.get(item.type).read(item.state) };
        } catch (e) {
          results[i] = { error: this.toItemError(e, `items[${i}]`) };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, items.length) }, worker));
    return results;
  }

  async apply(
    type: string,
    action: ApplyAction,
    prior: ResourceState | null,
    planned: ResourceState | null,
    progress: Progress,
    address = type,
  ): Promise<ResourceState | null> {
    const handler = this.get(type);
    if (action !== 'create' && prior === null) {
      throw new AgentFailure(RPC_ERRORS.invalid, `params.prior: required for ${action}`);
    }
    if (action !== 'delete' && planned === null) {
      throw new AgentFailure(RPC_ERRORS.invalid, `params.planned: required for ${action}`);
    }
    return handler.apply(action, prior, planned, progress, address);
  }

  import(type: string, id: string): Promise<ResourceState | null> {
    return this.get(type).import(id);
  }

  private toItemError(e: unknown, where: string): RpcError {
    if (isAgentFailure(e)) {
      const message = `${where}: ${e.message}`;
      return e.data === undefined ? { code: e.code, message } : { code: e.code, message, data: e.data };
    }
    this.onBug(`bug while reading ${where}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return { code: RPC_ERRORS.internal, message: `${where}: internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}
