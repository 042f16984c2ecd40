// Type constraints of input variables (`type = list(string)`) and the conversions
// Terraform applies to make a value conform: "3" becomes 3 for a number, 1 becomes
// "1" for a string, optional object attributes get their defaults. Null conforms to
// every type and unknown passes through; whether null is allowed is the caller's rule.
import type { Diagnostic } from '../diagnostics.js';
import { isObject, pathString, UNKNOWN, valuesEqual, type AttrPath, type Value, type ValueObject } from '../values.js';
import { asBool, asNumber, asString, compareSetElements, describeType, putKey, unifyPrimitives } from './conversions.js';
import { jsonEncode } from './functions/encoding.js';
import { parseTypeExpression } from './type-parser.js';

export type PrimitiveKind = 'string' | 'number' | 'bool';

export type TypeConstraint =
  | { readonly kind: PrimitiveKind | 'any' }
  | { readonly kind: 'list' | 'set' | 'map'; readonly element: TypeConstraint }
  | { readonly kind: 'tuple'; readonly elements: readonly TypeConstraint[] }
  | { readonly kind: 'object'; readonly attributes: readonly ObjectAttribute[] };

export interface ObjectAttribute {
  readonly name: string;
  readonly type: TypeConstraint;
  /** Declared with optional(...): may be absent. */
  readonly optional: boolean;
  /** optional(T, default): the value used when the attribute is absent or null. */
  readonly default?: Value;
}

/**
 * Parses a type constraint as hcl2json gives it (`"${list(string)}"`), as plain
 * source (`list(string)`) or in the legacy quoted form (`"string"`).
 */
export function parseTypeConstraint(raw: string): { type?: TypeConstraint; diagnostics: Diagnostic[] } {
  let source = raw.trim();
  if (source.startsWith('${') && source.endsWith('}')) source = source.slice(2, -1);
  // Terraform 0.11's quoted form (type = "list") arrives as a plain string.
  else if (source === 'list' || source === 'map') return { type: { kind: source, element: { kind: 'any' } }, diagnostics: [] };
  const r = parseTypeExpression(source);
  if ('error' in r) {
    return {
      diagnostics: [{ severity: 'error', code: 'E_INVALID_TYPE', summary: 'Invalid type specification', detail: r.error }],
    };
  }
  return { type: r.type, diagnostics: [] };
}

/** The constraint as written in HCL, for messages. */
export function typeString(t: TypeConstraint): string {
  switch (t.kind) {
    case 'list':
    case 'set':
    case 'map':
      return `${t.kind}(${typeString(t.element)})`;
    case 'tuple':
      return `tuple([${t.elements.map(typeString).join(', ')}])`;
    case 'object':
      return `object({${t.attributes.map(attributeString).join(', ')}})`;
    default:
      return t.kind;
  }
}

function attributeString(a: ObjectAttribute): string {
  const t = typeString(a.type);
  if (!a.optional) return `${a.name} = ${t}`;
  return a.default === undefined ? `${a.name} = optional(${t})` : `${a.name} = optional(${t}, ${jsonEncode(a.default)})`;
}

/**
 * Converts a value to a type, with Terraform's rules. On a mismatch the diagnostics
 * say where (`at servers[1].port`) and what was expected; the value returned is the
 * input, converted as far as possible.
 */
export function convertToType(value: Value, type: TypeConstraint, path: AttrPath = []): { value: Value; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const out = convert(value, type, [...path], diagnostics);
  return { value: out, diagnostics };
}

