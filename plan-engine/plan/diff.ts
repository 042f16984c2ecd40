// Diffs one resource instance: recorded (refreshed) state against the provider's
// planned state for the configuration, into a Change with an Action and a Reason.
import type { ResourceDecl } from '../config/model.js';
import { redactValues, type Diagnostics } from '../diagnostics.js';
import { evaluate } from '../expressions/index.js';
import type { InstanceKey } from '../addresses.js';
import type { PlanContext, ResourceProvider } from '../../providers/provider.js';
import type { HostStorage } from '../../providers/storage-model.js';
import type { ResourceInstanceState } from '../../state/model.js';
import { cloneValue, getPath, isObject, isUnknown, isWithinPath, valuesEqual, type ValueObject } from '../values.js';
import type { Action, Reason } from './action.js';
import type { EvalContext } from './eval-context.js';
import type { Change } from './model.js';
import { rangeOf } from './schema-issues.js';

export interface DiffInput {
  readonly provider: ResourceProvider;
  readonly address: string;
  readonly decl: ResourceDecl;
  readonly instanceKey: InstanceKey;
  readonly host: string;
  readonly config: ValueObject;
  readonly configSensitive: readonly string[];
  readonly prior: ResourceInstanceState | undefined;
  readonly replaceRequested: boolean;
  readonly dependencies: readonly string[];
  readonly ctx: EvalContext;
  readonly diags: Diagnostics;
  /** The evaluated host block, for providers whose plan depends on host settings. */
  readonly hostSettings?: Readonly<Record<string, unknown>>;
  /** The host's storage, when the plan read it (storage types). */
  readonly storage?: HostStorage;
}

export function diffInstance(d: DiffInput): Change {
  const { provider, prior } = d;
  const pctx: PlanContext = {
    address: d.address,
    name: d.decl.addr.name,
    instanceKey: d.instanceKey,
    host: d.host,
    ...(d.hostSettings ? { hostSettings: d.hostSettings } : {}),
    ...(d.storage ? { storage: d.storage } : {}),
  };
  const before = prior ? (prior.attributes as ValueObject) : null;
  // ignore_changes keeps the recorded values of the named configuration attributes.
  const config = applyIgnoreChanges(d.decl, d.config, before);
  let after = provider.plan(config, before, pctx);
  const cbd = createBeforeDestroy(d);
  const base = {
    address: d.address,
    type: d.decl.addr.type,
    name: d.decl.addr.name,
    ...(d.instanceKey !== undefined ? { index: d.instanceKey } : {}),
    host: d.host,
    sensitivePaths: sensitivePaths(d.configSensitive, provider),
    dependencies: d.dependencies,
    ...(prior ? { priorDependencies: prior.dependencies } : {}),
    createBeforeDestroy: cbd,
  };
  if (!before) return { ...base, action: 'create', before: null, after, replacePaths: [] };

  const changed = changedAttributes(before, after, provider);
  let reason: Reason | undefined;
  let replacePaths: string[] = [];
  if (prior!.status === 'tainted') reason = 'tainted';
  else if (d.replaceRequested) reason = 'requested';
  else if (prior!.host !== d.host) {
    reason = 'cannot-update';
    replacePaths = ['host'];
  } else {
    replacePaths = [...changed.filter((k) => !provider.updatable.includes(k)), ...nestedReplacePaths(before, after, provider)];
    if (replacePaths.length) reason = 'cannot-update';
  }
  if (reason) {
    // A new object: computed attributes are computed afresh.
    after = provider.plan(config, null, pctx);
    const action: Action = cbd ? 'create-then-delete' : 'delete-then-create';
    const oldId = before['id'];
    if (cbd && typeof oldId === 'string' && after['id'] === oldId) {
      d.diags.error('E_CREATE_BEFORE_DESTROY', `${d.address} cannot be created before the old one is destroyed`, {
        detail: `The replacement would have the same id (${oldId}) as the object it replaces, so both cannot exist at once. Give it another name, or remove create_before_destroy.`,
        range: d.decl.lifecycle.createBeforeDestroy?.range ?? d.decl.range,
        address: d.address,
      });
    }
    return { ...base, action, reason, before, after, replacePaths };
  }
  if (changed.length === 0) return { ...base, action: 'no-op', before, after: before, replacePaths: [] };
  checkChange(d, before, after, pctx);
  return { ...base, action: 'update', before, after, replacePaths: [] };
}

