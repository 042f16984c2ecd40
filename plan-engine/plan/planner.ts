// Planning: evaluate the configuration in dependency order, refresh what the hosts
// really have, and diff desired against recorded state into one Change per resource
// instance.
//
//   1. graph of declarations, cycle check
//   2. variables; locals and hosts that need no resource (pass 1)
//   3. moved blocks applied to a copy of the state
//   4. refresh: one batched read per host, drift recorded; alongside, the storage
//      inventory of each host with storage resources (LVM), when refreshing
//   5. resources and the remaining locals/outputs in topological order (pass 2):
//      expand count/for_each, evaluate, validate, provider.plan, diff
//   6. orphans (in state, not in config) deleted; prevent_destroy checked; the
//      storage checks (capacity, over-commit, what must exist) per host
import { parseResourceInstanceAddr, ResourceAddr, type InstanceKey } from '../addresses.js';
import type { Config, ResourceDecl } from '../config/model.js';
import { Diagnostics, type Diagnostic } from '../diagnostics.js';
import { evaluate } from '../expressions/index.js';
import { providerFor, resourceTypes } from '../../providers/registry.js';
import { cloneState, newState, type ResourceInstanceState, type State } from '../../state/model.js';
import { applyMoves } from './moves.js';
import { buildConfigGraph, nodeKind, resourceDependencies } from './config-graph.js';
import { EvalContext, type ExpandedObject } from './eval-context.js';
import { evaluateBody, expand } from './evaluate-block.js';
import { checkSchema, rangeOf, schemaKeys } from './schema-issues.js';
import type { ResourceProvider } from '../../providers/provider.js';
import { diffInstance } from './diff.js';
import type { Change, Drift, OutputChange, Plan, PlanMode } from './model.js';
import { refreshState, type SessionPool } from './refresh.js';
import type { AgentError } from '../../transport/types.js';
import { isObject, valuesEqual, type Value, type ValueObject } from '../values.js';
import { redactValues, suggest } from '../diagnostics.js';
import { TSINFRA_VERSION } from '../version.js';
import { satisfies } from '../version-constraint.js';
import { evaluateVariables, type InputValue } from '../variables.js';
import { evaluateHost, hostInstances } from './hosts.js';
import { MULTI_HOST, type PlanContext } from '../../providers/provider.js';
import { outputUses } from './output-dependencies.js';
import type { HostStorage } from '../../providers/storage-model.js';
import { checkStoragePlan } from './storage-check.js';
import { StorageInventories } from './storage-inventory.js';

export interface PlanOptions {
  readonly mode: PlanMode;
  readonly refresh: boolean;
  readonly targets: readonly string[];
  readonly replace: readonly string[];
  readonly inputs: ReadonlyMap<string, InputValue>;
  /** validate: no inputs required, nothing refreshed, no state. */
  readonly validateOnly?: boolean;
  /** apply: a host that cannot be reached does not stop the plan for the others (see PlanResult.unreachableHosts). */
  readonly tolerateUnreachableHosts?: boolean;
}

export interface PlanResult {
  readonly plan?: Plan;
  readonly context?: EvalContext;
  readonly diagnostics: readonly Diagnostic[];
  /** Hosts that could not be reached during refresh (tolerateUnreachableHosts), with why: the run must end in failure. */
  readonly unreachableHosts?: ReadonlyMap<string, AgentError>;
}

