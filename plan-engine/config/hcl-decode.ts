// Turns one HCL file into declarations. `@cdktf/hcl2json` gives the values (JSON in
// Terraform's JSON syntax, no positions); the locator gives the structure and the
// source ranges. The two are walked together: same-type blocks appear in hcl2json's
// arrays in source order, so the n-th located `resource "network" "front"` block is
// the n-th entry of json.resource.network.front.
import { parseResourceInstanceAddr, ResourceAddr, type ResourceInstanceAddr } from '../addresses.js';
import { Diagnostics, suggest, type SourceRange } from '../diagnostics.js';
import type { LocatedBlock, LocatedBody } from './hcl-locator.js';
import { emptyFileDecls, type Attribute, type Block, type Body, type FileDecls, type Lifecycle, type Validation } from './model.js';

type Json = Record<string, unknown>;

const TOP_LEVEL: Record<string, number> = {
  variable: 1,
  locals: 0,
  host: 1,
  resource: 2,
  output: 1,
  moved: 0,
  tsinfra: 0,
};

/** Builds a Body from a located body and the matching hcl2json object. */
export function decodeBody(located: LocatedBody, json: Json | undefined): Body {
  const attributes = new Map<string, Attribute>();
  for (const a of located.attributes) {
    attributes.set(a.name, { name: a.name, expr: json?.[a.name], range: a.range });
  }
  const seen = new Map<string, number>();
  const blocks: Block[] = [];
  for (const b of located.blocks) {
    const key = [b.type, ...b.labels].join('\u0000');
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    blocks.push(decodeBlock(b, nthBody(json, b, n)));
  }
  return { attributes, blocks, range: located.range };
}

function decodeBlock(located: LocatedBlock, json: Json | undefined): Block {
  return { type: located.type, labels: located.labels, body: decodeBody(located.body, json), range: located.range };
}

/** Follows json[type][label1]...[labelN][n] as hcl2json nests labelled blocks. */
function nthBody(json: Json | undefined, b: LocatedBlock, n: number): Json | undefined {
  let cur: unknown = json?.[b.type];
  for (const l of b.labels) cur = (cur as Json | undefined)?.[l];
  if (Array.isArray(cur)) return cur[n] as Json | undefined;
  return undefined;
}

/** Decodes the whole file into declarations, reporting structural errors. */
export function decodeFile(file: string, located: LocatedBody, json: Json): { decls: FileDecls; diagnostics: Diagnostics } {
  const diags = new Diagnostics();
  const decls = emptyFileDecls(file);
  const top = decodeBody(located, json);
  for (const [name, attr] of top.attributes) {
    diags.error('E_UNEXPECTED_ATTRIBUTE', `Unexpected attribute "${name}" at the top level`, {
      detail: 'Only blocks (variable, locals, host, resource, output, moved, tsinfra) may appear at the top level of a file.',
      range: attr.range,
    });
  }
  for (const block of top.blocks) {
    const want = TOP_LEVEL[block.type];
    if (want === undefined) {
      const s = suggest(block.type, Object.keys(TOP_LEVEL));
      diags.error('E_UNKNOWN_BLOCK', `Unknown block type "${block.type}"`, {
        detail: s ? `Did you mean "${s}"?` : `Expected one of: ${Object.keys(TOP_LEVEL).join(', ')}.`,
        range: block.range,
      });
      continue;
    }
    if (block.labels.length !== want) {
      diags.error('E_BLOCK_LABELS', `A ${block.type} block takes ${want} label${want === 1 ? '' : 's'}, got ${block.labels.length}`, {
        detail: labelHint(block.type),
        range: block.range,
      });
      continue;
    }
    switch (block.type) {
      case 'variable':
        decodeVariable(block, decls, diags);
        break;
      case 'locals':
        for (const attr of block.body.attributes.values()) decls.locals.push({ name: attr.name, value: attr, range: attr.range });
        rejectBlocks(block.body, [], 'locals', diags);
        break;
      case 'host':
        decodeHost(block, decls, diags);
        break;
      case 'resource':
        decodeResource(block, decls, diags);
        break;
      case 'output':
        decodeOutput(block, decls, diags);
        break;
      case 'moved':
        decodeMoved(block, decls, diags);
        break;
      case 'tsinfra':
        decodeSettings(block, decls, diags);
        break;
    }
  }
  return { decls, diagnostics: diags };
}

