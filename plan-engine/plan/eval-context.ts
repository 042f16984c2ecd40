// What expressions can see while planning or applying: variable and local values,
// hosts, and the resource instances known so far (planned values during plan, new
// state during apply). One context serves a whole run; `scope()` gives the view of
// one resource instance (with its count.index / each.key / each.value).
import type { Config } from '../config/model.js';
import type { Scope } from '../expressions/index.js';
import { isWithinPath, UNKNOWN, type Value, type ValueObject } from '../values.js';

export interface EvaluatedValue {
  readonly value: Value;
  readonly sensitive: boolean;
}

/** How a host or resource expanded: one object, a list (count) or a map (for_each). */
export type Expansion =
  | { readonly mode: 'single' }
  | { readonly mode: 'count'; readonly count: number }
  | { readonly mode: 'for_each'; readonly keys: readonly string[] }
  | { readonly mode: 'unknown' };

export interface ExpandedObject {
  expansion: Expansion;
  /** Instance values by instance key ('' for single, index or for_each key). */
  readonly instances: Map<string | number, ValueObject>;
  /** Sensitive attribute paths of each instance (resources), so that sensitivity follows values across resources. */
  readonly sensitivePaths: Map<string | number, readonly string[]>;
}

export interface Repetition {
  readonly countIndex?: number;
  readonly eachKey?: string;
  readonly eachValue?: Value;
}

export class EvalContext {
  readonly vars = new Map<string, EvaluatedValue>();
  readonly locals = new Map<string, EvaluatedValue>();
  readonly hosts = new Map<string, ExpandedObject>();
  readonly resources = new Map<string, ExpandedObject>();

  constructor(readonly config: Config) {}

  /** The scope seen by one block instance. */
  scope(rep: Repetition = {}): Scope {
    return {
      baseDir: this.config.dir,
      resolve: (parts) => this.resolve(parts, rep),
      candidates: (root) => this.candidates(root),
    };
  }

  private resolve(parts: readonly (string | number)[], rep: Repetition): { value: Value; consumed: number; sensitive?: boolean } | undefined {
    const [root, second] = parts;
    if (typeof root !== 'string') return undefined;
    switch (root) {
      case 'var': {
        const v = typeof second === 'string' ? this.vars.get(second) : undefined;
        return v && { value: v.value, consumed: 2, sensitive: v.sensitive };
      }
      case 'local': {
        const v = typeof second === 'string' ? this.locals.get(second) : undefined;
        return v && { value: v.value, consumed: 2, sensitive: v.sensitive };
      }
      case 'host': {
        const h = typeof second === 'string' ? this.hosts.get(second) : undefined;
        return h && { value: collectionValue(h), consumed: 2 };
      }
      case 'count':
        if (second === 'index' && rep.countIndex !== undefined) return { value: rep.countIndex, consumed: 2 };
        return undefined;
      case 'each':
        if (second === 'key' && rep.eachKey !== undefined) return { value: rep.eachKey, consumed: 2 };
        if (second === 'value' && rep.eachKey !== undefined) return { value: rep.eachValue ?? null, consumed: 2 };
        return undefined;
      default: {
        if (typeof second !== 'string') return undefined;
        const key = `${root}.${second}`;
        const r = this.resources.get(key);
        if (r) return resolveResource(r, parts);
        // Declared but not evaluated yet (outside the current target set): unknown.
        if (this.config.resources.has(key)) return { value: UNKNOWN, consumed: 2 };
        return undefined;
      }
    }
  }

  private candidates(root: string): string[] {
    switch (root) {
      case 'var':
        return [...this.config.variables.keys()].map((n) => `var.${n}`);
      case 'local':
        return [...this.config.locals.keys()].map((n) => `local.${n}`);
      case 'host':
        return [...this.config.hosts.keys()].map((n) => `host.${n}`);
      default:
        return [...this.config.resources.keys(), 'var', 'local', 'host', 'count.index', 'each.key', 'each.value'];
    }
  }
}

/**
 * Resolves `TYPE.NAME`, `TYPE.NAME[key]`, `TYPE.NAME.attr`, `TYPE.NAME[key].attr` as far
 * as it can, so that reading a non-sensitive attribute of a resource that also holds a
 * secret is not sensitive, while reading the secret (or the whole object) is.
 */
function resolveResource(o: ExpandedObject, parts: readonly (string | number)[]): { value: Value; consumed: number; sensitive: boolean } {
  const anySensitive = (paths: readonly string[] | undefined): boolean => (paths?.length ?? 0) > 0;
  let key: string | number | undefined;
  let i = 2;
  if (o.expansion.mode === 'single') key = '';
  else if (parts.length > 2 && o.instances.has(parts[2]!)) {
    key = parts[2]!;
    i = 3;
  }
  if (key === undefined || !o.instances.has(key)) {
    return { value: collectionValue(o), consumed: 2, sensitive: [...o.sensitivePaths.values()].some(anySensitive) };
  }
  const instance = o.instances.get(key)!;
  const paths = o.sensitivePaths.get(key) ?? [];
  const attr = parts[i];
  if (typeof attr !== 'string' || !(attr in instance)) return { value: instance, consumed: i, sensitive: anySensitive(paths) };
  const sensitive = paths.some((p) => isWithinPath(p, attr));
  return { value: instance[attr]!, consumed: i + 1, sensitive };
}

/** The value an expression sees for `host.x` / `TYPE.NAME`: an object, a list or a map of objects. */
export function collectionValue(o: ExpandedObject): Value {
  switch (o.expansion.mode) {
    case 'single':
      return o.instances.get('') ?? UNKNOWN;
    case 'count':
      return Array.from({ length: o.expansion.count }, (_, i) => o.instances.get(i) ?? UNKNOWN);
    case 'for_each': {
      const out: ValueObject = {};
      for (const k of o.expansion.keys) out[k] = o.instances.get(k) ?? UNKNOWN;
      return out;
    }
    case 'unknown':
      return UNKNOWN;
  }
}
