// Human rendering of a plan, as the SPEC shows: one block per changed resource,
// attributes sorted and flattened to paths (`resources.memory`), unchanged ones
// summarised, `# forces replacement` on the attributes that force it, a totals line.
// Providers may add a note after a value (`size = "50%VG" (2.0 GiB)`).
import { parseResourceInstanceAddr } from '../../plan-engine/addresses.js';
import { actionSymbol } from '../../plan-engine/plan/action.js';
import { countChanges, type Change, type Drift, type Plan } from '../../plan-engine/plan/model.js';
import { isObject, isUnknown, isWithinPath, valuesEqual, type Value, type ValueObject } from '../../plan-engine/values.js';
import { providerFor } from '../../providers/registry.js';
import type { Style } from './style.js';

const SENSITIVE = '(sensitive value)';
const UNKNOWN_TEXT = '(known after apply)';

/** `a.b`, or `a["b.c"]` for a key that is not a plain name (so that paths never collide). */
function childPath(prefix: string, key: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return prefix ? `${prefix}.${key}` : key;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/** Flattens a value into leaf paths: objects by `.key`, lists by `[i]`. Empty containers are leaves. */
export function flatten(v: Value | undefined, prefix = '', out = new Map<string, Value>()): Map<string, Value> {
  if (isObject(v) && Object.keys(v).length) {
    for (const [k, x] of Object.entries(v)) flatten(x, childPath(prefix, k), out);
  } else if (Array.isArray(v) && v.length && v.some((x) => isObject(x) || Array.isArray(x))) {
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, out));
  } else if (v !== undefined) {
    out.set(prefix, v);
  }
  return out;
}

function isSensitive(path: string, sensitive: readonly string[]): boolean {
  return sensitive.some((s) => isWithinPath(path, s));
}

export function formatValue(v: Value | undefined, sensitive = false): string {
  if (sensitive) return SENSITIVE;
  if (v === undefined || v === null) return 'null';
  if (isUnknown(v)) return UNKNOWN_TEXT;
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => formatValue(x)).join(', ')}]`;
  if (isObject(v))
    return `{ ${Object.keys(v)
      .sort()
      .map((k) => `${k} = ${formatValue(v[k])}`)
      .join(', ')} }`;
  return String(v);
}

function heading(c: Change): string {
  const a = c.address;
  switch (c.action) {
    case 'create':
      return c.reason === 'drift' ? `# ${a} will be created (it was deleted outside tsinfra)` : `# ${a} will be created`;
    case 'update':
      return `# ${a} will be updated in place`;
    case 'delete':
      return c.reason === 'no-config' ? `# ${a} will be destroyed (no longer in the configuration)` : `# ${a} will be destroyed`;
    case 'delete-then-create':
    case 'create-then-delete':
      return c.reason === 'tainted'
        ? `# ${a} is tainted, so it must be replaced`
        : c.reason === 'requested'
          ? `# ${a} will be replaced, as requested`
          : `# ${a} must be replaced`;
    default:
      return `# ${a}`;
  }
}

function symbolStyle(sym: string, style: Style): string {
  if (sym === '+') return style.green(sym);
  if (sym === '-') return style.red(sym);
  if (sym === '~') return style.yellow(sym);
  if (sym.includes('/')) return style.red(sym);
  return sym;
}