/** Nested paths (provider.replaceOnChange) whose value changed, appeared or disappeared. */
function nestedReplacePaths(before: ValueObject, after: ValueObject, provider: ResourceProvider): string[] {
  return (provider.replaceOnChange ?? []).filter((p) => {
    const path = p.split('.');
    return !valuesEqual(getPath(before, path) ?? null, getPath(after, path) ?? null);
  });
}

/** provider.checkChange on an in-place update: its errors stop the plan, at the attribute's line. */
function checkChange(d: DiffInput, before: ValueObject, after: ValueObject, pctx: PlanContext): void {
  for (const p of d.provider.checkChange?.(before, after, pctx) ?? []) {
    const found = {
      severity: p.severity ?? ('error' as const),
      code: p.code,
      summary: p.summary,
      ...(p.detail ? { detail: p.detail } : {}),
      address: d.address,
      range: rangeOf(d.decl.body, p.path) ?? d.decl.range,
    };
    d.diags.add(d.configSensitive.length ? redactValues(found) : found);
  }
}

function sensitivePaths(fromConfig: readonly string[], provider: ResourceProvider): string[] {
  const out = new Set([...fromConfig, ...provider.sensitive]);
  for (const [derived, source] of Object.entries(provider.derivedSensitive ?? {})) {
    if (fromConfig.some((p) => isWithinPath(p, source))) out.add(derived);
  }
  return [...out].sort();
}

/** Top-level attributes that differ; a computed attribute still unknown is not a change by itself. */
export function changedAttributes(before: ValueObject, after: ValueObject, provider: ResourceProvider): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: string[] = [];
  for (const k of keys) {
    const a = after[k];
    if (isUnknown(a) && provider.computed.includes(k)) continue;
    // Observed attributes follow the host (a group's free space): never a change by themselves.
    if (provider.observed?.includes(k)) continue;
    if (!valuesEqual(before[k] ?? null, a ?? null)) out.push(k);
  }
  return out.sort();
}

/** lifecycle.ignore_changes: keep the recorded value for the named attributes. */
function applyIgnoreChanges(decl: ResourceDecl, after: ValueObject, before: ValueObject | null): ValueObject {
  // `after` is the configuration here: only attributes it sets can be ignored.
  const lc = decl.lifecycle;
  if (!before || (!lc.ignoreAll && lc.ignoreChanges.length === 0)) return after;
  const out = cloneValue(after) as ValueObject;
  if (lc.ignoreAll) {
    for (const k of Object.keys(out)) if (k in before) out[k] = before[k]!;
    return out;
  }
  for (const { path } of lc.ignoreChanges) {
    const parts = path.split('.');
    let src: unknown = before;
    let dst: unknown = out;
    for (let i = 0; i < parts.length - 1; i++) {
      src = isObject(src as never) ? (src as ValueObject)[parts[i]!] : undefined;
      dst = isObject(dst as never) ? (dst as ValueObject)[parts[i]!] : undefined;
    }
    const last = parts[parts.length - 1]!;
    if (isObject(dst as never) && isObject(src as never) && last in (src as ValueObject)) (dst as ValueObject)[last] = (src as ValueObject)[last]!;
  }
  return out;
}

/** Evaluates lifecycle.create_before_destroy (an expression, usually a literal). */
function createBeforeDestroy(d: DiffInput): boolean {
  const attr = d.decl.lifecycle.createBeforeDestroy;
  if (!attr) return false;
  const r = evaluate(attr.expr, d.ctx.scope(), { range: attr.range, address: d.address });
  d.diags.append(r.diagnostics);
  if (typeof r.value !== 'boolean') {
    if (!r.diagnostics.length)
      d.diags.error('E_TYPE_MISMATCH', 'lifecycle.create_before_destroy must be true or false', {
        range: attr.range,
        address: d.address,
      });
    return false;
  }
  return r.value;
}
