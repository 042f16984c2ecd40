// The machine-readable forms of plans, state and outputs (`--json`). Documented in
// docs/json-format.md; `format_version` changes its major number on any incompatible
// change. Sensitive values are never written: they are replaced by null and their
// paths listed, as are unknown values (`after_unknown`).
import type { Change, Plan } from '../../plan-engine/plan/model.js';
import { containsUnknown, isObject, isUnknown, type Value } from '../../plan-engine/values.js';
import type { State } from '../../state/model.js';
import { TSINFRA_VERSION } from '../../plan-engine/version.js';
import { flatten } from './plan-view.js';

export const JSON_FORMAT_VERSION = '1.0';

/** Copies a value with sensitive paths replaced by null and unknowns by null. */
export function redact(v: Value | undefined, sensitive: readonly string[], prefix = ''): unknown {
  if (v === undefined) return null;
  if (sensitive.some((s) => s === prefix)) return null;
  if (isUnknown(v)) return null;
  if (Array.isArray(v)) return v.map((x, i) => redact(x, sensitive, `${prefix}[${i}]`));
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = redact(x, sensitive, prefix ? `${prefix}.${k}` : k);
    return o;
  }
  return v;
}

function unknownPaths(v: Value | null): string[] {
  if (!v) return [];
  return [...flatten(v)].filter(([, x]) => isUnknown(x)).map(([p]) => p);
}

function changeJson(c: Change): Record<string, unknown> {
  return {
    address: c.address,
    type: c.type,
    name: c.name,
    index: c.index ?? null,
    host: c.host,
    action: c.action,
    reason: c.reason ?? null,
    before: redact(c.before ?? undefined, c.sensitivePaths),
    after: redact(c.after ?? undefined, c.sensitivePaths),
    after_unknown: unknownPaths(c.after),
    sensitive_paths: c.sensitivePaths,
    replace_paths: c.replacePaths,
    dependencies: c.dependencies,
    moved_from: c.movedFrom ?? null,
  };
}

export function planJson(plan: Plan): Record<string, unknown> {
  return {
    format_version: JSON_FORMAT_VERSION,
    tsinfra_version: TSINFRA_VERSION,
    mode: plan.mode,
    state_lineage: plan.stateLineage,
    state_serial: plan.stateSerial,
    config_hash: plan.configHash,
    resource_changes: plan.changes.map(changeJson),
    resource_drift: plan.drift.map((d) => ({
      address: d.address,
      kind: d.kind,
      before: redact(d.before, d.sensitivePaths),
      after: redact(d.after ?? undefined, d.sensitivePaths),
    })),
    output_changes: Object.fromEntries(
      plan.outputs.map((o) => [
        o.name,
        {
          action: o.action,
          sensitive: o.sensitive,
          before: o.sensitive ? null : redact(o.before, []),
          after: o.sensitive ? null : redact(o.after, []),
          after_unknown: o.after !== undefined && containsUnknown(o.after),
        },
      ]),
    ),
    variables: Object.fromEntries(Object.entries(plan.variables).map(([k, v]) => [k, plan.sensitiveVariables.includes(k) ? null : redact(v, [])])),
    targets: plan.targets,
    errored: plan.diagnostics.some((d) => d.severity === 'error'),
  };
}

export function stateJson(state: State | null): Record<string, unknown> {
  return {
    format_version: JSON_FORMAT_VERSION,
    tsinfra_version: TSINFRA_VERSION,
    lineage: state?.lineage ?? null,
    serial: state?.serial ?? 0,
    resources: (state?.resources ?? []).map((r) => ({
      address: r.address,
      type: r.type,
      name: r.name,
      index: r.index ?? null,
      host: r.host,
      status: r.status,
      attributes: redact(r.attributes as Value, r.sensitivePaths),
      sensitive_paths: r.sensitivePaths,
      dependencies: r.dependencies,
    })),
    outputs: outputsJson(state),
  };
}

export function outputsJson(state: State | null): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state?.outputs ?? {}).map(([k, o]) => [k, { sensitive: o.sensitive, value: o.sensitive ? null : o.value }]));
}
