// Evaluates configuration blocks: count/for_each expansion, and a block body into a
// plain object (attributes, plus nested blocks as an object or a list of objects).
import { Diagnostics, suggest, type SourceRange } from '../diagnostics.js';
import type { Attribute, Body, Expansion as ExpansionDecl } from '../config/model.js';
import { evaluate, type Scope } from '../expressions/index.js';
import { isObject, isUnknown, typeName, type Value, type ValueObject } from '../values.js';
import type { Expansion, Repetition } from './eval-context.js';

export interface InstanceRep {
  readonly key: number | string | undefined;
  readonly rep: Repetition;
}

/** Evaluates count / for_each into the instances to create. They must be known at plan time. */
export function expand(decl: ExpansionDecl, scope: Scope, address: string, diags: Diagnostics): { expansion: Expansion; instances: InstanceRep[] } {
  if (decl.count) {
    const r = evaluate(decl.count.expr, scope, { range: decl.count.range, address });
    diags.append(r.diagnostics);
    if (r.diagnostics.length) return { expansion: { mode: 'unknown' }, instances: [] };
    if (isUnknown(r.value)) return unknownExpansion('count', decl.count, address, diags);
    const n = typeof r.value === 'string' && /^\d+$/.test(r.value) ? Number(r.value) : r.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      diags.error('E_INVALID_COUNT', `count must be a whole number of 0 or more, got ${typeName(r.value)} ${JSON.stringify(r.value)}`, {
        range: decl.count.range,
        address,
      });
      return { expansion: { mode: 'unknown' }, instances: [] };
    }
    return {
      expansion: { mode: 'count', count: n },
      instances: Array.from({ length: n }, (_, i) => ({ key: i, rep: { countIndex: i } })),
    };
  }
  if (decl.forEach) {
    const r = evaluate(decl.forEach.expr, scope, { range: decl.forEach.range, address });
    diags.append(r.diagnostics);
    if (r.diagnostics.length) return { expansion: { mode: 'unknown' }, instances: [] };
    if (isUnknown(r.value)) return unknownExpansion('for_each', decl.forEach, address, diags);
    if (r.sensitive) {
      diags.error('E_SENSITIVE_FOR_EACH', 'for_each cannot use a sensitive value', {
        detail: 'Instance keys appear in addresses and plan output.',
        range: decl.forEach.range,
        address,
      });
      return { expansion: { mode: 'unknown' }, instances: [] };
    }
    const entries = forEachEntries(r.value);
    if (!entries) {
      diags.error('E_INVALID_FOR_EACH', `for_each needs a map or a set of strings, got ${typeName(r.value)}`, {
        detail: 'Use toset([...]) for a list of strings.',
        range: decl.forEach.range,
        address,
      });
      return { expansion: { mode: 'unknown' }, instances: [] };
    }
    return {
      expansion: { mode: 'for_each', keys: entries.map(([k]) => k) },
      instances: entries.map(([k, v]) => ({ key: k, rep: { eachKey: k, eachValue: v } })),
    };
  }
  return { expansion: { mode: 'single' }, instances: [{ key: undefined, rep: {} }] };
}

function unknownExpansion(what: string, attr: Attribute, address: string, diags: Diagnostics) {
  diags.error('E_UNKNOWN_EXPANSION', `${what} depends on values known only after apply`, {
    detail: `The number of instances must be known when planning. Use values from variables or locals, or apply the resources it depends on first with --target.`,
    range: attr.range,
    address,
  });
  return { expansion: { mode: 'unknown' } as Expansion, instances: [] };
}

function forEachEntries(v: Value): [string, Value][] | undefined {
  if (Array.isArray(v)) {
    if (!v.every((x) => typeof x === 'string')) return undefined;
    return [...new Set(v as string[])].sort().map((k) => [k, k]);
  }
  if (isObject(v))
    return Object.keys(v)
      .sort()
      .map((k) => [k, v[k]!]);
  return undefined;
}

export interface EvaluatedBody {
  readonly value: ValueObject;
  readonly sensitivePaths: string[];
}

/**
 * Evaluates a body. `nested` lists the nested block types allowed and their mode; a
 * nested block's own nested blocks are looked up as `outer.inner`.
 */
export function evaluateBody(
  body: Body,
  nested: Readonly<Record<string, 'single' | 'list'>>,
  scope: Scope,
  address: string,
  diags: Diagnostics,
  prefix = '',
): EvaluatedBody {
  const value: ValueObject = {};
  const sensitivePaths: string[] = [];
  for (const [name, attr] of body.attributes) {
    const r = evaluate(attr.expr, scope, { range: attr.range, address });
    diags.append(r.diagnostics);
    value[name] = r.value;
    if (r.sensitive) sensitivePaths.push(prefix + name);
  }
  const allowed = Object.keys(nested)
    .filter((k) => (prefix ? k.startsWith(prefix) : !k.includes('.')))
    .map((k) => k.slice(prefix.length))
    .filter((k) => !k.includes('.'));
  const lists = new Map<string, ValueObject[]>();
  for (const block of body.blocks) {
    const mode = nested[prefix + block.type];
    if (!mode) {
      reportUnknownBlock(block.type, allowed, block.range, address, diags);
      continue;
    }
    if (block.labels.length) {
      diags.error('E_BLOCK_LABELS', `A ${block.type} block takes no labels`, { range: block.range, address });
      continue;
    }
    if (body.attributes.has(block.type)) {
      diags.error('E_DUPLICATE', `"${block.type}" is given both as an attribute and as a block`, { range: block.range, address });
      continue;
    }
    const inner = evaluateBody(block.body, nested, scope, address, diags, `${prefix}${block.type}.`);
    sensitivePaths.push(...inner.sensitivePaths);
    if (mode === 'single') {
      if (value[block.type] !== undefined) {
        diags.error('E_DUPLICATE_BLOCK', `Only one "${block.type}" block is allowed`, { range: block.range, address });
        continue;
      }
      value[block.type] = inner.value;
    } else {
      const list = lists.get(block.type) ?? [];
      list.push(inner.value);
      lists.set(block.type, list);
    }
  }
  for (const [k, list] of lists) value[k] = list;
  return { value, sensitivePaths };
}

function reportUnknownBlock(type: string, allowed: string[], range: SourceRange, address: string, diags: Diagnostics): void {
  const s = suggest(type, allowed);
  diags.error('E_UNKNOWN_BLOCK', `Unsupported block type "${type}"`, {
    detail: s ? `Did you mean "${s}"?` : allowed.length ? `Blocks allowed here: ${allowed.join(', ')}.` : 'No nested blocks are allowed here.',
    range,
    address,
  });
}