function convert(v: Value, t: TypeConstraint, path: (string | number)[], diags: Diagnostic[]): Value {
  if (v === UNKNOWN || v === null || t.kind === 'any') return v;
  const mismatch = (): Value => {
    diags.push(typeError(path, `${typeString(t)} required, got ${describeType(v)}${typeof v === 'string' ? ` ${JSON.stringify(v)}` : ''}.`));
    return v;
  };
  switch (t.kind) {
    case 'string':
      return asString(v) ?? mismatch();
    case 'number':
      return asNumber(v) ?? mismatch();
    case 'bool':
      return asBool(v) ?? mismatch();
    case 'list':
    case 'set': {
      if (!Array.isArray(v)) return mismatch();
      let out = v.map((x, i) => convert(x, t.element, [...path, i], diags));
      if (t.element.kind === 'any') out = unifyCollection(out, path, diags);
      if (t.kind === 'set' && !out.includes(UNKNOWN)) out = dedupeSorted(out);
      return out;
    }
    case 'map': {
      if (!isObject(v)) return mismatch();
      const keys = Object.keys(v);
      let vals = keys.map((k) => convert(v[k]!, t.element, [...path, k], diags));
      if (t.element.kind === 'any') vals = unifyCollection(vals, path, diags);
      const out: ValueObject = {};
      keys.forEach((k, i) => putKey(out, k, vals[i]!));
      return out;
    }
    case 'tuple': {
      if (!Array.isArray(v)) return mismatch();
      if (v.length !== t.elements.length) {
        diags.push(typeError(path, `a tuple of ${t.elements.length} element(s) is required, got ${v.length}.`));
        return v;
      }
      return v.map((x, i) => convert(x, t.elements[i]!, [...path, i], diags));
    }
    case 'object':
      return isObject(v) ? convertObject(v, t.attributes, path, diags) : mismatch();
  }
}

function convertObject(v: ValueObject, attrs: readonly ObjectAttribute[], path: (string | number)[], diags: Diagnostic[]): Value {
  const out: ValueObject = {};
  const missing: string[] = [];
  for (const a of attrs) {
    const present = Object.hasOwn(v, a.name) ? v[a.name]! : undefined;
    if (present === undefined && !a.optional) {
      missing.push(a.name);
      continue;
    }
    const given = present === undefined || present === null ? (a.default ?? present ?? null) : present;
    putKey(out, a.name, convert(given, a.type, [...path, a.name], diags));
  }
  if (missing.length > 0) {
    const list = missing.map((m) => `"${m}"`).join(', ');
    diags.push(typeError(path, missing.length === 1 ? `attribute ${list} is required.` : `attributes ${list} are required.`));
  }
  const declared = new Set(attrs.map((a) => a.name));
  const extra = Object.keys(v).filter((k) => !declared.has(k));
  if (extra.length > 0) {
    // Terraform drops undeclared attributes silently; a warning catches typos in optional ones.
    diags.push({
      severity: 'warning',
      code: 'E_UNEXPECTED_ATTRIBUTE',
      summary: 'Unexpected attribute',
      detail: `${where(path)}${extra.length === 1 ? 'attribute' : 'attributes'} ${extra.map((e) => `"${e}"`).join(', ')} ${extra.length === 1 ? 'is' : 'are'} not declared in the type and will be ignored. Declared: ${[...declared].join(', ') || '(none)'}.`,
    });
  }
  return out;
}

/** Elements of list(any)/map(any) must share one type; primitives convert to string when mixed. */
function unifyCollection(vals: Value[], path: (string | number)[], diags: Diagnostic[]): Value[] {
  const unified = unifyPrimitives(vals);
  if (unified === undefined) {
    diags.push(typeError(path, 'all elements must have the same type (numbers and bools cannot be mixed).'));
    return vals;
  }
  return unified;
}

function dedupeSorted(vals: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of vals) if (!out.some((x) => valuesEqual(x, v))) out.push(v);
  return out.sort(compareSetElements);
}

function where(path: readonly (string | number)[]): string {
  return path.length === 0 ? '' : `At ${pathString(path)}: `;
}

function typeError(path: readonly (string | number)[], message: string): Diagnostic {
  const text = path.length === 0 ? message[0]!.toUpperCase() + message.slice(1) : message;
  return { severity: 'error', code: 'E_TYPE_MISMATCH', summary: 'Incorrect value type', detail: `${where(path)}${text}` };
}