export async function makePlan(config: Config, stored: State | null, options: PlanOptions, sessions: SessionPool | undefined): Promise<PlanResult> {
  const diags = new Diagnostics();
  checkRequiredVersion(config, diags);
  if (diags.hasErrors()) return { diagnostics: diags.items };
  const graph = buildConfigGraph(config, diags);
  if (diags.hasErrors()) return { diagnostics: diags.items };

  const ctx = new EvalContext(config);
  // Errors in variables do not stop here: the rest of the configuration is still checked,
  // with those variables unknown, so that one run reports every problem.
  await evaluateVariables(config, options.inputs, ctx, diags, { requireAll: !options.validateOnly });

  const order = graph.topologicalOrder();
  const needsResource = new Set<string>();
  for (const node of order) {
    if (nodeKind(node) === 'resource' || nodeKind(node) === 'output') needsResource.add(node);
    else if ([...graph.dependencies(node)].some((d) => needsResource.has(d))) needsResource.add(node);
  }
  for (const node of order) {
    if (needsResource.has(node)) continue;
    evaluateNode(node, config, ctx, diags);
  }
  for (const h of config.hosts.values()) {
    if (needsResource.has(`host.${h.name}`)) {
      diags.error('E_HOST_DEPENDS_ON_RESOURCE', `host "${h.name}" refers to a resource`, {
        detail: 'Hosts are connected before resources are planned; their settings may use variables, locals and other hosts only.',
        range: h.range,
        address: `host.${h.name}`,
      });
    }
  }

  const state = stored ? cloneState(stored) : newState(TSINFRA_VERSION);
  const movedFrom = applyMoves(config, state, diags);

  let drift: Drift[] = [];
  const unreachable = options.tolerateUnreachableHosts ? new Map<string, AgentError>() : undefined;
  // Storage inventories are read while refreshing; without refresh, storage plans without them.
  const storage =
    options.refresh && !options.validateOnly && sessions && options.mode === 'normal' && !diags.hasErrors()
      ? new StorageInventories(sessions, ctx, diags, unreachable)
      : undefined;
  storage?.prefetch(storageHosts(config, ctx));
  if (options.refresh && !options.validateOnly && sessions && state.resources.length > 0 && !diags.hasErrors()) {
    drift = await refreshState(state, ctx, sessions, diags, unreachable);
    // Without knowing what the hosts have, a plan would be wrong.
    if (diags.hasErrors()) return { diagnostics: diags.items, context: ctx };
  }

  const targetSet = resolveTargets(config, state, graph, options.targets, options.mode, diags);
  const replaceSet = new Set(options.replace.map((r) => parseResourceInstanceAddr(r)?.key ?? r));
  const depCache = new Map<string, Set<string>>();
  // Recorded instances by resource: looking them up in the state's list for every
  // instance would make planning quadratic in the size of the state.
  const recorded = new Map<string, ResourceInstanceState[]>();
  for (const r of state.resources) {
    const key = `${r.type}.${r.name}`;
    const list = recorded.get(key);
    if (list) list.push(r);
    else recorded.set(key, [r]);
  }
  const changes: Change[] = [];
  const planned = new Set<string>();

  if (options.mode !== 'refresh-only' && options.mode !== 'destroy') {
    for (const node of order) {
      if (!needsResource.has(node)) continue;
      const kind = nodeKind(node);
      if (kind !== 'resource') {
        if (kind !== 'output') evaluateNode(node, config, ctx, diags);
        continue;
      }
      const decl = config.resources.get(node)!;
      const inTarget = !targetSet || targetSet.has(node);
      const deps = [...resourceDependencies(graph, node, depCache)];
      await planResource(decl, ctx, recorded.get(node) ?? [], inTarget, replaceSet, deps, changes, planned, diags, movedFrom, storage);
    }
    // Annotate: objects re-addressed by moved blocks, objects re-created because they vanished.
    const deleted = new Set(drift.filter((d) => d.kind === 'deleted').map((d) => d.address));
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const from = movedFrom.get(c.address);
      if (from !== undefined) changes[i] = { ...c, movedFrom: from };
      if (c.action === 'create' && deleted.has(c.address)) changes[i] = { ...changes[i]!, reason: 'drift' };
    }
  } else {
    // Nothing is evaluated; instances keep their recorded values for outputs.
    for (const r of state.resources) registerInstance(ctx, r.type, r.name, r.index, r.attributes as ValueObject, r.sensitivePaths);
  }

  if (options.mode !== 'refresh-only') {
    planDeletes(state, options.mode, targetSet, planned, changes);
  }
  checkPreventDestroy(config, changes, ctx, diags);
  if (storage && options.mode === 'normal') {
    checkStoragePlan(changes, await storage.models(), config, diags, (host) => hostInstances(ctx).get(host)?.['install_packages'] === true);
  }

  const outputs = options.mode === 'destroy' ? destroyedOutputs(config, state, targetSet) : planOutputs(config, ctx, state, diags, targetSet);
  changes.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const variables: Record<string, Value> = {};
  for (const [k, v] of ctx.vars) variables[k] = v.value;
  return {
    context: ctx,
    diagnostics: diags.items,
    ...(unreachable?.size ? { unreachableHosts: unreachable } : {}),
    plan: {
      mode: options.mode,
      changes: options.mode === 'refresh-only' ? [] : changes,
      outputs,
      drift,
      priorState: state,
      stateLineage: stored?.lineage ?? state.lineage,
      stateSerial: stored?.serial ?? 0,
      configHash: config.hash,
      configDir: config.dir,
      variables,
      sensitiveVariables: [...config.variables.values()].filter((v) => v.sensitive).map((v) => v.name),
      targets: options.targets,
      replace: options.replace,
      diagnostics: diags.items,
    },
  };
}

