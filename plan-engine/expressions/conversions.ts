// HCL's automatic conversions between primitive types, shared by operators,
// templates, functions and type constraints: "5" + 1 is 6, "${3}" is "3",
// "true" is a bool where a bool is needed. Collections never convert to primitives.
import { isObject, UNKNOWN, type Value, type ValueObject } from '../values.js';

const NUMBER_SYNTAX = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The number a value converts to, or undefined when it does not convert (bools, collections, bad strings, null). */
export function asNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && NUMBER_SYNTAX.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** The bool a value converts to ("true"/"false" strings included), or undefined. */
export function asBool(v: Value): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

/** The string a primitive converts to, or undefined for null, unknown and collections. */
export function asString(v: Value): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return undefined;
}

/** Numbers as HCL prints them: integers without exponent or fraction, others in shortest form. */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  return Object.is(n, -0) ? '0' : String(n);
}

export function isPrimitive(v: Value): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** "string", "number", "bool", "list", "object", "null" or "unknown": for messages, in HCL's words. */
export function describeType(v: Value): string {
  if (v === null) return 'null';
  if (v === UNKNOWN) return 'unknown';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (isObject(v)) return 'object';
  return typeof v;
}

/**
 * Converts a mix of primitives to one type, as HCL does when it builds a list, a map
 * or a set from them: strings and numbers or bools together become strings. Values
 * that are not primitives (and unknowns, nulls) are left as they are. Returns
 * undefined when numbers and bools meet without a string (no common type).
 */
export function unifyPrimitives(values: readonly Value[]): Value[] | undefined {
  let hasString = false;
  let hasNumber = false;
  let hasBool = false;
  for (const v of values) {
    if (typeof v === 'string') hasString = true;
    else if (typeof v === 'number') hasNumber = true;
    else if (typeof v === 'boolean') hasBool = true;
  }
  const kinds = Number(hasString) + Number(hasNumber) + Number(hasBool);
  if (kinds <= 1) return [...values];
  if (!hasString) return undefined;
  return values.map((v) => (typeof v === 'number' || typeof v === 'boolean' ? asString(v)! : v));
}

/** Orders values the way Terraform orders a set: numbers numerically, strings lexically, others by JSON text. */
export function compareSetElements(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

/** Sets a key on a value object; a key named "__proto__" becomes data, not the object's prototype. */
export function putKey(o: ValueObject, key: string, v: Value): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
  else o[key] = v;
}
