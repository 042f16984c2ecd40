// Refresh: ask each host's agent what really exists, in one batched request per host,
// hosts in parallel. Objects gone or changed outside tsinfra are recorded as drift and
// the state copy is updated, so that the diff plans them back. A provider's observed
// attributes (a volume group's free space) are updated silently: they are no drift.
import type { Diagnostics } from '../diagnostics.js';
import type { State } from '../../state/model.js';
import { providerFor } from '../../providers/registry.js';
import type { AgentSession } from '../../transport/types.js';
import { AgentError } from '../../transport/types.js';
import { valuesEqual, type ValueObject } from '../values.js';
import type { EvalContext } from './eval-context.js';
import type { Drift } from './model.js';

export interface SessionPool {
  /** The agent session of a host (opened on first use, then reused for the whole run). */
  session(host: string, ctx: EvalContext): Promise<AgentSession>;
  readonly parallelism: number;
  close(): Promise<void>;
}

/**
 * Reads every recorded object from its host (one batch per host). A host that cannot be
 * reached is an error; with `unreachable` given, it is a warning instead and the host is
 * added there, so that an apply can go on with the other hosts.
 */
export async function refreshState(
  state: State,
  ctx: EvalContext,
  sessions: SessionPool,
  diags: Diagnostics,
  unreachable?: Map<string, AgentError>,
): Promise<Drift[]> {
  const byHost = new Map<string, number[]>();
  const multiHost: number[] = [];
  state.resources.forEach((r, i) => {
    if (!providerFor(r.type)?.usesAgent) return;
    if (providerFor(r.type)?.multiHost) {
      multiHost.push(i);
      return;
    }
    const list = byHost.get(r.host) ?? [];
    list.push(i);
    byHost.set(r.host, list);
  });
  const drift: Drift[] = [];
  const gone = new Set<number>();
  /** What the host has now for resource i: drift, and the state copy updated. */
  const record = (i: number, now: ValueObject | null): void => {
    const r = state.resources[i]!;
    const before = r.attributes as ValueObject;
    if (now === null) {
      drift.push({ address: r.address, kind: 'deleted', before, after: null, sensitivePaths: r.sensitivePaths });
      gone.add(i);
    } else if (!valuesEqual(before, now)) {
      const seenBefore = withObserved(before, now, providerFor(r.type)?.observed ?? []);
      if (!valuesEqual(seenBefore, now)) drift.push({ address: r.address, kind: 'changed', before: seenBefore, after: now, sensitivePaths: r.sensitivePaths });
      r.attributes = now;
    }
  };
  const hosts = [...byHost.keys()];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      const indexes = byHost.get(host)!;
      try {
        const session = await sessions.session(host, ctx);
        const res = await session.call('resource.read', {
          items: indexes.map((i) => ({ type: state.resources[i]!.type, state: state.resources[i]!.attributes })),
        });
        res.items.forEach((item, j) => {
          const r = state.resources[indexes[j]!]!;
          if ('error' in item) {
            diags.error(item.error.code, `Refreshing ${r.address} failed: ${item.error.message}`, { address: r.address });
            return;
          }
          record(indexes[j]!, item.state as ValueObject | null);
        });
      } catch (e) {
        if (!(e instanceof AgentError)) throw e;
        if (unreachable) {
          unreachable.set(host, e);
          diags.add({
            severity: 'warning',
            code: e.code,
            summary: `Cannot reach ${host}: its resources are not refreshed, and the other hosts go on`,
            detail: e.message,
            address: host,
          });
        } else {
          diags.error(e.code, `Cannot refresh resources on ${host}: ${e.message}`, { address: host });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(sessions.parallelism, hosts.length) }, worker));
  // Resources spanning hosts read each of their parts themselves.
  for (const i of multiHost) {
    const r = state.resources[i]!;
    try {
      record(i, await providerFor(r.type)!.multiHost!.read(r.attributes as ValueObject, (host) => sessions.session(host, ctx)));
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      const severity = unreachable ? 'warning' : 'error';
      diags.add({ severity, code: e.code, summary: `Cannot refresh ${r.address}: ${e.message}`, address: r.address });
    }
  }
  state.resources = state.resources.filter((_, i) => !gone.has(i));
  return drift.sort((a, b) => (a.address < b.address ? -1 : 1));
}

/** `before` with the observed attributes as they are `now`: what is left differing is drift. */
function withObserved(before: ValueObject, now: ValueObject, observed: readonly string[]): ValueObject {
  if (!observed.length) return before;
  const out: ValueObject = { ...before };
  for (const k of observed) {
    if (k in now) out[k] = now[k]!;
    else delete out[k];
  }
  return out;
}