function evaluateNode(node: string, config: Config, ctx: EvalContext, diags: Diagnostics): void {
  switch (nodeKind(node)) {
    case 'local': {
      const decl = config.locals.get(node.slice(6))!;
      const r = evaluate(decl.value.expr, ctx.scope(), { range: decl.value.range, address: node });
      diags.append(r.diagnostics);
      ctx.locals.set(decl.name, { value: r.value, sensitive: r.sensitive });
      break;
    }
    case 'host':
      evaluateHost(config.hosts.get(node.slice(5))!, ctx, diags);
      break;
    default:
      break;
  }
}

/**
 * `--target` addresses as resource keys, plus everything they depend on (to create or
 * update them), or everything that depends on them (to destroy them).
 */
function resolveTargets(
  config: Config,
  state: State,
  graph: ReturnType<typeof buildConfigGraph>,
  targets: readonly string[],
  mode: PlanMode,
  diags: Diagnostics,
): Set<string> | undefined {
  if (!targets.length) return undefined;
  const keys: string[] = [];
  // Resources only the state still has (removed from the configuration) can be targeted too, to destroy just them.
  const orphans: string[] = [];
  for (const t of targets) {
    const a = parseResourceInstanceAddr(t);
    if (a && !config.resources.has(a.resource.key) && state.resources.some((r) => `${r.type}.${r.name}` === a.resource.key)) {
      orphans.push(a.resource.key);
      continue;
    }
    if (!a || !config.resources.has(a.resource.key)) {
      const s = suggest(t, config.resources.keys());
      diags.error('E_INVALID_TARGET', `--target ${t} names no resource in the configuration`, { ...(s ? { detail: `Did you mean ${s}?` } : {}) });
      continue;
    }
    keys.push(a.resource.key);
  }
  const out = new Set<string>();
  const closure = mode === 'destroy' ? graph.transitiveDependents(keys) : graph.transitiveDependencies(keys);
  for (const v of closure) if (nodeKind(v) === 'resource') out.add(v);
  for (const k of [...keys, ...orphans]) out.add(k);
  return out;
}

function registerInstance(ctx: EvalContext, type: string, name: string, key: InstanceKey, value: ValueObject, sensitivePaths: readonly string[]): void {
  const rk = `${type}.${name}`;
  let o = ctx.resources.get(rk);
  if (!o) {
    o = {
      expansion: key === undefined ? { mode: 'single' } : typeof key === 'number' ? { mode: 'count', count: 0 } : { mode: 'for_each', keys: [] },
      instances: new Map(),
      sensitivePaths: new Map(),
    };
    ctx.resources.set(rk, o);
  }
  o.instances.set(key ?? '', value);
  o.sensitivePaths.set(key ?? '', sensitivePaths);
  if (o.expansion.mode === 'count' && typeof key === 'number') o.expansion = { mode: 'count', count: Math.max(o.expansion.count, key + 1) };
  if (o.expansion.mode === 'for_each' && typeof key === 'string' && !o.expansion.keys.includes(key)) {
    o.expansion = { mode: 'for_each', keys: [...o.expansion.keys, key].sort() };
  }
}

