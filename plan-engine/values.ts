// The value model shared by expressions, plans and state. Values are plain JSON data,
// plus one sentinel for "not known until apply". Sensitivity is tracked beside the
// value (as a flag on an evaluation result or a set of attribute paths), never inside it,
// so plain data can flow through functions, zod schemas and JSON files unchanged.

export type Value = null | boolean | number | string | Value[] | ValueObject | Unknown;
export interface ValueObject {
  [key: string]: Value;
}

/** A value that is computed during apply (an ID the agent assigns, an IP it allocates). */
export class Unknown {
  static readonly instance = new Unknown();
  private constructor() {
    Object.freeze(this);
  }
  toJSON(): string {
    return '(known after apply)';
  }
  toString(): string {
    return '(known after apply)';
  }
}
export const UNKNOWN = Unknown.instance;

export function isUnknown(v: unknown): v is Unknown {
  return v === UNKNOWN;
}

export function isObject(v: unknown): v is ValueObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Unknown);
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(v: Value): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/** Deep structural equality of two values (unknowns are never equal to anything, even each other). */
export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === UNKNOWN || b === UNKNOWN) return false;
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && valuesEqual(a[k], b[k]));
  }
  return false;
}

/** A deep copy that keeps the UNKNOWN sentinel (structuredClone would turn it into {}). */
export function cloneValue(v: Value): Value {
  if (Array.isArray(v)) return v.map(cloneValue);
  if (isObject(v)) {
    const o: ValueObject = {};
    for (const [k, x] of Object.entries(v)) o[k] = cloneValue(x);
    return o;
  }
  return v;
}

/** An attribute path such as `resources.memory` or `mount[0].source`. */
export type AttrPath = readonly (string | number)[];

export function pathString(path: AttrPath): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += s === '' ? p : `.${p}`;
  }
  return s;
}

/** True when `path` is `prefix` or lies inside it (`env.TOKEN` and `mount[0]` are inside `env`, `mount`). */
export function isWithinPath(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/** Reads a nested value by path, undefined when absent. */
export function getPath(v: Value | undefined, path: AttrPath): Value | undefined {
  let cur: Value | undefined = v;
  for (const p of path) {
    if (cur === undefined || cur === null || cur === UNKNOWN) return undefined;
    if (typeof p === 'number') cur = Array.isArray(cur) ? cur[p] : undefined;
    else cur = isObject(cur) ? cur[p] : undefined;
  }
  return cur;
}

/** The type name used in error messages ("string", "number", "list", "object"...). */
export function typeName(v: Value | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (v === UNKNOWN) return 'unknown';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** Replaces unknowns with a marker string for JSON files (plans store them explicitly). */
export const UNKNOWN_JSON_MARKER = { $unknown: true } as const;

export function encodeValue(v: Value): unknown {
  if (v === UNKNOWN) return UNKNOWN_JSON_MARKER;
  if (Array.isArray(v)) return v.map(encodeValue);
  if (isObject(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encodeValue(x);
    return o;
  }
  return v;
}

export function decodeValue(j: unknown): Value {
  if (Array.isArray(j)) return j.map(decodeValue);
  if (typeof j === 'object' && j !== null) {
    const o = j as Record<string, unknown>;
    if (o['$unknown'] === true && Object.keys(o).length === 1) return UNKNOWN;
    const out: ValueObject = {};
    for (const [k, x] of Object.entries(o)) out[k] = decodeValue(x);
    return out;
  }
  return j as Value;
}
