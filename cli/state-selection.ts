// Addresses typed on the command line, matched against the instances in a state
// (`state list`, `show`, `mv`, `rm`). A resource address (`network.front`) selects every
// instance of the resource, an instance address (`network.front[0]`) that one only. An
// address that selects nothing gets a "did you mean" from what the state holds.
import { parseResourceInstanceAddr, type ResourceInstanceAddr } from '../plan-engine/addresses.js';
import { suggest, type Diagnostic } from '../plan-engine/diagnostics.js';
import type { ResourceInstanceState, State } from '../state/model.js';

const ADDRESS_FORMS = 'Expected TYPE.NAME, TYPE.NAME[0] or TYPE.NAME["key"], for example network.front.';

/** Parses an address argument, or explains why it is not one. */
export function parseAddressArg(arg: string): ResourceInstanceAddr | Diagnostic {
  const a = parseResourceInstanceAddr(arg);
  if (a) return a;
  return { severity: 'error', code: 'E_INVALID_ADDRESS', summary: `"${arg}" is not a resource address`, detail: ADDRESS_FORMS };
}

export function isDiagnostic(v: ResourceInstanceAddr | Diagnostic): v is Diagnostic {
  return 'severity' in v;
}

/** The instances an address selects: one instance, or every instance of a resource. */
export function selectInstances(state: State | null, addr: ResourceInstanceAddr): ResourceInstanceState[] {
  const all = state?.resources ?? [];
  if (addr.instanceKey !== undefined) return all.filter((r) => r.address === addr.key);
  return all.filter((r) => r.type === addr.type && r.name === addr.name);
}

/** "No instance matches": the closest address in state as a suggestion, or what the state holds. */
export function noMatch(state: State | null, arg: string): Diagnostic {
  const addresses = (state?.resources ?? []).map((r) => r.address);
  const candidates = new Set([...addresses, ...(state?.resources ?? []).map((r) => `${r.type}.${r.name}`)]);
  const close = suggest(arg, candidates);
  let detail: string;
  if (close) detail = `Did you mean ${close}?`;
  else if (addresses.length === 0) detail = 'The state is empty.';
  else {
    const shown = addresses.slice(0, 10).join(', ');
    detail = `The state holds: ${shown}${addresses.length > 10 ? `, and ${addresses.length - 10} more` : ''}. See tsinfra state list.`;
  }
  return { severity: 'error', code: 'E_STATE_NO_MATCH', summary: `No resource instance in the state matches ${arg}`, detail };
}

/**
 * Exactly one instance (`state show`). A resource address is accepted when the state
 * holds its single unkeyed instance; with count/for_each the user must pick one.
 */
export function selectOne(state: State | null, arg: string): ResourceInstanceState | Diagnostic {
  const addr = parseAddressArg(arg);
  if (isDiagnostic(addr)) return addr;
  const found = selectInstances(state, addr);
  if (found.length === 0) return noMatch(state, arg);
  const exact = found.find((r) => r.address === addr.key);
  if (exact) return exact;
  return {
    severity: 'error',
    code: 'E_STATE_AMBIGUOUS_ADDRESS',
    summary: `${arg} has ${found.length} instance${found.length === 1 ? '' : 's'} in the state; name one`,
    detail: `Instances: ${found.map((r) => r.address).join(', ')}.`,
  };
}