function labelHint(type: string): string {
  switch (type) {
    case 'resource':
      return 'Write resource "TYPE" "NAME" { ... }.';
    case 'variable':
    case 'host':
    case 'output':
      return `Write ${type} "NAME" { ... }.`;
    default:
      return `Write ${type} { ... }.`;
  }
}

function rejectAttributes(body: Body, allowed: readonly string[], where: string, diags: Diagnostics, address?: string): void {
  for (const [name, attr] of body.attributes) {
    if (allowed.includes(name)) continue;
    const s = suggest(name, allowed);
    diags.error('E_UNKNOWN_ATTRIBUTE', `Unsupported attribute "${name}" in ${where}`, {
      detail: s ? `Did you mean "${s}"?` : allowed.length ? `Allowed here: ${allowed.join(', ')}.` : 'No attributes are allowed here.',
      range: attr.range,
      ...(address ? { address } : {}),
    });
  }
}

function rejectBlocks(body: Body, allowed: readonly string[], where: string, diags: Diagnostics, address?: string): void {
  for (const b of body.blocks) {
    if (allowed.includes(b.type)) continue;
    const s = suggest(b.type, allowed);
    diags.error('E_UNKNOWN_BLOCK', `Unsupported block "${b.type}" in ${where}`, {
      detail: s ? `Did you mean "${s}"?` : allowed.length ? `Blocks allowed here: ${allowed.join(', ')}.` : 'No nested blocks are allowed here.',
      range: b.range,
      ...(address ? { address } : {}),
    });
  }
}

/** A literal boolean attribute (meta-arguments that must be known before evaluation). */
function literalBool(attr: Attribute | undefined, diags: Diagnostics, address: string): boolean | undefined {
  if (!attr) return undefined;
  if (typeof attr.expr === 'boolean') return attr.expr;
  diags.error('E_EXPECTED_LITERAL', `"${attr.name}" must be a literal true or false`, {
    detail: 'This setting is read before any expression is evaluated, so it cannot refer to variables.',
    range: attr.range,
    address,
  });
  return undefined;
}

function literalString(attr: Attribute | undefined, diags: Diagnostics, address: string): string | undefined {
  if (!attr) return undefined;
  if (typeof attr.expr === 'string' && !attr.expr.includes('${')) return attr.expr;
  diags.error('E_EXPECTED_LITERAL', `"${attr.name}" must be a literal string`, { range: attr.range, address });
  return undefined;
}

function decodeVariable(block: Block, decls: FileDecls, diags: Diagnostics): void {
  const name = block.labels[0]!;
  const address = `var.${name}`;
  const a = block.body.attributes;
  rejectAttributes(block.body, ['type', 'default', 'description', 'sensitive', 'nullable'], `variable "${name}"`, diags, address);
  rejectBlocks(block.body, ['validation'], `variable "${name}"`, diags, address);
  const validations: Validation[] = [];
  for (const v of block.body.blocks.filter((b) => b.type === 'validation')) {
    const condition = v.body.attributes.get('condition');
    const errorMessage = v.body.attributes.get('error_message');
    rejectAttributes(v.body, ['condition', 'error_message'], 'a validation block', diags, address);
    if (!condition || !errorMessage) {
      diags.error('E_MISSING_ATTRIBUTE', `A validation block needs both "condition" and "error_message"`, { range: v.range, address });
      continue;
    }
    validations.push({ condition, errorMessage, range: v.range });
  }
  const typeAttr = a.get('type');
  let type: string | undefined;
  if (typeAttr) {
    if (typeof typeAttr.expr === 'string') type = typeAttr.expr;
    else diags.error('E_INVALID_TYPE', 'Invalid type constraint', { range: typeAttr.range, address });
  }
  const description = literalString(a.get('description'), diags, address);
  decls.variables.push({
    name,
    ...(type !== undefined ? { type, typeRange: typeAttr!.range } : {}),
    ...(a.has('default') ? { default: a.get('default')! } : {}),
    ...(description !== undefined ? { description } : {}),
    sensitive: literalBool(a.get('sensitive'), diags, address) ?? false,
    nullable: literalBool(a.get('nullable'), diags, address) ?? true,
    validations,
    range: block.range,
  });
}

