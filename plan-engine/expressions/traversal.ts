// Traversal steps of scopeTraversal and relativeTraversal nodes. The parser gives
// each step's source text (`front`, `0`, `"k"`); they are decoded once per node and
// remembered, since the same cached AST is evaluated for many resource instances.
import { cookLiteral } from './template-source.js';

export interface Step {
  /** `.name` (attr) or `[key]` (index). */
  readonly kind: 'attr' | 'index';
  readonly key: string | number;
}

interface TraversalNode {
  readonly meta?: { readonly value?: string; readonly [k: string]: unknown };
}

interface TraversalPart {
  readonly type: string;
  readonly segment: string;
}

const decoded = new WeakMap<object, readonly Step[]>();

export function stepsOf(n: TraversalNode): readonly Step[] {
  let steps = decoded.get(n);
  if (steps === undefined) {
    const parts = (n.meta?.['traversal'] ?? []) as readonly TraversalPart[];
    steps = parts.map(decodeStep);
    decoded.set(n, steps);
  }
  return steps;
}

function decodeStep(p: TraversalPart): Step {
  if (p.type === 'nameTraversal') return { kind: 'attr', key: p.segment };
  const seg = p.segment;
  if (/^-?\d+(\.\d+)?$/.test(seg)) return { kind: 'index', key: Number(seg) };
  if (seg.length >= 2 && seg.startsWith('"') && seg.endsWith('"')) return { kind: 'index', key: cookLiteral(seg.slice(1, -1)) };
  return { kind: 'index', key: seg };
}

/** The traversal as written, normalized (`network.front[0].id`). */
export function traversalText(n: TraversalNode): string {
  const full = n.meta?.['fullAccessor'];
  return typeof full === 'string' ? full : (n.meta?.value ?? '');
}
