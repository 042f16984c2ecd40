// Evaluation of raw expressions against a scope, with Terraform's semantics.
//
// Raw expressions are JSON data whose template strings are parsed into hcl2json ASTs
// beforehand (see ast-cache.ts), so evaluation is synchronous. Three things flow
// through it besides the value: diagnostics (an error stops the faulty
// subexpression only, so one run reports every independent problem), the unknown
// marker (values known only after apply, which propagate through operators and
// functions), and a sensitivity flag set when any sensitive value is read.
import { editDistance, redactValues, suggest, withContext, type Diagnostic, type SourceRange } from '../diagnostics.js';
import { containsUnknown, isObject, UNKNOWN, type Value, type ValueObject } from '../values.js';
import { lookupTemplate } from './ast-cache.js';
import { asBool, asNumber, asString, describeType, formatNumber, putKey } from './conversions.js';
import { FUNCTIONS, functionNames, invokeFunction } from './functions.js';
import { binaryOp, OperatorError, unaryOp } from './operators.js';
import { cookLiteral, isTemplate } from './template-source.js';
import { stepsOf, traversalText, type Step } from './traversal.js';

export interface Scope {
  /**
   * Resolves a root traversal (`var.x`, `network.front`, `count.index`, `each.value`...).
   * `parts` is the full traversal; the scope returns the value of the longest prefix
   * it knows and how many parts that prefix has; the evaluator indexes into the rest.
   * Undefined means an undeclared reference.
   */
  resolve(parts: readonly (string | number)[]): { value: Value; consumed: number; sensitive?: boolean } | undefined;
  /**
   * Names for "did you mean" when `root` is undeclared or its traversal does not
   * resolve: dotted references the scope knows, such as `var.web_count`,
   * `network.front` or `local.prefix` (for an unknown root, all root-level ones).
   */
  candidates?(root: string): string[];
  /** Directory that `file(path)` reads relative to (default: the working directory). */
  baseDir?: string;
}

export interface EvalContext {
  readonly range?: SourceRange;
  readonly address?: string;
}

export interface EvalResult {
  /** The value; UNKNOWN when evaluation failed (check `diagnostics`). */
  readonly value: Value;
  readonly sensitive: boolean;
  readonly diagnostics: Diagnostic[];
}

/** Evaluates a raw expression. Its templates must have been parsed (parseTemplates) or primed. */
export function evaluate(raw: unknown, scope: Scope, ctx: EvalContext = {}): EvalResult {
  const ev = new Evaluator(scope);
  const v = ev.raw(raw);
  const diagnostics = withContext(dedupe(ev.diags), ctx);
  return {
    value: v instanceof Invalid ? UNKNOWN : v,
    sensitive: ev.sensitive,
    // Error messages quote values: never those of a secret.
    diagnostics: ev.sensitive ? diagnostics.map(redactValues) : diagnostics,
  };
}

