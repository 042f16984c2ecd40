// Rebuilds a manifest document into what the HCL side has for a file: the JSON
// `@cdktf/hcl2json` would produce for the equivalent HCL, and the located structure
// (blocks, attributes, ranges, value source text) the HCL locator would produce.
// A manifest has no finer positions than its declaration calls, so every attribute
// and nested block of a declaration carries the declaration's range.
import type { DocumentBlock, ManifestDocument } from '../../api/manifest-document.js';
import type { SourceRange } from '../diagnostics.js';
import { quoteTemplate, splitTemplate } from '../expressions/template-source.js';
import type { LocatedAttribute, LocatedBlock, LocatedBody } from './hcl-locator.js';

type Json = Record<string, unknown>;

/** The JSON `@cdktf/hcl2json` would produce for the same configuration written in HCL. */
export function hclJsonOfDocument(doc: ManifestDocument): Json {
  const json: Json = {};
  for (const b of doc.blocks) appendBlockJson(json, b);
  return json;
}

/** The located top-level body: each block at the range `rangeOf` gives its call site. */
export function locateDocument(doc: ManifestDocument, file: string, rangeOf: (site: string | undefined) => SourceRange): LocatedBody {
  const blocks = doc.blocks.map((b) => locateBlock(b, rangeOf(b.site)));
  const last = blocks.reduce((end, b) => (b.range.end.line > end.line ? b.range.end : end), { line: 1, column: 1 });
  return { attributes: [], blocks, range: { file, start: { line: 1, column: 1 }, end: last } };
}

function locateBlock(b: DocumentBlock, range: SourceRange): LocatedBlock {
  const attributes: LocatedAttribute[] = b.attributes.map(([name, value]) => new DeclaredAttribute(name, value, range));
  return {
    type: b.type,
    labels: b.labels,
    range,
    body: { attributes, blocks: b.blocks.map((nested) => locateBlock(nested, range)), range },
  };
}

/** An attribute of a manifest declaration; its source text is computed only when a decoder asks for it. */
class DeclaredAttribute implements LocatedAttribute {
  constructor(
    readonly name: string,
    private readonly value: unknown,
    readonly range: SourceRange,
  ) {}
  get nameRange(): SourceRange {
    return this.range;
  }
  get valueRange(): SourceRange {
    return this.range;
  }
  get valueText(): string {
    return hclSourceOfRaw(this.value);
  }
}

/** Appends a block the way hcl2json nests it: json[type][label1]...[labelN] is an array of bodies. */
function appendBlockJson(parent: Json, b: DocumentBlock): void {
  const path = [b.type, ...b.labels];
  let cur = parent;
  for (const key of path.slice(0, -1)) {
    if (!Object.hasOwn(cur, key)) setOwn(cur, key, {});
    cur = cur[key] as Json;
  }
  const last = path[path.length - 1]!;
  if (!Object.hasOwn(cur, last)) setOwn(cur, last, []);
  (cur[last] as Json[]).push(bodyJson(b));
}

function bodyJson(b: DocumentBlock): Json {
  const out: Json = {};
  for (const [k, v] of b.attributes) setOwn(out, k, v);
  for (const nested of b.blocks) appendBlockJson(out, nested);
  return out;
}

/** Plain assignment, except that a key named `__proto__` becomes a property rather than the prototype. */
function setOwn(o: Json, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

/** HCL source text for a raw expression: what a user would have written after `=`. */
export function hclSourceOfRaw(v: unknown): string {
  if (typeof v === 'string') {
    const segments = splitTemplate(v);
    const only = segments.length === 1 ? segments[0]! : undefined;
    // A lone `${expr}` is the expression itself (`type = number`, `host = host.web`).
    if (only?.kind === 'sequence' && only.text.startsWith('${') && !only.text.startsWith('${~') && !only.text.endsWith('~}')) {
      return only.text.slice(2, -1).trim();
    }
    return quoteTemplate(v);
  }
  if (Array.isArray(v)) return `[${v.map(hclSourceOfRaw).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{ ${Object.entries(v)
      .map(([k, x]) => `${quoteTemplate(k)} = ${hclSourceOfRaw(x)}`)
      .join(', ')} }`;
  }
  return String(v);
}
