// `tsinfra hosts facts`: every host the configuration declares (host blocks evaluated
// with their variables, for_each and count), asked for hello and facts, at most
// `parallelism` hosts at a time. Each session is closed as soon as its host answered,
// so that a large fleet never holds more than `parallelism` connections. A host that
// fails gives a row with its error; the others are still asked.
import { PROTOCOL_VERSION, type Facts, type ResultOf } from '../agent/rpc/protocol.js';
import { hasErrors, type Diagnostic } from '../plan-engine/diagnostics.js';
import { hostInstances } from '../plan-engine/plan/hosts.js';
import { makePlan } from '../plan-engine/plan/planner.js';
import type { VarArg } from '../plan-engine/variables.js';
import { openWorkspace } from '../plan-engine/workspace.js';
import { CLIENT_VERSION } from '../transport/agent-client.js';
import { HostSessionPool } from '../transport/session-pool.js';
import { AgentError } from '../transport/types.js';
import { compareHosts } from './views/host-order.js';

export interface HostFactsRow {
  /** The host's address in the configuration, `host.web[0]`. */
  readonly host: string;
  /** What the agent said in hello; undefined when the host failed. */
  readonly hello?: ResultOf<'hello'>;
  readonly facts?: Facts;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface HostFactsResult {
  readonly sources: ReadonlyMap<string, string>;
  /** Configuration errors: then no host was contacted and `rows` is empty. */
  readonly diagnostics: readonly Diagnostic[];
  /** One per declared host, in address order (`host.web[2]` before `host.web[10]`). */
  readonly rows: readonly HostFactsRow[];
}

export async function gatherHostFacts(dir: string, vars: readonly VarArg[], parallelism: number): Promise<HostFactsResult> {
  const ws = await openWorkspace(dir, vars);
  if (hasErrors(ws.diagnostics) || !ws.config) return { sources: ws.sources, diagnostics: [...ws.diagnostics], rows: [] };
  // A refresh-only plan without refresh evaluates variables, locals and hosts, and contacts
  // no host. Hosts cannot depend on resources, so the state is not needed.
  const planned = await makePlan(ws.config, null, { mode: 'refresh-only', refresh: false, targets: [], replace: [], inputs: ws.inputs }, undefined);
  if (hasErrors(planned.diagnostics) || !planned.context) return { sources: ws.sources, diagnostics: [...planned.diagnostics], rows: [] };
  const context = planned.context;
  const hosts = [...hostInstances(context).keys()].sort(compareHosts);
  const pool = new HostSessionPool(parallelism);
  try {
    const rows = await mapBounded(hosts, parallelism, async (host): Promise<HostFactsRow> => {
      try {
        const session = await pool.session(host, context);
        try {
          const [hello, facts] = await Promise.all([
            session.call('hello', { clientVersion: CLIENT_VERSION, protocol: PROTOCOL_VERSION }),
            session.call('facts', {}),
          ]);
          return { host, hello, facts };
        } finally {
          await session.close();
        }
      } catch (e) {
        return { host, error: errorOf(e) };
      }
    });
    return { sources: ws.sources, diagnostics: planned.diagnostics, rows };
  } finally {
    await pool.close();
  }
}

function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof AgentError) return { code: e.code, message: e.message };
  // Not a failure the transports describe: still one host's problem, not the fleet's.
  return { code: 'E_INTERNAL', message: `unexpected error (a bug in tsinfra; please report it): ${e instanceof Error ? e.message : String(e)}` };
}

/** `fn` over `items` with at most `limit` running at once; results in the order of `items`. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
