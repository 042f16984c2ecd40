// The two template tags:
//   expr`shop-${env}`            a string template:  "shop-${var.env}"
//   hcl`${count} <= 10`          an HCL expression:  "${var.web_count <= 10}"
// `expr` keeps its text literal (a `${` in it stays a `${`); `hcl` is the escape hatch
// for what TypeScript cannot say as data: function calls, conditionals, arithmetic on
// values known only to the engine.
import { describeValue, hclLiteral } from './hcl-literal.js';
import { isRef, Ref, type TemplatePart } from './ref.js';

/** A string template whose interpolations are references: `expr\`web-${ref.countIndex}\``. */
export function expr(strings: TemplateStringsArray, ...values: readonly unknown[]): Ref<string> {
  const parts: TemplatePart[] = [];
  strings.forEach((s, i) => {
    if (s !== '') parts.push(s);
    if (i < values.length) parts.push(templateValue(values[i]));
  });
  return new Ref<string>(hclLiteral(new Ref('', parts)), parts);
}

function templateValue(v: unknown): TemplatePart {
  if (isRef(v)) return v;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new TypeError(`expr\`...\` cannot interpolate a ${describeValue(v)}; use a string, number, boolean or reference`);
}

/**
 * An HCL expression written as source text. Interpolated references are inserted as
 * expressions, other values as HCL literals: hcl`length(${web.ipAddresses}) > ${min}`.
 * The result has type `any` unless given: hcl<number>`...`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an arbitrary expression fits any attribute
export function hcl<T = any>(source: TemplateStringsArray | string, ...values: readonly unknown[]): Ref<T> {
  if (typeof source === 'string') return new Ref<T>(source);
  // Raw text, as String.raw: `\n` reaches HCL as an escape, not as a line break.
  let text = '';
  source.raw.forEach((s, i) => {
    text += s;
    if (i < values.length) text += hclLiteral(values[i]);
  });
  return new Ref<T>(text);
}
