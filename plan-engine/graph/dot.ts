// Graphviz DOT output for `tsinfra graph`. Deterministic: nodes sorted by key, edges
// by (dependent, dependency) key, attributes by name, so the output can be diffed
// and checked in tests.
import type { Graph } from './dag.js';

export interface DotOptions<V> {
  /** The text shown for a vertex. */
  readonly label: (v: V) => string;
  /** Extra node attributes (`shape`, `color`...); `label` here is ignored in favour of the option. */
  readonly attrs?: (v: V) => Record<string, string>;
  /** Graph attributes (`rankdir`...). */
  readonly graphAttrs?: Record<string, string>;
}

/**
 * The graph in DOT. Nodes are named by their key, edges point from dependent to
 * dependency, as in `terraform graph`.
 */
export function toDot<V>(g: Graph<V>, options: DotOptions<V>): string {
  const ix = g.indexed();
  const lines = ['digraph {'];
  for (const [name, value] of sortedEntries(options.graphAttrs ?? {})) {
    lines.push(`  ${attrName(name)}=${quote(value)};`);
  }
  for (let id = 0; id < ix.vertices.length; id++) {
    const v = ix.vertices[id]!;
    const attrs = { ...options.attrs?.(v), label: options.label(v) };
    const list = sortedEntries(attrs).map(([name, value]) => `${attrName(name)}=${quote(value)}`);
    lines.push(`  ${quote(ix.keys[id]!)} [${list.join(', ')}];`);
  }
  for (let id = 0; id < ix.vertices.length; id++) {
    for (let p = ix.depStart[id]!; p < ix.depStart[id + 1]!; p++) {
      lines.push(`  ${quote(ix.keys[id]!)} -> ${quote(ix.keys[ix.depList[p]!]!)};`);
    }
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

function sortedEntries(r: Record<string, string>): Array<[string, string]> {
  return Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Attribute names are identifiers in practice; quote anything else. */
function attrName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : quote(name);
}

/**
 * A DOT quoted string. `"` must be escaped; backslashes are doubled because Graphviz
 * reads labels as escape strings (`\n`, `\l`), and line breaks become `\n`. A string
 * cannot end in a backslash (the lexer would read `\"` as an escaped quote), so a
 * trailing one is followed by a space.
 */
function quote(s: string): string {
  let body = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n');
  if (body.endsWith('\\')) body += ' ';
  return `"${body}"`;
}
