// JS values written as HCL expression source, for the places where a value must sit
// inside an expression rather than be an attribute of its own: the `hcl` template tag,
// instance keys (`container.web["a"]`), `for_each = toset([...])`.
import { expressionOf, isRef, splitTokens, templatePartsOf, type Ref, type TemplatePart } from './ref.js';

/** HCL expression source for a JS value; throws a TypeError for values HCL cannot hold. */
export function hclLiteral(v: unknown): string {
  if (isRef(v)) return refSource(v);
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'string':
      return quoteParts(splitTokens(v));
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${v} cannot be written in HCL`);
      return String(v);
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    default:
      break;
  }
  if (Array.isArray(v)) return `[${v.map(hclLiteral).join(', ')}]`;
  if (isPlainObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
    return `{ ${entries.map(([k, x]) => `${quoteParts(splitTokens(k))} = ${hclLiteral(x)}`).join(', ')} }`;
  }
  throw new TypeError(`A ${describeValue(v)} cannot be written in HCL; use strings, numbers, booleans, arrays and plain objects`);
}

/** The expression of a reference; a string template becomes a quoted HCL template. */
function refSource(r: Ref<unknown>): string {
  const parts = templatePartsOf(r);
  return parts ? quoteParts(parts) : expressionOf(r);
}

/** A quoted HCL template: literal text escaped, references interpolated. */
export function quoteParts(parts: readonly TemplatePart[]): string {
  return `"${templateBody(parts, escapeQuoted)}"`;
}

/**
 * The inside of a template: literal text passed through `escape`, each reference as
 * `${expr}`. Nested string templates and tokens in strings are inlined first, and
 * adjacent literals merged, so that escaping sees a `$` and the `{` after it together.
 */
export function templateBody(parts: readonly TemplatePart[], escape: (literal: string) => string): string {
  const flat = flattenParts(parts);
  let out = '';
  flat.forEach((p, i) => {
    if (typeof p !== 'string') {
      out += `\${${expressionOf(p)}}`;
      return;
    }
    // A literal `$` right before an interpolation would read as the escape `$${`:
    // emit such trailing dollars as an interpolated string instead.
    const dollars = i + 1 < flat.length ? (/\$+$/.exec(p)?.[0] ?? '') : '';
    out += escape(p.slice(0, p.length - dollars.length));
    if (dollars) out += `\${"${dollars}"}`;
  });
  return out;
}

/** Literals (merged) and plain expressions: tokens resolved, nested templates inlined. */
function flattenParts(parts: readonly TemplatePart[], out: TemplatePart[] = []): TemplatePart[] {
  for (const p of parts) {
    if (typeof p === 'string') {
      for (const q of splitTokens(p)) {
        if (typeof q !== 'string') flattenParts([q], out);
        else if (q === '') continue;
        else if (typeof out[out.length - 1] === 'string') out[out.length - 1] += q;
        else out.push(q);
      }
    } else {
      const nested = templatePartsOf(p);
      if (nested) flattenParts(nested, out);
      else out.push(p);
    }
  }
  return out;
}

/** Literal text for a template in hcl2json's cooked form: only the sequence openers need escaping. */
export function escapeTemplateLiteral(s: string): string {
  return s.replace(/([$%])\{/g, (_, c: string) => `${c}${c}{`);
}

/** Literal text inside a quoted HCL string in source form. */
function escapeQuoted(s: string): string {
  return escapeTemplateLiteral(s.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A short name for a value's kind in messages: `Date`, `Map`, `function`, `class Foo instance`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return ctor ? `${ctor} object` : 'object';
}
