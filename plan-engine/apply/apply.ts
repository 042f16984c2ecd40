// Apply: carry out a plan's changes in dependency order, independent ones in parallel
// (--parallelism hosts at a time, a bounded number of operations on each), skipping whatever depends on a failure, and persisting
// the state after every finished change so that a crash leaves true state behind.
//
// Operation graph (edges point from an operation to what must finish first):
//   create/update X  -> create/update of every dependency of X
//   delete X         -> delete of every Y that depends on X    (reverse order)
//   delete-then-create X: create X -> delete X
//   create-then-delete X: delete X -> create X
import type { Config } from '../config/model.js';
import { Diagnostics, type Diagnostic } from '../diagnostics.js';
import { evaluate } from '../expressions/index.js';
import { Graph, walk } from '../graph/index.js';
import { providerFor } from '../../providers/registry.js';
import type { AppliedResource } from '../../providers/provider.js';
import { cloneState, removeResource, upsertResource, type State } from '../../state/model.js';
import type { StateWriter } from '../../state/state-writer.js';
import { AgentError } from '../../transport/types.js';
import type { Change, Plan } from '../plan/model.js';
import type { EvalContext } from '../plan/eval-context.js';
import { replanInstance } from '../plan/replan.js';
import { hostInstances } from '../plan/hosts.js';
import { HostTools } from './host-tools.js';
import { outputUses } from '../plan/output-dependencies.js';
import type { SessionPool } from '../plan/refresh.js';
import { containsUnknown, type Value, type ValueObject } from '../values.js';

export type Operation = 'create' | 'update' | 'delete';

interface OpNode {
  readonly key: string;
  readonly change: Change;
  readonly op: Operation;
}

export interface ApplyHooks {
  start?(change: Change, op: Operation): void;
  /** `id`: the object's id after the operation, when it has one. */
  complete?(change: Change, op: Operation, seconds: number, id?: string): void;
  failed?(change: Change, op: Operation, diagnostic: Diagnostic): void;
  skipped?(change: Change, op: Operation, because: string): void;
}

export interface ApplySummary {
  added: number;
  changed: number;
  destroyed: number;
  failed: number;
  skipped: number;
}

