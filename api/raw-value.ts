// JS values turned into "raw expressions": the JSON `@cdktf/hcl2json` would produce for
// the same value written in HCL. References become `"${TYPE.NAME.attr}"`, string
// templates become template strings, and literal text that looks like a template is
// escaped (`$${`), so a literal stays a literal.
//
// The result is plain data. Functions are dropped (a method on an options object is
// not configuration); anything else that is not JSON-like (a Date, a Map, a class
// instance) is reported as a problem rather than silently stringified.
import { describeValue, escapeTemplateLiteral, isPlainObject, templateBody } from './hcl-literal.js';
import { expressionOf, isRef, splitTokens, templatePartsOf, type Ref } from './ref.js';

export type RawValue = null | boolean | number | string | RawValue[] | { [key: string]: RawValue };

/** A value that could not be turned into data, with where it was (`env.TZ`, `command[2]`). */
export interface ValueProblem {
  readonly path: string;
  readonly message: string;
}

/** Converts a value; problems are appended to `problems` and the offending part becomes null. */
export function toRawValue(v: unknown, path: string, problems: ValueProblem[], seen: object[] = []): RawValue {
  if (isRef(v)) return refToRaw(v);
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
      return stringToRaw(v);
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v)) return v;
      problems.push({ path, message: `${v} is not a valid number in a configuration` });
      return null;
    case 'bigint':
      if (Number.isSafeInteger(Number(v))) return Number(v);
      problems.push({ path, message: `${v}n is too large to be a number in a configuration` });
      return null;
    case 'function':
    case 'symbol':
      return null;
    default:
      break;
  }
  if (seen.includes(v as object)) {
    problems.push({ path, message: 'The value refers to itself (a cycle); configuration values must be trees' });
    return null;
  }
  if (Array.isArray(v)) {
    const out: RawValue[] = [];
    seen.push(v);
    v.forEach((x: unknown, i) => {
      if (typeof x === 'function' || typeof x === 'symbol') return;
      out.push(toRawValue(x, `${path}[${i}]`, problems, seen));
    });
    seen.pop();
    return out;
  }
  if (isPlainObject(v)) {
    const out: { [key: string]: RawValue } = {};
    seen.push(v);
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
      const key = stringToRaw(k);
      const value = toRawValue(x, path === '' ? k : `${path}.${k}`, problems, seen);
      // `__proto__` as a key must stay a key, not replace the prototype.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
    }
    seen.pop();
    return out;
  }
  problems.push({
    path,
    message: `A ${describeValue(v)} cannot be part of a configuration`,
  });
  return null;
}

/** `"${expr}"`, or the template text of a string template. */
export function refToRaw(r: Ref<unknown>): string {
  const parts = templatePartsOf(r);
  return parts ? templateBody(parts, escapeTemplateLiteral) : `\${${expressionOf(r)}}`;
}

/** A JS string: tokens of references become interpolations, the rest stays literal. */
export function stringToRaw(s: string): string {
  return templateBody(splitTokens(s), escapeTemplateLiteral);
}