/** The same error met in every iteration of a `for` or splat is reported once. */
function dedupe(ds: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const key = `${d.code}\0${d.summary}\0${d.detail ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The result of a subexpression that failed (its diagnostics are already recorded). */
class Invalid {
  // A brand: without a member, TypeScript would let any object pass for an Invalid.
  private readonly invalid = true;
}
const INVALID = new Invalid();
type V = Value | Invalid;

/** The parts of the hcl2json AST the evaluator reads (object key nodes have type ""). */
interface Node {
  readonly type: string;
  readonly children: readonly Node[];
  readonly meta?: { readonly value?: string; readonly [k: string]: unknown };
}

interface ForMeta {
  readonly keyVar: string;
  readonly valVar: string;
  readonly openRangeValue: string;
  readonly conditionalExpression?: string;
  readonly groupedValue: boolean;
}

const MAX_TEXT_IN_DETAIL = 100;

/** Errors in the text of a configuration rather than in its values: `try` and `can` do not hide them. */
const STATIC_ERRORS = new Set(['E_SYNTAX', 'E_UNDECLARED_REFERENCE', 'E_UNKNOWN_FUNCTION']);

class Evaluator {
  diags: Diagnostic[] = [];
  sensitive = false;
  /** Variables bound by enclosing `for` expressions, innermost last. */
  private readonly locals: Map<string, Value>[] = [];
  /** Elements being visited by enclosing splat expressions, innermost last. */
  private readonly splatItems: Value[] = [];

  constructor(private readonly scope: Scope) {}

  raw(raw: unknown): V {
    if (typeof raw === 'string') return isTemplate(raw) ? this.template(raw) : raw;
    // undefined is what an absent optional field of a TypeScript manifest leaves behind: treat it as null.
    if (typeof raw === 'number' || typeof raw === 'boolean' || raw === null || raw === undefined) return raw ?? null;
    if (Array.isArray(raw)) return this.all(raw.map((x) => this.raw(x)));
    if (typeof raw === 'object') {
      const out: ValueObject = {};
      let invalid = false;
      let unknownKey = false;
      for (const [k, x] of Object.entries(raw)) {
        let key: string | undefined = k;
        if (isTemplate(k)) {
          const kv = this.template(k);
          if (kv === UNKNOWN) unknownKey = true;
          key = kv === INVALID || kv === UNKNOWN ? undefined : this.objectKey(kv as Value, undefined);
          if (key === undefined && kv !== UNKNOWN) invalid = true;
        }
        const v = this.raw(x);
        if (v === INVALID) invalid = true;
        else if (key !== undefined) putKey(out, key, v as Value);
      }
      if (invalid) return INVALID;
      return unknownKey ? UNKNOWN : out;
    }
    throw new Error(`evaluate: unsupported raw expression of type ${typeof raw}`);
  }

  private template(s: string): V {
    const parsed = lookupTemplate(s);
    if (parsed === undefined) throw new Error(`evaluate: template not parsed (call parseTemplates first): ${s}`);
    if ('error' in parsed) {
      this.diags.push(parsed.error);
      return INVALID;
    }
    return this.node(parsed.ast as unknown as Node);
  }

  /** INVALID when any element is, else the array. */
  private all(vs: V[]): V {
    return vs.some((v) => v === INVALID) ? INVALID : (vs as Value[]);
  }

  private node(n: Node): V {
    switch (n.type) {
      case 'templateWrap':
        return this.node(n.children[0]!);
      case 'template':
        return this.templateParts(n);
      case 'templateJoin':
        return this.templateJoin(n);
      case 'literalValue':
        return literal(n);
      case 'tuple':
        return this.all(n.children.map((c) => this.node(c)));
      case 'object':
        return this.object(n);
      case '':
        return this.wrapper(n);
      case 'scopeTraversal':
        return this.scopeTraversal(n);
      case 'relativeTraversal':
        return this.relativeTraversal(n);
      case 'index':
        return this.index(n);
      case 'splat':
        return this.splat(n);
      case 'conditional':
        return this.conditional(n);
      case 'unaryOp':
        return this.unary(n);
      case 'binaryOp':
        return this.binary(n);
      case 'function':
        return this.call(n);
      case 'for':
        return this.forExpr(n);
      default:
        return this.error('E_UNSUPPORTED_EXPRESSION', 'Unsupported expression', `Expressions of kind "${n.type}" are not supported.`, n);
    }
  }

  // --- diagnostics -------------------------------------------------------------

  private error(code: string, summary: string, detail: string, n?: Node): Invalid {
    const text = n?.meta?.value;
    const where = text !== undefined && text.length <= MAX_TEXT_IN_DETAIL && !text.includes('\n') ? `\nIn expression: ${text}` : '';
    this.diags.push({ severity: 'error', code, summary, detail: detail + where });
    return INVALID;
  }

  // --- templates ---------------------------------------------------------------

  private templateParts(n: Node): V {
    const parts = n.children;
    if (parts.length === 1 && parts[0]!.type === 'literalValue') return literal(parts[0]!);
    let out = '';
    let invalid = false;
    let unknown = false;
    for (const p of parts) {
      const v = this.node(p);
      if (v === INVALID) invalid = true;
      else if (v === UNKNOWN) unknown = true;
      else {
        const s = this.interpolated(v as Value, p);
        if (s === undefined) invalid = true;
        else out += s;
      }
    }
    if (invalid) return INVALID;
    return unknown ? UNKNOWN : out;
  }

  /** A value converted for inclusion in a string template, or undefined after reporting why not. */
  private interpolated(v: Value, n: Node): string | undefined {
    const s = asString(v);
    if (s !== undefined) return s;
    if (v === null) {
      this.error(
        'E_TYPE_MISMATCH',
        'Invalid template interpolation value',
        'The expression result is null: a null value cannot be included in a string template.',
        n,
      );
    } else {
      this.error(
        'E_TYPE_MISMATCH',
        'Invalid template interpolation value',
        `Cannot include the given value in a string template: string required, got ${describeType(v)}.`,
        n,
      );
    }
    return undefined;
  }

  /** `%{ for x in xs }...%{ endfor }`: the body's results, concatenated. */
  private templateJoin(n: Node): V {
    const items = this.node(n.children[0]!);
    if (items === INVALID || items === UNKNOWN) return items;
    let out = '';
    for (const v of items as Value[]) {
      if (containsUnknown(v)) return UNKNOWN;
      const s = this.interpolated(v, n);
      if (s === undefined) return INVALID;
      out += s;
    }
    return out;
  }

  // --- collections ----------------------------------------------------------------

  private object(n: Node): V {
    const out: ValueObject = {};
    let invalid = false;
    let unknownKey = false;
    for (let i = 0; i + 1 < n.children.length; i += 2) {
      const keyNode = n.children[i]!;
      let key: string | undefined;
      if (keyNode.type === '' && keyNode.children.length === 0) {
        key = keyNode.meta?.value; // a bare identifier, named when the AST was cached
        if (key === undefined) throw new Error('evaluate: object key without a name (AST not prepared by ast-cache)');
      } else {
        const kv = this.node(keyNode);
        if (kv === UNKNOWN) unknownKey = true;
        else if (kv === INVALID) invalid = true;
        else {
          key = this.objectKey(kv as Value, keyNode);
          if (key === undefined) invalid = true;
        }
      }
      const v = this.node(n.children[i + 1]!);
      if (v === INVALID) invalid = true;
      else if (key !== undefined) putKey(out, key, v as Value);
    }
    if (invalid) return INVALID;
    return unknownKey ? UNKNOWN : out;
  }

  /** A computed object key as a string (numbers and bools convert), or undefined after reporting. */
  private objectKey(v: Value, n: Node | undefined): string | undefined {
    if (v === UNKNOWN) return undefined;
    const s = asString(v);
    if (s !== undefined) return s;
    if (v === null) this.error('E_TYPE_MISMATCH', 'Null value as key', "Can't use a null value as a key.", n);
    else this.error('E_TYPE_MISMATCH', 'Incorrect key type', `Can't use this value as a key: string required, got ${describeType(v)}.`, n);
    return undefined;
  }

  /** A node of type "": parentheses or an object key around one expression, or a splat's current element. */
  private wrapper(n: Node): V {
    if (n.children.length > 0) return this.node(n.children[0]!);
    if (this.splatItems.length > 0) return this.splatItems[this.splatItems.length - 1]!;
    return this.error('E_UNSUPPORTED_EXPRESSION', 'Unsupported expression', 'An empty expression appeared outside a splat.', n);
  }

  // --- traversals ------------------------------------------------------------------

  private scopeTraversal(n: Node): V {
    const steps = stepsOf(n);
    const root = steps[0]!.key as string;
    for (let i = this.locals.length - 1; i >= 0; i--) {
      const frame = this.locals[i]!;
      if (frame.has(root)) return this.applySteps(frame.get(root)!, steps, 1, n);
    }
    const parts = steps.map((s) => s.key);
    const r = this.scope.resolve(parts);
    if (r === undefined) return this.undeclared(n, parts);
    if (r.sensitive === true) this.sensitive = true;
    return this.applySteps(r.value, steps, r.consumed, n);
  }

  private relativeTraversal(n: Node): V {
    const source = this.node(n.children[0]!);
    if (source === INVALID) return INVALID;
    return this.applySteps(source as Value, stepsOf(n), 0, n);
  }

  private applySteps(value: Value, steps: readonly Step[], from: number, n: Node): V {
    let cur: V = value;
    for (let i = from; i < steps.length && cur !== INVALID; i++) {
      const step = steps[i]!;
      cur = step.kind === 'attr' ? this.getAttr(cur as Value, step.key as string, n) : this.indexValue(cur as Value, step.key, n);
    }
    return cur;
  }

  private getAttr(v: Value, name: string, n: Node): V {
    if (v === UNKNOWN) return UNKNOWN;
    if (isObject(v)) {
      if (Object.hasOwn(v, name)) return v[name]!;
      return this.error(
        'E_UNSUPPORTED_ATTRIBUTE',
        'Unsupported attribute',
        `This object does not have an attribute named "${name}".${didYouMean(suggest(name, Object.keys(v)))}`,
        n,
      );
    }
    if (v === null)
      return this.error(
        'E_UNSUPPORTED_ATTRIBUTE',
        'Attempt to get attribute from null value',
        `This value is null, so it does not have an attribute named "${name}".`,
        n,
      );
    if (Array.isArray(v)) {
      return this.error(
        'E_UNSUPPORTED_ATTRIBUTE',
        'Unsupported attribute',
        `Can't access attributes on a list. Did you mean the attribute "${name}" of one element (x[0].${name}) or of all elements (x[*].${name})?`,
        n,
      );
    }
    return this.error('E_UNSUPPORTED_ATTRIBUTE', 'Unsupported attribute', `Can't access attributes on a primitive-typed value (${describeType(v)}).`, n);
  }

  private index(n: Node): V {
    const coll = this.node(n.children[0]!);
    const key = this.node(n.children[1]!);
    if (coll === INVALID || key === INVALID) return INVALID;
    return this.indexValue(coll as Value, key as Value, n);
  }

  private indexValue(coll: Value, key: Value, n: Node): V {
    if (coll === UNKNOWN || key === UNKNOWN) return UNKNOWN;
    const invalid = (detail: string, summary = 'Invalid index'): Invalid => this.error('E_INVALID_INDEX', summary, detail, n);
    if (coll === null) return invalid('This value is null, so it cannot be indexed.', 'Attempt to index null value');
    if (key === null) return invalid("Can't use a null value as an indexing key.");
    if (Array.isArray(coll)) {
      const i = asNumber(key);
      if (i === undefined)
        return invalid(`The given key does not identify an element in this collection value: a number is required, got ${describeType(key)}.`);
      if (!Number.isInteger(i)) return invalid('The given key does not identify an element in this collection value: a whole number is required.');
      if (i < 0 || i >= coll.length) {
        return invalid(
          `The given key does not identify an element in this collection value: the index ${formatNumber(i)} is out of range for a list of ${coll.length} element(s).`,
        );
      }
      return coll[i]!;
    }
    if (isObject(coll)) {
      const k = asString(key);
      if (k === undefined)
        return invalid(`The given key does not identify an element in this collection value: a string is required, got ${describeType(key)}.`);
      if (Object.hasOwn(coll, k)) return coll[k]!;
      return invalid(
        `The given key does not identify an element in this collection value: there is no key ${JSON.stringify(k)}.${didYouMean(suggest(k, Object.keys(coll)))}`,
      );
    }
    return invalid(`This value does not have any indices (it is a ${describeType(coll)}).`);
  }

  private splat(n: Node): V {
    const source = this.node(n.children[0]!);
    if (source === INVALID || source === UNKNOWN) return source;
    if (source === null) return [];
    // A splat over a single value treats it as a one-element list.
    const items = Array.isArray(source) ? source : [source as Value];
    const each = n.children[1]!;
    const out: V[] = [];
    for (const item of items) {
      this.splatItems.push(item);
      try {
        out.push(this.node(each));
      } finally {
        this.splatItems.pop();
      }
    }
    return this.all(out);
  }

  private undeclared(n: Node, parts: readonly (string | number)[]): Invalid {
    const root = String(parts[0]);
    const text = traversalText(n);
    const candidates = this.scope.candidates?.(root) ?? [];
    const hint = didYouMean(suggestReference(parts, candidates));
    const name = typeof parts[1] === 'string' ? parts[1] : undefined;
    const code = 'E_UNDECLARED_REFERENCE';
    switch (root) {
      case 'var':
        return this.error(code, 'Reference to undeclared input variable', `An input variable named "${name ?? ''}" has not been declared.${hint}`, n);
      case 'local':
        return this.error(code, 'Reference to undeclared local value', `A local value named "${name ?? ''}" has not been declared.${hint}`, n);
      case 'host':
        return this.error(code, 'Reference to undeclared host', `A host named "${name ?? ''}" has not been declared.${hint}`, n);
      case 'count':
        return this.error(code, 'Reference to "count" in non-counted context', `"${text}" can only be used in a block that sets count.${hint}`, n);
      case 'each':
        return this.error(code, 'Reference to "each" in context without for_each', `"${text}" can only be used in a block that sets for_each.${hint}`, n);
      default:
        if (name === undefined)
          return this.error(code, `Reference to undeclared name "${root}"`, `There is no variable or resource type named "${root}".${hint}`, n);
        return this.error(code, 'Reference to undeclared resource', `A resource "${root}" "${name}" has not been declared.${hint}`, n);
    }
  }

  // --- operators ------------------------------------------------------------------

  private conditional(n: Node): V {
    const [condNode, trueNode, falseNode] = n.children as [Node, Node, Node];
    const c = this.node(condNode);
    if (c === INVALID) return INVALID;
    if (c === UNKNOWN) {
      // Both branches are checked for errors; the result waits for the condition.
      const t = this.node(trueNode);
      const f = this.node(falseNode);
      return t === INVALID || f === INVALID ? INVALID : UNKNOWN;
    }
    const b = asBool(c as Value);
    if (b === undefined) {
      if (c === null) return this.error('E_TYPE_MISMATCH', 'Null condition', 'The condition value is null. Conditions must be either true or false.', condNode);
      return this.error(
        'E_TYPE_MISMATCH',
        'Incorrect condition type',
        `The condition expression must be of type bool, got ${describeType(c as Value)}.`,
        condNode,
      );
    }
    return this.node(b ? trueNode : falseNode);
  }

  private unary(n: Node): V {
    const v = this.node(n.children[0]!);
    if (v === INVALID) return INVALID;
    return this.operatorResult(unaryOp(String(n.meta?.['operator']), v as Value), n);
  }

  private binary(n: Node): V {
    const op = String(n.meta?.['operator']);
    const lhs = this.node(n.children[0]!);
    if (lhs === INVALID) return INVALID;
    // && and || do not evaluate their right side once the left side decides.
    if ((op === 'logicalAnd' && asBool(lhs as Value) === false) || (op === 'logicalOr' && asBool(lhs as Value) === true)) {
      return op === 'logicalOr';
    }
    const rhs = this.node(n.children[1]!);
    if (rhs === INVALID) return INVALID;
    return this.operatorResult(binaryOp(op, lhs as Value, rhs as Value), n);
  }

  private operatorResult(r: ReturnType<typeof binaryOp>, n: Node): V {
    return r instanceof OperatorError ? this.error(r.code, r.summary, r.detail, n) : r;
  }

  // --- functions ---------------------------------------------------------------------

  private call(n: Node): V {
    const name = String(n.meta?.['name']);
    if (name === 'try' || name === 'can') return this.lazyCall(name, n);
    const def = FUNCTIONS.get(name);
    if (def === undefined) {
      return this.error(
        'E_UNKNOWN_FUNCTION',
        'Call to unknown function',
        `There is no function named "${name}".${didYouMean(suggest(name, functionNames()))}`,
        n,
      );
    }
    const evaluated = n.children.map((c) => this.node(c));
    if (evaluated.some((v) => v === INVALID)) return INVALID;
    const args = evaluated as Value[];
    if (n.meta?.['expandedFinalArgument'] === true) {
      const last = args.pop()!;
      if (last === UNKNOWN) return UNKNOWN;
      if (!Array.isArray(last)) {
        return this.error(
          'E_FUNCTION_CALL',
          'Invalid expanding argument value',
          `The expanding argument (indicated by ...) must be a list, got ${describeType(last)}.`,
          n,
        );
      }
      args.push(...last);
    }
    const out = invokeFunction(name, def, args, { baseDir: this.scope.baseDir ?? process.cwd() });
    if (!out.ok) return this.error('E_FUNCTION_CALL', out.summary, out.detail, n);
    return out.value;
  }

  /**
   * `try(a, b, ...)` returns the first argument that evaluates without errors;
   * `can(a)` tells whether `a` does. An argument whose value is not known yet
   * makes the answer unknown, since it might still fail.
   */
  private lazyCall(name: 'try' | 'can', n: Node): V {
    const args = n.children;
    if (args.length === 0 || (name === 'can' && args.length > 1)) {
      const expects = name === 'can' ? 'exactly one argument' : 'at least one argument';
      return this.error(
        'E_FUNCTION_CALL',
        args.length === 0 ? 'Not enough function arguments' : 'Too many function arguments',
        `Function "${name}" expects ${expects}.`,
        n,
      );
    }
    const failures: string[] = [];
    for (const a of args) {
      const outer = this.diags;
      this.diags = [];
      const v = this.node(a);
      const inner = this.diags;
      this.diags = outer;
      const failed = v === INVALID || inner.some((d) => d.severity === 'error');
      // Like Terraform, try catches dynamic errors only: a typo in a name is still reported.
      const staticErrors = inner.filter((d) => STATIC_ERRORS.has(d.code));
      if (staticErrors.length > 0) {
        this.diags.push(...staticErrors);
        return INVALID;
      }
      if (failed) {
        if (name === 'can') return false;
        failures.push(...inner.filter((d) => d.severity === 'error').map((d) => `${d.summary}: ${(d.detail ?? '').split('\n')[0]}`));
        continue;
      }
      this.diags.push(...inner);
      if (v === UNKNOWN) return UNKNOWN;
      return name === 'can' ? true : v;
    }
    return this.error('E_FUNCTION_CALL', 'Error in function call', `Call to function "try" failed: no expression succeeded:\n- ${failures.join('\n- ')}`, n);
  }

  // --- for expressions -----------------------------------------------------------------

  private forExpr(n: Node): V {
    const meta = n.meta as unknown as ForMeta;
    const isObjectFor = meta.openRangeValue === '{';
    const hasCond = meta.conditionalExpression !== undefined && meta.conditionalExpression !== '';
    const [collNode, ...rest] = n.children;
    const keyNode = isObjectFor ? rest[0] : undefined;
    const valueNode = rest[isObjectFor ? 1 : 0]!;
    const condNode = hasCond ? rest[isObjectFor ? 2 : 1] : undefined;

    const coll = this.node(collNode!);
    if (coll === INVALID || coll === UNKNOWN) return coll;
    let items: [Value, Value][];
    if (Array.isArray(coll)) items = coll.map((v, i) => [i, v]);
    else if (isObject(coll))
      items = Object.keys(coll)
        .sort()
        .map((k) => [k, coll[k]!]);
    else if (coll === null)
      return this.error('E_TYPE_MISMATCH', 'Iteration over null value', "A null value cannot be used as the collection in a 'for' expression.", collNode);
    else
      return this.error(
        'E_TYPE_MISMATCH',
        'Iteration over non-iterable value',
        `A value of type ${describeType(coll as Value)} cannot be used as the collection in a 'for' expression.`,
        collNode,
      );

    const frame = new Map<string, Value>();
    this.locals.push(frame);
    try {
      const list: Value[] = [];
      const obj: ValueObject = {};
      let invalid = false;
      let unknown = false;
      for (const [k, v] of items) {
        if (meta.keyVar !== '') frame.set(meta.keyVar, k);
        frame.set(meta.valVar, v);
        if (condNode !== undefined) {
          const c = this.node(condNode);
          if (c === INVALID) {
            invalid = true;
            continue;
          }
          if (c === UNKNOWN) {
            unknown = true;
            continue;
          }
          const b = asBool(c as Value);
          if (b === undefined) {
            this.error('E_TYPE_MISMATCH', "Invalid 'for' condition", `The 'if' clause must produce a bool, got ${describeType(c as Value)}.`, condNode);
            invalid = true;
            continue;
          }
          if (!b) continue;
        }
        if (keyNode === undefined) {
          const value = this.node(valueNode);
          if (value === INVALID) invalid = true;
          else list.push(value as Value);
          continue;
        }
        const kv = this.node(keyNode);
        const value = this.node(valueNode);
        if (kv === INVALID || value === INVALID) {
          invalid = true;
          continue;
        }
        if (kv === UNKNOWN) {
          unknown = true;
          continue;
        }
        const key = this.objectKey(kv as Value, keyNode);
        if (key === undefined) {
          invalid = true;
          continue;
        }
        if (meta.groupedValue) {
          const group = Object.hasOwn(obj, key) ? (obj[key] as Value[]) : [];
          group.push(value as Value);
          putKey(obj, key, group);
        } else if (Object.hasOwn(obj, key)) {
          this.error(
            'E_DUPLICATE_KEY',
            'Duplicate object key',
            `Two different items produced the key ${JSON.stringify(key)} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to group values by key.`,
            n,
          );
          invalid = true;
        } else putKey(obj, key, value as Value);
      }
      if (invalid) return INVALID;
      if (unknown) return UNKNOWN;
      return isObjectFor ? obj : list;
    } finally {
      this.locals.pop();
    }
  }
}

function literal(n: Node): Value {
  const text = n.meta?.value ?? '';
  switch (n.meta?.['type']) {
    case 'string':
      return cookLiteral(text);
    case 'number':
      return Number(text);
    case 'bool':
      return text === 'true';
    default:
      return null; // "dynamic": the null keyword
  }
}

function didYouMean(s: string | undefined): string {
  return s === undefined ? '' : ` Did you mean "${s}"?`;
}

/**
 * The candidate closest to what was written, comparing each candidate with as many
 * leading parts of the traversal as the candidate has (`var.web_cnt.x` against
 * `var.web_count`).
 */
export function suggestReference(parts: readonly (string | number)[], candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  let bestLimit = 0;
  for (const c of candidates) {
    const n = c.split('.').length;
    const written = parts.slice(0, n).map(String).join('.');
    const d = editDistance(written.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
      bestLimit = Math.max(2, Math.floor(written.length / 3));
    }
  }
  return bestDist > 0 && bestDist <= bestLimit ? best : undefined;
}
