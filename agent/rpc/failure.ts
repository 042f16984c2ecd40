// The error a handler throws on purpose: it carries a stable code that travels to the
// engine unchanged. Any other exception is a bug and is reported as E_AGENT_INTERNAL.

export class AgentFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'AgentFailure';
  }
}

/** Recognises failures across duplicate module copies (bundled agent, tests). */
export function isAgentFailure(e: unknown): e is AgentFailure {
  return e instanceof Error && e.name === 'AgentFailure' && typeof (e as { code?: unknown }).code === 'string';
}