async function planResource(
  decl: ResourceDecl,
  ctx: EvalContext,
  recorded: readonly ResourceInstanceState[],
  inTarget: boolean,
  replaceSet: ReadonlySet<string>,
  deps: string[],
  changes: Change[],
  planned: Set<string>,
  diags: Diagnostics,
  movedFrom: Map<string, string>,
  storage: StorageInventories | undefined,
): Promise<void> {
  const address = decl.addr.key;
  const provider = providerFor(decl.addr.type);
  if (!provider) {
    const s = suggest(decl.addr.type, resourceTypes());
    diags.error('E_UNKNOWN_RESOURCE_TYPE', `Unknown resource type "${decl.addr.type}"`, {
      detail: s ? `Did you mean "${s}"?` : `Known types: ${resourceTypes().join(', ')}.`,
      range: decl.range,
      address,
    });
    return;
  }
  const { expansion, instances } = expand(decl, ctx.scope(), address, diags);
  const expanded: ExpandedObject = { expansion, instances: new Map(), sensitivePaths: new Map() };
  ctx.resources.set(address, expanded);
  if (!inTarget) {
    // Outside --target: keep what state has so references still resolve.
    for (const r of recorded) {
      expanded.instances.set(r.index ?? '', r.attributes as ValueObject);
      expanded.sensitivePaths.set(r.index ?? '', r.sensitivePaths);
      planned.add(r.address);
    }
    return;
  }
  const depInstances = deps.flatMap((d) => instanceAddresses(ctx, d));
  for (const inst of instances) {
    const addr = decl.addr.instance(inst.key);
    planned.add(addr.key);
    const scope = ctx.scope(inst.rep);
    const before = diags.items.length;
    const body = evaluateBody(decl.body, provider.nestedBlocks, scope, addr.key, diags);
    const host = instanceHost(decl, scope, addr.key, ctx, diags);
    if (diags.items.length > before && diags.items.slice(before).some((d) => d.severity === 'error')) continue;
    checkSchema(provider.schema, body.value, decl.body, decl.range, addr.key, diags, body.sensitivePaths);
    checkIgnoreChanges(decl, provider, addr.key, diags);
    if (diags.items.length > before && diags.items.slice(before).some((d) => d.severity === 'error')) continue;
    const hostStorage = storage && host !== undefined && usesStorage(provider, body.value) ? await storage.model(host) : undefined;
    const pctx = planContext(addr.key, decl, inst.key, host, ctx, hostStorage);
    for (const d of provider.check?.(body.value, pctx) ?? []) {
      const found: Diagnostic = {
        severity: d.severity ?? 'error',
        code: d.code,
        summary: d.summary,
        ...(d.detail ? { detail: d.detail } : {}),
        address: addr.key,
        range: rangeOf(decl.body, d.path) ?? decl.range,
      };
      // Checks quote values (a gateway outside its subnet): never those of a secret.
      diags.add(body.sensitivePaths.length ? redactValues(found) : found);
    }
    if (diags.items.length > before && diags.items.slice(before).some((d) => d.severity === 'error')) continue;
    const prior = recorded.find((r) => r.address === addr.key) ?? implicitMove(recorded, decl, inst.key, instances.length, movedFrom);
    const change = diffInstance({
      provider,
      address: addr.key,
      decl,
      instanceKey: inst.key,
      host: host ?? prior?.host ?? 'host.unknown',
      config: body.value,
      configSensitive: body.sensitivePaths,
      prior,
      replaceRequested: replaceSet.has(addr.key) || replaceSet.has(address),
      dependencies: depInstances,
      ctx,
      diags,
      ...(pctx.hostSettings ? { hostSettings: pctx.hostSettings } : {}),
      ...(hostStorage ? { storage: hostStorage } : {}),
    });
    changes.push(change);
    // What later storage resources on this host see of it ("50%VG" of a group created here).
    if (hostStorage && provider.storage) hostStorage.record(change.address, change.after ? provider.storage.describe(change.after, hostStorage) : undefined);
    expanded.instances.set(inst.key ?? '', (change.after ?? change.before ?? {}) as ValueObject);
    expanded.sensitivePaths.set(inst.key ?? '', change.sensitivePaths);
  }
}

