// A reference is an HCL expression held as a value (`network.front.id`, `var.env`).
// Manifests pass references around like ordinary values; when the manifest is turned
// into data each one becomes the interpolation `"${network.front.id}"`, which is what
// `@cdktf/hcl2json` produces for the same HCL, so the engine cannot tell the languages
// apart.
//
// A reference can also end up inside a plain JS string (`` `shop-${env}` `` without
// the `expr` tag, `String(ref)`, `JSON.stringify({ ip: web.ipAddress })`). For that
// `toString()`/`toJSON()` return a token: a private-use character, an id, another
// private-use character. The serialiser finds tokens in strings and splices the
// expression back in; everything else in a string stays literal text.

/** The HCL expression source of a reference, without `${ }`. */
const EXPR: unique symbol = Symbol('tsinfra.expr');
/** Literal text and references of a string template (only templates have it). */
const PARTS: unique symbol = Symbol('tsinfra.parts');
/** Phantom: the type of value the expression evaluates to. Never set at runtime. */
declare const VALUE: unique symbol;

const TOKEN_OPEN = '\uE000';
const TOKEN_CLOSE = '\uE001';
const TOKEN = /\uE000(\d+)\uE001/g;

/** References that have been turned into tokens, by token id. One registry per realm (per evaluation). */
const tokens: Ref<unknown>[] = [];
const tokenIds = new WeakMap<Ref<unknown>, number>();

export type TemplatePart = string | Ref<unknown>;

/**
 * An HCL expression that evaluates to a `T`. Obtained from the manifest's declarations
 * (`m.variable(...)`, `m.resource(...).id`), from `ref.*`, or from the `expr` and `hcl`
 * template tags; never constructed directly.
 */
export class Ref<out T> {
  declare readonly [VALUE]?: T;
  readonly [EXPR]: string;
  readonly [PARTS]: readonly TemplatePart[] | undefined;

  /** @internal */
  constructor(expression: string, parts?: readonly TemplatePart[]) {
    this[EXPR] = expression;
    this[PARTS] = parts;
  }

  /** A token standing for this reference inside a string; the serialiser turns it back into `${...}`. */
  toString(): string {
    let id = tokenIds.get(this);
    if (id === undefined) {
      id = tokens.push(this) - 1;
      tokenIds.set(this, id);
    }
    return `${TOKEN_OPEN}${id}${TOKEN_CLOSE}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export function isRef(v: unknown): v is Ref<unknown> {
  return v instanceof Ref;
}

/** The HCL expression source of a reference (`network.front.id`). */
export function expressionOf(r: Ref<unknown>): string {
  return r[EXPR];
}

/** The parts of a string template, or undefined for a plain expression. */
export function templatePartsOf(r: Ref<unknown>): readonly TemplatePart[] | undefined {
  return r[PARTS];
}

/** Splits a JS string into literal text and the references whose tokens it holds. */
export function splitTokens(s: string): TemplatePart[] {
  if (!s.includes(TOKEN_OPEN)) return [s];
  const out: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(TOKEN)) {
    const r = tokens[Number(m[1])];
    if (r === undefined) continue; // not one of ours: keep it as text
    if (m.index > last) out.push(s.slice(last, m.index));
    out.push(r);
    last = m.index + m[0].length;
  }
  if (last < s.length) out.push(s.slice(last));
  return out;
}

/** Literal types widened to their primitive, so a `Ref<string>` may fill a `'tcp' | 'udp'` attribute. */
export type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T;

/** An attribute value: a literal, or a reference to a value of a compatible type. */
export type Input<T> = T | Ref<Widen<T>>;