/** Splits the meta-arguments shared by hosts and resources off a body. */
function splitMeta(body: Body, meta: readonly string[]): { meta: Map<string, Attribute>; rest: Body } {
  const m = new Map<string, Attribute>();
  const rest = new Map<string, Attribute>();
  for (const [k, v] of body.attributes) (meta.includes(k) ? m : rest).set(k, v);
  return { meta: m, rest: { attributes: rest, blocks: body.blocks, range: body.range } };
}

function checkExpansion(meta: Map<string, Attribute>, diags: Diagnostics, address: string): void {
  const count = meta.get('count');
  const forEach = meta.get('for_each');
  if (count && forEach) {
    diags.error('E_COUNT_AND_FOR_EACH', 'Use either "count" or "for_each", not both', { range: forEach.range, address });
  }
}

function decodeHost(block: Block, decls: FileDecls, diags: Diagnostics): void {
  const name = block.labels[0]!;
  const address = `host.${name}`;
  const { meta, rest } = splitMeta(block.body, ['count', 'for_each', 'depends_on']);
  checkExpansion(meta, diags, address);
  decls.hosts.push({
    name,
    body: rest,
    ...optional('count', meta.get('count')),
    ...optional('forEach', meta.get('for_each')),
    ...optional('dependsOn', meta.get('depends_on')),
    range: block.range,
  });
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function decodeLifecycle(body: Body, diags: Diagnostics, address: string): Lifecycle {
  const blocks = body.blocks.filter((b) => b.type === 'lifecycle');
  if (blocks.length > 1) {
    diags.error('E_DUPLICATE_BLOCK', 'Only one lifecycle block is allowed', { range: blocks[1]!.range, address });
  }
  const lc = blocks[0];
  if (!lc) return { ignoreChanges: [], ignoreAll: false };
  rejectAttributes(lc.body, ['prevent_destroy', 'create_before_destroy', 'ignore_changes'], 'lifecycle', diags, address);
  rejectBlocks(lc.body, [], 'lifecycle', diags, address);
  const ic = lc.body.attributes.get('ignore_changes');
  const ignoreChanges: { path: string; range: SourceRange }[] = [];
  let ignoreAll = false;
  if (ic) {
    const items = Array.isArray(ic.expr) ? ic.expr : [ic.expr];
    for (const item of items) {
      const path = typeof item === 'string' ? stripInterpolation(item) : undefined;
      if (path === 'all') ignoreAll = true;
      else if (path && /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\]|\["[^"]*"\])*$/.test(path)) ignoreChanges.push({ path, range: ic.range });
      else diags.error('E_INVALID_IGNORE_CHANGES', 'ignore_changes takes a list of attribute names, or all', { range: ic.range, address });
    }
  }
  return {
    ...optional('preventDestroy', lc.body.attributes.get('prevent_destroy')),
    ...optional('createBeforeDestroy', lc.body.attributes.get('create_before_destroy')),
    ignoreChanges,
    ignoreAll,
  };
}

/** `"${network.a}"` -> `network.a`; a plain `"network.a"` string is accepted too. */
function stripInterpolation(s: string): string {
  const m = /^\$\{\s*([^{}]*?)\s*\}$/.exec(s);
  return m ? m[1]! : s;
}

function decodeResource(block: Block, decls: FileDecls, diags: Diagnostics): void {
  const [type, name] = block.labels as [string, string];
  const address = `${type}.${name}`;
  for (const [what, label] of [
    ['type', type],
    ['name', name],
  ] as const) {
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(label)) {
      diags.error('E_INVALID_NAME', `Invalid resource ${what} "${label}"`, {
        detail: 'Names start with a letter or underscore and contain only letters, digits, underscores and dashes.',
        range: block.range,
        address,
      });
      return;
    }
  }
  const { meta, rest } = splitMeta(block.body, ['count', 'for_each', 'depends_on', 'host']);
  checkExpansion(meta, diags, address);
  const lifecycle = decodeLifecycle(block.body, diags, address);
  decls.resources.push({
    addr: new ResourceAddr(type, name),
    body: { ...rest, blocks: rest.blocks.filter((b) => b.type !== 'lifecycle') },
    ...optional('count', meta.get('count')),
    ...optional('forEach', meta.get('for_each')),
    ...optional('dependsOn', meta.get('depends_on')),
    ...optional('host', meta.get('host')),
    lifecycle,
    range: block.range,
  });
}