export function renderChange(c: Change, style: Style): string {
  if (c.action === 'no-op' && c.movedFrom) return `  ${style.bold(`# ${c.movedFrom} has moved to ${c.address}`)}`;
  const lines: string[] = [];
  const sym = actionSymbol(c.action);
  lines.push(`  ${style.bold(heading(c))}`);
  if (c.movedFrom) lines.push(`  # (moved from ${c.movedFrom})`);
  const pad = sym.length === 1 ? '  ' : '';
  lines.push(`${pad}${symbolStyle(sym, style)} resource "${c.type}" "${c.name}" {`);
  const before = flatten(c.before ?? undefined);
  const after = flatten(c.after ?? undefined);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const shown = paths.filter((p) => (c.action === 'create' ? after.get(p) !== null : c.action === 'delete' || !valuesEqual(before.get(p), after.get(p))));
  const width = Math.max(0, ...shown.map((p) => p.length));
  const notesOf = (state: ValueObject | null) => (state ? (providerFor(c.type)?.valueNotes?.(state) ?? {}) : {});
  const beforeNotes = notesOf(c.before);
  const afterNotes = notesOf(c.after);
  let hidden = 0;
  for (const p of paths) {
    const b = before.get(p);
    const a = after.get(p);
    const sens = isSensitive(p, c.sensitivePaths);
    const top = p.split(/[.[]/)[0]!;
    // Replacement paths are top-level attributes, or nested ones (`filesystem.type`).
    const forces = c.replacePaths.some((r) => r === top || isWithinPath(p, r)) ? style.red(' # forces replacement') : '';
    const name = p.padEnd(width);
    const was = formatValue(b, sens) + (!sens && beforeNotes[p] ? ` (${beforeNotes[p]})` : '');
    const now = formatValue(a, sens) + (!sens && afterNotes[p] ? ` (${afterNotes[p]})` : '');
    if (c.action === 'create') {
      // As Terraform: a new object's unset (null) attributes are not worth a line.
      if (a === null || a === undefined) continue;
      lines.push(`      ${style.green('+')} ${name} = ${now}`);
    } else if (c.action === 'delete') lines.push(`      ${style.red('-')} ${name} = ${was}`);
    else if (b === undefined || b === null) {
      if (a === undefined || a === null) hidden++;
      else lines.push(`      ${style.green('+')} ${name} = ${now}${forces}`);
    } else if (a === undefined) lines.push(`      ${style.red('-')} ${name} = ${was}${forces}`);
    else if (valuesEqual(a, b)) hidden++;
    else lines.push(`      ${style.yellow('~')} ${name} = ${was} -> ${now}${forces}`);
  }
  if (hidden) lines.push(style.dim(`        # (${hidden} unchanged attribute${hidden === 1 ? '' : 's'} hidden)`));
  lines.push('    }');
  return lines.join('\n');
}

export function renderDrift(drift: readonly Drift[], style: Style): string {
  if (!drift.length) return '';
  const lines = [style.bold('Objects changed outside of tsinfra:'), ''];
  for (const d of drift) {
    if (d.kind === 'deleted') {
      lines.push(`  # ${d.address} has been deleted`);
      continue;
    }
    lines.push(`  # ${d.address} has changed`);
    const addr = parseResourceInstanceAddr(d.address);
    if (addr) lines.push(`  ${style.yellow('~')} resource "${addr.type}" "${addr.name}" {`);
    const before = flatten(d.before);
    const after = flatten(d.after as ValueObject);
    for (const p of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const b = before.get(p);
      const a = after.get(p);
      if (valuesEqual(a, b)) continue;
      const sens = isSensitive(p, d.sensitivePaths);
      lines.push(`      ${style.yellow('~')} ${p} = ${formatValue(b, sens)} -> ${formatValue(a, sens)}`);
    }
    if (addr) lines.push('    }');
  }
  lines.push('');
  return lines.join('\n') + '\n';
}

export function totalsLine(plan: Plan): string {
  const t = countChanges(plan.changes);
  return `Plan: ${t.add} to add, ${t.change} to change, ${t.destroy} to destroy.`;
}

export function renderPlan(plan: Plan, style: Style): string {
  const out: string[] = [];
  const drift = renderDrift(plan.drift, style);
  if (drift) out.push(drift);
  const changed = plan.changes.filter((c) => c.action !== 'no-op' || c.movedFrom !== undefined);
  const outputChanges = plan.outputs.filter((o) => o.action !== 'no-op');
  if (plan.mode === 'refresh-only') {
    out.push(
      plan.drift.length
        ? 'Applying this refresh-only plan will update the state to match the objects above.\n'
        : 'No changes. The state matches what the hosts have.\n',
    );
    return out.join('\n');
  }
  if (!changed.length && !outputChanges.length) {
    out.push('No changes. The hosts match the configuration.\n');
    return out.join('\n');
  }
  if (changed.length) {
    out.push('tsinfra will perform the following actions:\n');
    for (const c of changed) out.push(renderChange(c, style) + '\n');
    out.push(style.bold(totalsLine(plan)));
  }
  if (outputChanges.length) {
    out.push('\nChanges to outputs:');
    for (const o of outputChanges) {
      const sym = o.action === 'create' ? '+' : o.action === 'delete' ? '-' : '~';
      const val =
        o.action === 'update'
          ? `${formatValue(o.before, o.sensitive)} -> ${formatValue(o.after, o.sensitive)}`
          : formatValue(o.action === 'delete' ? o.before : o.after, o.sensitive);
      out.push(`  ${symbolStyle(sym, style)} ${o.name} = ${val}`);
    }
  }
  return out.join('\n') + '\n';
}