/** What happened to one operation of the apply (for per-host summaries). */
export interface OperationOutcome {
  readonly address: string;
  readonly host: string;
  readonly operation: Operation;
  readonly outcome: 'ok' | 'failed' | 'skipped';
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ApplyResult {
  readonly state: State;
  readonly summary: ApplySummary;
  readonly diagnostics: readonly Diagnostic[];
  readonly outcomes: readonly OperationOutcome[];
}

export function buildOperationGraph(changes: readonly Change[]): Graph<OpNode> {
  const g = new Graph<OpNode>((n) => n.key);
  const applyOps = new Map<string, OpNode>();
  const deleteOps = new Map<string, OpNode>();
  for (const c of changes) {
    if (c.action === 'no-op' || c.action === 'read') continue;
    if (c.action !== 'delete') {
      const n: OpNode = { key: `${c.address}#${c.action === 'update' ? 'update' : 'create'}`, change: c, op: c.action === 'update' ? 'update' : 'create' };
      g.add(n);
      applyOps.set(c.address, n);
    }
    if (c.action === 'delete' || c.action === 'delete-then-create' || c.action === 'create-then-delete') {
      const n: OpNode = { key: `${c.address}#delete`, change: c, op: 'delete' };
      g.add(n);
      deleteOps.set(c.address, n);
    }
  }
  const pureDeletes = new Set(changes.filter((c) => c.action === 'delete').map((c) => c.address));
  for (const c of changes) {
    const a = applyOps.get(c.address);
    const d = deleteOps.get(c.address);
    for (const dep of c.dependencies) {
      const depApply = applyOps.get(dep);
      if (a && depApply) g.connect(a, depApply);
    }
    // What an object used (now or when last applied) must outlive it: a dependency is
    // deleted after the old object is, and a dependency going away for good waits for
    // the update that stops using it.
    for (const dep of new Set([...c.dependencies, ...(c.priorDependencies ?? [])])) {
      const depDelete = deleteOps.get(dep);
      if (!depDelete || dep === c.address) continue;
      if (d) g.connect(depDelete, d);
      else if (a && pureDeletes.has(dep)) g.connect(depDelete, a);
    }
    if (a && d) {
      if (c.action === 'delete-then-create') g.connect(a, d);
      else g.connect(d, a);
    }
  }
  return g;
}

export interface ApplyOptions {
  /** Hosts worked on at once (`--parallelism`). */
  readonly parallelism: number;
  /** Operations at once on one host. */
  readonly hostParallelism?: number;
  readonly signal?: AbortSignal;
}

/** Operations at once on one host unless told otherwise. */
export const DEFAULT_HOST_PARALLELISM = 10;

/**
 * Lets providers get ready for the creates ahead (a container supervisor starts its inits
 * while the first resources are applied). Best effort: nothing waits for it, and a
 * failure only costs speed.
 */
function prepareCreates(changes: readonly Change[], sessions: SessionPool, ctx: EvalContext | undefined): void {
  if (!ctx) return;
  const counts = new Map<string, { type: string; host: string; count: number }>();
  for (const c of changes) {
    if (c.action !== 'create' && c.action !== 'delete-then-create' && c.action !== 'create-then-delete') continue;
    if (!providerFor(c.type)?.prepareCreates) continue;
    const key = `${c.type} ${c.host}`;
    const entry = counts.get(key) ?? { type: c.type, host: c.host, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  for (const { type, host, count } of counts.values()) {
    void sessions
      .session(host, ctx)
      .then((s) => providerFor(type)!.prepareCreates!(count, s))
      .catch(() => undefined);
  }
}

export async function applyPlan(
  plan: Plan,
  config: Config | undefined,
  ctx: EvalContext | undefined,
  writer: StateWriter,
  sessions: SessionPool,
  options: ApplyOptions,
  hooks: ApplyHooks = {},
): Promise<ApplyResult> {
  const diags = new Diagnostics();
  const state = cloneState(plan.priorState);
  const stored = writer.current;
  if (stored) {
    state.lineage = stored.lineage;
    state.serial = stored.serial;
  }
  // Moves and refresh results are part of the new state even when nothing else changes.
  await writer.persist(state);
  const summary: ApplySummary = { added: 0, changed: 0, destroyed: 0, failed: 0, skipped: 0 };
  const outcomes: OperationOutcome[] = [];
  // Resources with a failed or skipped operation: outputs from them keep their old values.
  const unfinished = new Set<string>();
  const graph = buildOperationGraph(plan.changes);
  prepareCreates(plan.changes, sessions, ctx);
  const tools = new HostTools();
  // Every host is evaluated by now: one map for the whole walk.
  const hostSettings = ctx ? hostInstances(ctx) : new Map<string, ValueObject>();
  // --parallelism bounds the hosts worked on at once; within a host, operations run up to
  // hostParallelism at a time.
  const walked = await walk(graph, {
    concurrency: Infinity,
    groupOf: (node) => node.change.host,
    groupConcurrency: Math.max(1, options.hostParallelism ?? DEFAULT_HOST_PARALLELISM),
    maxActiveGroups: Math.max(1, options.parallelism),
    ...(options.signal ? { signal: options.signal } : {}),
    visit: async (node) => {
      const { change, op } = node;
      const provider = providerFor(change.type);
      if (!provider) throw new Error(`bug: no provider for ${change.type}`);
      hooks.start?.(change, op);
      const t0 = performance.now();
      try {
        let planned = change.after;
        if (op !== 'delete' && planned && containsUnknown(planned) && config && ctx) {
          planned = replanInstance(config, ctx, change, diags) ?? planned;
        }
        const prior = op === 'create' ? null : change.before;
        const req = { action: op, address: change.address, prior, planned: op === 'delete' ? null : planned };
        let newAttrs: ValueObject | null;
        if (provider.multiHost) {
          newAttrs = await provider.multiHost.apply(req, (host) => sessions.session(host, ctxOrThrow(ctx)));
        } else {
          const session = provider.usesAgent ? await sessions.session(change.host, ctxOrThrow(ctx)) : undefined;
          if (session) await tools.ensure(provider, req.planned, hostSettings.get(change.host), session);
          newAttrs = await provider.apply(req, session);
        }
        if (op === 'delete' && change.action === 'create-then-delete') {
          // The old object is gone; the state already records its replacement.
        } else if (op === 'delete' || newAttrs === null) {
          removeResource(state, change.address);
          if (ctx) forgetInstance(ctx, change);
        } else {
          upsertResource(state, {
            address: change.address,
            type: change.type,
            name: change.name,
            ...(change.index !== undefined ? { index: change.index } : {}),
            host: change.host,
            attributes: newAttrs,
            sensitivePaths: [...change.sensitivePaths],
            dependencies: [...change.dependencies],
            status: 'ready',
            ...(change.createBeforeDestroy ? { createBeforeDestroy: true } : {}),
          });
          if (ctx) rememberInstance(ctx, change, newAttrs);
        }
        await writer.persist(state);
        if (op === 'create') summary.added++;
        else if (op === 'update') summary.changed++;
        else summary.destroyed++;
        outcomes.push({ address: change.address, host: change.host, operation: op, outcome: 'ok' });
        const id = newAttrs?.['id'];
        hooks.complete?.(change, op, (performance.now() - t0) / 1000, typeof id === 'string' ? id : undefined);
        return 'ok';
      } catch (e) {
        const d = failureDiagnostic(change, op, e);
        diags.add(d);
        summary.failed++;
        outcomes.push({
          address: change.address,
          host: change.host,
          operation: op,
          outcome: 'failed',
          error: { code: d.code, message: d.detail ?? d.summary },
        });
        unfinished.add(`${change.type}.${change.name}`);
        hooks.failed?.(change, op, d);
        return 'failed';
      }
    },
    onSkip: (node, because) => {
      summary.skipped++;
      outcomes.push({ address: node.change.address, host: node.change.host, operation: node.op, outcome: 'skipped' });
      unfinished.add(`${node.change.type}.${node.change.name}`);
      hooks.skipped?.(node.change, node.op, because?.change.address ?? 'an earlier operation');
    },
  });
  // A visit throws only for a bug (failures are diagnostics): never let one pass as success.
  const [bug] = walked.errors.values();
  if (bug !== undefined) throw bug;
  if (ctx) await reconcile(state, sessions, ctx, diags);
  if (config && ctx && plan.mode !== 'destroy') {
    state.outputs = evaluateOutputs(config, ctx, unfinished, state.outputs);
  } else if (plan.mode === 'destroy') {
    // A targeted destroy keeps the outputs of what it left standing.
    const destroyed = new Set(plan.changes.map((c) => `${c.type}.${c.name}`));
    for (const name of Object.keys(state.outputs)) {
      if (!plan.targets.length || !config || outputUses(config, name, destroyed)) delete state.outputs[name];
    }
  }
  await writer.persist(state);
  await writer.flush();
  return { state, summary, diagnostics: diags.items, outcomes };
}

/** The types' reconcile hooks, on every recorded object of theirs (see ResourceProvider.reconcile). */
async function reconcile(state: State, sessions: SessionPool, ctx: EvalContext, diags: Diagnostics): Promise<void> {
  const all: AppliedResource[] = state.resources.map((r) => ({
    address: r.address,
    type: r.type,
    name: r.name,
    host: r.host,
    attributes: r.attributes as ValueObject,
  }));
  for (const own of all) {
    const provider = providerFor(own.type);
    if (!provider?.reconcile) continue;
    try {
      await provider.reconcile(own, all, (host) => sessions.session(host, ctx));
    } catch (e) {
      if (!(e instanceof AgentError)) throw e;
      diags.error(e.code, `Updating what depends on ${own.address} failed: ${e.message}`, { address: own.address });
    }
  }
}

function ctxOrThrow(ctx: EvalContext | undefined): EvalContext {
  if (!ctx) throw new Error('bug: apply needs the evaluation context to reach hosts');
  return ctx;
}

function failureDiagnostic(change: Change, op: Operation, e: unknown): Diagnostic {
  const verb = op === 'create' ? 'Creating' : op === 'update' ? 'Updating' : 'Destroying';
  if (e instanceof AgentError) {
    return { severity: 'error', code: e.code, summary: `${verb} ${change.address} on ${change.host} failed`, detail: e.message, address: change.address };
  }
  if (e instanceof Error && 'diagnostics' in e) {
    const first = (e as { diagnostics: Diagnostic[] }).diagnostics[0];
    if (first) return { ...first, address: change.address };
  }
  throw e;
}

function rememberInstance(ctx: EvalContext, change: Change, attrs: ValueObject): void {
  const o = ctx.resources.get(`${change.type}.${change.name}`);
  o?.instances.set(change.index ?? '', attrs);
  o?.sensitivePaths.set(change.index ?? '', change.sensitivePaths);
}

function forgetInstance(ctx: EvalContext, change: Change): void {
  const o = ctx.resources.get(`${change.type}.${change.name}`);
  if (o && change.action === 'delete') o.instances.delete(change.index ?? '');
}

function evaluateOutputs(config: Config, ctx: EvalContext, unfinished: ReadonlySet<string>, prior: State['outputs']): State['outputs'] {
  const out: State['outputs'] = {};
  for (const o of config.outputs.values()) {
    if (outputUses(config, o.name, unfinished)) {
      // Its value would come from a plan that did not happen: keep what was recorded.
      if (prior[o.name]) out[o.name] = prior[o.name]!;
      continue;
    }
    const r = evaluate(o.value.expr, ctx.scope(), { range: o.value.range, address: `output.${o.name}` });
    if (r.diagnostics.length) continue; // reported at plan time
    if (containsUnknown(r.value)) continue;
    out[o.name] = { value: r.value as Value, sensitive: o.sensitive || r.sensitive };
  }
  return out;
}
