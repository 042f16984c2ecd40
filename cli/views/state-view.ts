// Human rendering of the state (`tsinfra show`, `state show`).
import type { ResourceInstanceState, State } from '../../state/model.js';
import { isWithinPath, type Value } from '../../plan-engine/values.js';
import { flatten, formatValue } from './plan-view.js';
import type { Style } from './style.js';

export function renderResource(r: ResourceInstanceState, style: Style): string {
  const lines = [`# ${r.address}:${r.status === 'tainted' ? ' (tainted)' : ''}`, `resource "${r.type}" "${r.name}" {`];
  const attrs = flatten(r.attributes as Value);
  const width = Math.max(0, ...[...attrs.keys()].map((k) => k.length));
  for (const [p, v] of [...attrs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const sens = r.sensitivePaths.some((s) => isWithinPath(p, s));
    lines.push(`    ${p.padEnd(width)} = ${formatValue(v, sens)}`);
  }
  lines.push(`    ${style.dim(`# on ${r.host}`)}`, '}');
  return lines.join('\n');
}

export function renderState(state: State | null, style: Style): string {
  if (!state || (!state.resources.length && !Object.keys(state.outputs).length)) return 'The state is empty.';
  const parts = state.resources.map((r) => renderResource(r, style));
  const outputs = Object.entries(state.outputs).sort();
  if (outputs.length) {
    parts.push('Outputs:\n\n' + outputs.map(([k, o]) => `${k} = ${formatValue(o.value as Value, o.sensitive)}`).join('\n'));
  }
  return parts.join('\n\n') + '\n';
}
