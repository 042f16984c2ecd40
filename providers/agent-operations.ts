// The agent-backed part of a provider: apply, read and import are agent requests.
import type { ValueObject } from '../plan-engine/values.js';
import type { AgentSession } from '../transport/types.js';
import type { ApplyRequest } from './provider.js';

export async function applyThroughAgent(type: string, req: ApplyRequest, session: AgentSession | undefined): Promise<ValueObject | null> {
  if (!session) throw new Error(`bug: ${type} needs an agent session`);
  const r = await session.call('resource.apply', {
    type,
    action: req.action,
    address: req.address,
    prior: req.prior,
    planned: req.planned,
  });
  return r.state as ValueObject | null;
}
