// The references an expression makes: every root traversal (`var.x`,
// `network.front[0].id`, `count.index`) that is not a variable bound by an enclosing
// `for`. The graph builder draws dependency edges from them. Results are remembered
// per template, since thousands of resource instances share the same templates.
import { lookupTemplate } from './ast-cache.js';
import { isTemplate } from './template-source.js';
import { stepsOf, traversalText } from './traversal.js';

export interface Reference {
  readonly root: string;
  /** The full traversal, root included: `['network', 'front', 0, 'id']`. */
  readonly parts: readonly (string | number)[];
  /** As written, normalized: `network.front[0].id`. */
  readonly text: string;
}

interface Node {
  readonly type: string;
  readonly children: readonly Node[];
  readonly meta?: { readonly value?: string; readonly [k: string]: unknown };
}

const byTemplate = new Map<string, readonly Reference[]>();

/** The distinct references of a raw expression, in order of first appearance. */
export function referencesOf(raw: unknown): Reference[] {
  const out: Reference[] = [];
  const seen = new Set<string>();
  const add = (refs: readonly Reference[]): void => {
    for (const r of refs) {
      if (!seen.has(r.text)) {
        seen.add(r.text);
        out.push(r);
      }
    }
  };
  visitRaw(raw, (template) => add(referencesOfTemplate(template)));
  return out;
}

function visitRaw(raw: unknown, onTemplate: (t: string) => void): void {
  if (typeof raw === 'string') {
    if (isTemplate(raw)) onTemplate(raw);
  } else if (Array.isArray(raw)) {
    for (const x of raw) visitRaw(x, onTemplate);
  } else if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) {
      if (isTemplate(k)) onTemplate(k);
      visitRaw(v, onTemplate);
    }
  }
}

/** References of one template; a template with a syntax error has none (its error is reported by parsing). */
export function referencesOfTemplate(template: string): readonly Reference[] {
  const cached = byTemplate.get(template);
  if (cached !== undefined) return cached;
  const parsed = lookupTemplate(template);
  if (parsed === undefined) throw new Error(`referencesOf: template not parsed (call parseTemplates first): ${template}`);
  const refs: Reference[] = [];
  if ('ast' in parsed) collect(parsed.ast as unknown as Node, new Set(), refs);
  byTemplate.set(template, refs);
  return refs;
}

function collect(n: Node, bound: ReadonlySet<string>, out: Reference[]): void {
  if (n.type === 'scopeTraversal') {
    const steps = stepsOf(n);
    const root = String(steps[0]?.key);
    if (!bound.has(root)) out.push({ root, parts: steps.map((s) => s.key), text: traversalText(n) });
    return;
  }
  if (n.type === 'for') {
    const meta = n.meta as { keyVar?: string; valVar?: string };
    const [collection, ...body] = n.children;
    if (collection !== undefined) collect(collection, bound, out); // the collection sees the outer scope only
    const inner = new Set(bound);
    if (meta.keyVar) inner.add(meta.keyVar);
    if (meta.valVar) inner.add(meta.valVar);
    for (const c of body) collect(c, inner, out);
    return;
  }
  for (const c of n.children) collect(c, bound, out);
}

/** Forgets remembered references (with clearAstCache). */
export function clearReferenceCache(): void {
  byTemplate.clear();
}
