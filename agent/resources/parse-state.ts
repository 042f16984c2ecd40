// Handlers validate the attributes they receive with their own zod schema; a failure
// is the request's fault (E_RPC_INVALID) and names the attribute.
import type { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS } from '../rpc/protocol.js';
import { describeIssues } from '../rpc/zod-issues.js';

export function parseState<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AgentFailure(RPC_ERRORS.invalid, `invalid attributes: ${describeIssues(parsed.error, where)}`);
  return parsed.data;
}

export function invalidAttribute(path: string, message: string): AgentFailure {
  return new AgentFailure(RPC_ERRORS.invalid, `invalid attributes: ${path}: ${message}`);
}