/** ignore_changes may name only attributes the resource type has. */
function checkIgnoreChanges(decl: ResourceDecl, provider: ResourceProvider, address: string, diags: Diagnostics): void {
  const known = schemaKeys(provider.schema);
  for (const { path, range } of decl.lifecycle.ignoreChanges) {
    const name = path.split(/[.[]/)[0]!;
    if (known.includes(name)) continue;
    const s = suggest(name, known);
    diags.error('E_INVALID_IGNORE_CHANGES', `ignore_changes names "${name}", which ${decl.addr.type} does not have`, {
      detail: s ? `Did you mean "${s}"?` : `Attributes of ${decl.addr.type}: ${known.join(', ')}.`,
      range,
      address,
    });
  }
}

/**
 * As in Terraform, adding `count` to a single resource (or removing it when one instance
 * is left) re-addresses the object between `x` and `x[0]` instead of replacing it.
 */
function implicitMove(
  recorded: readonly ResourceInstanceState[],
  decl: ResourceDecl,
  key: InstanceKey,
  instanceCount: number,
  movedFrom: Map<string, string>,
): ResourceInstanceState | undefined {
  const fromKey = key === 0 ? undefined : key === undefined && instanceCount === 1 ? 0 : null;
  if (fromKey === null) return undefined;
  const from = recorded.find((r) => r.index === fromKey);
  if (!from) return undefined;
  const to = decl.addr.instance(key).key;
  movedFrom.set(to, from.address);
  from.address = to;
  if (key === undefined) delete from.index;
  else from.index = key;
  return from;
}

/** Evaluated host instances per run, rebuilt only when a host is not in them yet (hosts are evaluated as the walk reaches them). */
const hostsSeen = new WeakMap<EvalContext, Map<string, ValueObject>>();

function hostSettings(ctx: EvalContext, host: string): ValueObject | undefined {
  let hosts = hostsSeen.get(ctx);
  if (!hosts?.has(host)) {
    hosts = hostInstances(ctx);
    hostsSeen.set(ctx, hosts);
  }
  return hosts.get(host);
}

function planContext(address: string, decl: ResourceDecl, key: InstanceKey, host: string | undefined, ctx: EvalContext, storage?: HostStorage): PlanContext {
  const settings = host === undefined ? undefined : hostSettings(ctx, host);
  return {
    address,
    name: decl.addr.name,
    instanceKey: key,
    host: host ?? '',
    ...(settings ? { hostSettings: settings } : {}),
    ...(storage ? { storage } : {}),
  };
}

/** Whether a resource with this configuration uses the host's storage (LVM). */
function usesStorage(provider: ResourceProvider, config: ValueObject): boolean {
  if (!provider.storage) return false;
  const when = provider.storage.when;
  return !when || when.some((a) => config[a] !== undefined && config[a] !== null);
}

/**
 * Hosts whose storage inventory the plan will need, as far as they are known before
 * resources are planned: those of storage resources whose host needs no count.index or
 * each (the others' are read when planning reaches them).
 */
function storageHosts(config: Config, ctx: EvalContext): Set<string> {
  const out = new Set<string>();
  for (const decl of config.resources.values()) {
    const hooks = providerFor(decl.addr.type)?.storage;
    if (!hooks || (hooks.when && !hooks.when.some((a) => decl.body.attributes.has(a)))) continue;
    const quiet = new Diagnostics();
    const host = instanceHost(decl, ctx.scope(), decl.addr.key, ctx, quiet);
    if (host !== undefined && !quiet.hasErrors()) out.add(host);
  }
  return out;
}

/** Instance addresses of a resource as currently expanded (`network.a[0]`, `network.a[1]`). */
function instanceAddresses(ctx: EvalContext, resourceKey: string): string[] {
  const o = ctx.resources.get(resourceKey);
  if (!o) return [];
  const [type, name] = resourceKey.split('.') as [string, string];
  const base = new ResourceAddr(type, name);
  return [...o.instances.keys()].map((k) => base.instance(k === '' ? undefined : k).key);
}

/** Evaluates the `host` meta-argument into the host's address. */
function instanceHost(decl: ResourceDecl, scope: ReturnType<EvalContext['scope']>, address: string, ctx: EvalContext, diags: Diagnostics): string | undefined {
  if (providerFor(decl.addr.type)?.multiHost) {
    if (!decl.host) return MULTI_HOST;
    diags.error('E_HOST_NOT_ALLOWED', `${decl.addr.type} spans several hosts and takes no host`, {
      detail: 'List its member hosts in `hosts` instead.',
      range: decl.host.range,
      address,
    });
    return undefined;
  }
  if (!decl.host) {
    if (ctx.config.hosts.size === 1 && [...ctx.config.hosts.values()][0]!.count === undefined && [...ctx.config.hosts.values()][0]!.forEach === undefined) {
      return `host.${[...ctx.config.hosts.keys()][0]!}`;
    }
    diags.error('E_MISSING_HOST', `Resource ${address} has no host`, {
      detail: 'Set host = host.NAME: every resource lives on exactly one host.',
      range: decl.range,
      address,
    });
    return undefined;
  }
  const r = evaluate(decl.host.expr, scope, { range: decl.host.range, address });
  diags.append(r.diagnostics);
  if (r.diagnostics.length) return undefined;
  const id = isObject(r.value) ? r.value['id'] : undefined;
  if (typeof id !== 'string' || !id.startsWith('host.')) {
    const many = Array.isArray(r.value) || (isObject(r.value) && !('id' in r.value));
    diags.error('E_INVALID_HOST', 'host must refer to one host, such as host.web or host.web[0]', {
      ...(many ? { detail: 'This host has count or for_each: pick one instance with [index] or [key].' } : {}),
      range: decl.host.range,
      address,
    });
    return undefined;
  }
  return id;
}

/** Instances in state that the configuration no longer has (or all of them, when destroying). */
function planDeletes(state: State, mode: PlanMode, targets: Set<string> | undefined, planned: Set<string>, changes: Change[]): void {
  for (const r of state.resources) {
    if (mode === 'normal' && planned.has(r.address)) continue;
    if (targets && !targets.has(`${r.type}.${r.name}`)) continue;
    changes.push({
      address: r.address,
      type: r.type,
      name: r.name,
      ...(r.index !== undefined ? { index: r.index } : {}),
      host: r.host,
      action: 'delete',
      ...(mode === 'normal' ? { reason: 'no-config' as const } : {}),
      before: r.attributes as ValueObject,
      after: null,
      replacePaths: [],
      sensitivePaths: r.sensitivePaths,
      dependencies: r.dependencies,
      createBeforeDestroy: false,
    });
  }
}

function checkRequiredVersion(config: Config, diags: Diagnostics): void {
  const attr = config.settings.requiredVersion;
  if (!attr) return;
  const ok = typeof attr.expr === 'string' ? satisfies(TSINFRA_VERSION, attr.expr) : undefined;
  if (ok === undefined) {
    diags.error('E_INVALID_VERSION_CONSTRAINT', 'required_version must be a version constraint such as ">= 0.1, < 2"', { range: attr.range });
  } else if (!ok) {
    diags.error('E_UNSUPPORTED_VERSION', `This configuration needs tsinfra ${String(attr.expr)}; this is tsinfra ${TSINFRA_VERSION}`, {
      detail: 'Use a tsinfra version that satisfies the constraint, or change required_version.',
      range: attr.range,
    });
  }
}

function checkPreventDestroy(config: Config, changes: Change[], ctx: EvalContext, diags: Diagnostics): void {
  for (const c of changes) {
    if (c.action !== 'delete' && c.action !== 'delete-then-create' && c.action !== 'create-then-delete') continue;
    const decl = config.resources.get(`${c.type}.${c.name}`);
    const attr = decl?.lifecycle.preventDestroy;
    if (!decl || !attr) continue;
    const r = evaluate(attr.expr, ctx.scope(), { range: attr.range, address: c.address });
    if (r.value !== true) continue;
    diags.error('E_PREVENT_DESTROY', `${c.address} has lifecycle.prevent_destroy set, but the plan would destroy it`, {
      detail:
        c.action === 'delete'
          ? 'Remove prevent_destroy first if you really mean to destroy it, or leave it out of this run with --target.'
          : `It must be replaced because of: ${c.reason === 'cannot-update' ? c.replacePaths.join(', ') : (c.reason ?? 'a requested replacement')}. Undo that change, or remove prevent_destroy first.`,
      range: attr.range,
      address: c.address,
    });
  }
}

function planOutputs(config: Config, ctx: EvalContext, state: State, diags: Diagnostics, targets: Set<string> | undefined): OutputChange[] {
  const out: OutputChange[] = [];
  for (const o of config.outputs.values()) {
    const r = evaluate(o.value.expr, ctx.scope(), { range: o.value.range, address: `output.${o.name}` });
    if (!targets) diags.append(r.diagnostics);
    const prior = state.outputs[o.name];
    const before = prior?.value as Value | undefined;
    const after = r.diagnostics.length ? undefined : r.value;
    if (!o.sensitive && r.sensitive) {
      diags.error('E_SENSITIVE_OUTPUT', `Output "${o.name}" uses a sensitive value`, {
        detail: 'Add sensitive = true to the output to show it is meant to be hidden.',
        range: o.value.range,
        address: `output.${o.name}`,
      });
    }
    out.push({
      name: o.name,
      action: before === undefined ? 'create' : valuesEqual(before, after) ? 'no-op' : 'update',
      before,
      after,
      sensitive: o.sensitive || r.sensitive,
    });
  }
  for (const [name, o] of Object.entries(state.outputs)) {
    if (!config.outputs.has(name)) out.push({ name, action: 'delete', before: o.value as Value, after: undefined, sensitive: o.sensitive });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Outputs a destroy removes: all of them, or with --target those that come from what is destroyed. */
function destroyedOutputs(config: Config, state: State, targets: ReadonlySet<string> | undefined): OutputChange[] {
  return Object.entries(state.outputs)
    .filter(([name]) => !targets || outputUses(config, name, targets))
    .map(([name, o]) => ({ name, action: 'delete', before: o.value as Value, after: undefined, sensitive: o.sensitive }));
}