function decodeOutput(block: Block, decls: FileDecls, diags: Diagnostics): void {
  const name = block.labels[0]!;
  const address = `output.${name}`;
  rejectAttributes(block.body, ['value', 'description', 'sensitive', 'depends_on'], `output "${name}"`, diags, address);
  rejectBlocks(block.body, [], `output "${name}"`, diags, address);
  const value = block.body.attributes.get('value');
  if (!value) {
    diags.error('E_MISSING_ATTRIBUTE', `Output "${name}" has no value`, { detail: 'Add value = <expression>.', range: block.range, address });
    return;
  }
  const description = literalString(block.body.attributes.get('description'), diags, address);
  decls.outputs.push({
    name,
    value,
    ...(description !== undefined ? { description } : {}),
    sensitive: literalBool(block.body.attributes.get('sensitive'), diags, address) ?? false,
    ...optional('dependsOn', block.body.attributes.get('depends_on')),
    range: block.range,
  });
}

function decodeMoved(block: Block, decls: FileDecls, diags: Diagnostics): void {
  rejectAttributes(block.body, ['from', 'to'], 'moved', diags);
  const ends: (ResourceAddr | ResourceInstanceAddr)[] = [];
  for (const which of ['from', 'to']) {
    const attr = block.body.attributes.get(which);
    const text = typeof attr?.expr === 'string' ? stripInterpolation(attr.expr) : undefined;
    const addr = text !== undefined ? parseResourceInstanceAddr(text) : undefined;
    if (!addr) {
      diags.error('E_INVALID_MOVED', `moved.${which} must be a resource address such as network.old or container.web[0]`, {
        range: attr?.range ?? block.range,
      });
      return;
    }
    ends.push(addr.instanceKey === undefined ? addr.resource : addr);
  }
  decls.moved.push({ from: ends[0]!, to: ends[1]!, range: block.range });
}

function decodeSettings(block: Block, decls: FileDecls, diags: Diagnostics): void {
  rejectAttributes(block.body, ['required_version'], 'tsinfra', diags);
  rejectBlocks(block.body, ['backend'], 'tsinfra', diags);
  const backends = block.body.blocks.filter((b) => b.type === 'backend');
  if (backends.length > 1) diags.error('E_DUPLICATE_BLOCK', 'Only one backend block is allowed', { range: backends[1]!.range });
  const b = backends[0];
  if (b && b.labels.length !== 1) diags.error('E_BLOCK_LABELS', 'A backend block takes one label: backend "local" { }', { range: b.range });
  decls.settings.push({
    ...optional('requiredVersion', block.body.attributes.get('required_version')),
    ...(b && b.labels.length === 1 ? { backend: { type: b.labels[0]!, body: b.body, range: b.range } } : {}),
  });
}
