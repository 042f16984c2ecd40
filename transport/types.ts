// What the engine needs from a way of reaching a host: a session with its agent.
import type { MethodName, ParamsOf, ResultOf } from '../agent/rpc/protocol.js';

/** An error the agent (or the connection to it) reported, with a stable code. */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly host: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

export interface AgentSession {
  /** The host's address in the configuration (`host.web`), for messages. */
  readonly host: string;
  /** Sends one request; resolves with its validated result or rejects with AgentError. `data` is streamed output (container.logs, container.exec). */
  call<M extends MethodName>(method: M, params: ParamsOf<M>, onProgress?: (message: string, data?: unknown) => void): Promise<ResultOf<M>>;
  close(): Promise<void>;
}

/** Connection settings of a `host` block after evaluation. */
export interface HostConnection {
  readonly address: string; // host.NAME[key]
  readonly transport: 'local' | 'ssh';
  /** local transport only: run the agent inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

export interface Transport {
  open(host: HostConnection): Promise<AgentSession>;
}
