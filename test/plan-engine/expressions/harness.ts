// Shared test scaffolding: a scope over plain data and a one-call evaluator.
import { collectTemplates, parseTemplates } from '../../../plan-engine/expressions/ast-cache.js';
import { evaluate, type EvalContext, type EvalResult, type Scope } from '../../../plan-engine/expressions/evaluate.js';
import { isObject, type Value } from '../../../plan-engine/values.js';

/** Roots whose second part names a declared item (`var.x`): resolving consumes both parts. */
const NAMESPACES = new Set(['var', 'local', 'host', 'count', 'each']);

export interface ScopeOptions {
  /** Dotted names (`var.password`) whose values are sensitive. */
  readonly sensitive?: readonly string[];
  readonly baseDir?: string;
}

/**
 * A scope over data: `{ var: { x: 1 }, network: { front: {...} } }`. Namespaced roots
 * resolve two parts and are undeclared when the item is missing; resource-like roots
 * resolve two parts (type and name) too.
 */
export function dataScope(roots: Record<string, Value>, opts: ScopeOptions = {}): Scope {
  const sensitive = new Set(opts.sensitive ?? []);
  const scope: Scope = {
    resolve(parts) {
      const root = String(parts[0]);
      const ns = roots[root];
      if (ns === undefined || !isObject(ns)) return undefined;
      const name = parts[1];
      if (typeof name !== 'string' || !Object.hasOwn(ns, name)) return undefined;
      const out: { value: Value; consumed: number; sensitive?: boolean } = { value: ns[name]!, consumed: 2 };
      if (sensitive.has(`${root}.${name}`)) out.sensitive = true;
      return out;
    },
    candidates(root) {
      const ns = roots[root];
      if (ns !== undefined && isObject(ns)) return Object.keys(ns).map((k) => `${root}.${k}`);
      return Object.keys(roots).flatMap((r) => {
        const v = roots[r];
        return NAMESPACES.has(r) || !isObject(v) ? [r] : Object.keys(v).map((k) => `${r}.${k}`);
      });
    },
  };
  if (opts.baseDir !== undefined) scope.baseDir = opts.baseDir;
  return scope;
}

/** Parses the templates of a raw expression and evaluates it. */
export async function evalRaw(raw: unknown, scope: Scope = dataScope({}), ctx: EvalContext = {}): Promise<EvalResult> {
  await parseTemplates(collectTemplates(raw));
  return evaluate(raw, scope, ctx);
}

/** Evaluates and returns the codes of the diagnostics (for table tests). */
export function codes(r: EvalResult): string[] {
  return r.diagnostics.map((d) => d.code);
}
