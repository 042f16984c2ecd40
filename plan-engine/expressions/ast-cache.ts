// The process-wide cache of parsed templates. Parsing goes through hcl2json's
// WebAssembly build of the HCL parser, which is asynchronous and costs about 0.1 ms
// per call, while evaluation must be synchronous and configurations repeat the same
// templates thousands of times. So: collect every template of a configuration,
// parse each distinct one once (plain traversals without WebAssembly at all), and
// let evaluation look ASTs up synchronously. Entries can be exported and primed so
// that the configuration loader can parse in worker threads and keep a disk cache.
import type { TFExpressionSyntaxTree } from '@cdktf/hcl2json';
import { hcl2json } from '../config/hcl2json.js';
import type { Diagnostic } from '../diagnostics.js';
import { fastParse } from './fast-parse.js';
import { isTemplate, quoteTemplate } from './template-source.js';

export type ExpressionType = TFExpressionSyntaxTree.ExpressionType;

/** One parsed template, as moved between threads or stored on disk (plain JSON data). */
export type CacheEntry = { readonly template: string; readonly ast: ExpressionType } | { readonly template: string; readonly error: Diagnostic };

const asts = new Map<string, ExpressionType>();
const syntaxErrors = new Map<string, Diagnostic>();
let parserCalls = 0;

// How many parser calls are in flight at once: the WebAssembly bridge answers
// concurrent calls faster than sequential ones, but unbounded fan-out only queues.
const BATCH = 256;
const PARSER_FILENAME = 'expression';

/** Every distinct template string in a raw expression (object keys included). */
export function collectTemplates(raw: unknown): string[] {
  const out = new Set<string>();
  collectInto(raw, out);
  return [...out];
}

function collectInto(raw: unknown, out: Set<string>): void {
  if (typeof raw === 'string') {
    if (isTemplate(raw)) out.add(raw);
  } else if (Array.isArray(raw)) {
    for (const x of raw) collectInto(x, out);
  } else if (typeof raw === 'object' && raw !== null) {
    for (const [k, v] of Object.entries(raw)) {
      if (isTemplate(k)) out.add(k);
      collectInto(v, out);
    }
  }
}

/**
 * Parses the templates that are not cached yet (each distinct string once) and
 * returns one `E_SYNTAX` diagnostic per given template that does not parse. The
 * diagnostics carry no range: the caller knows which attribute a template came from.
 */
export async function parseTemplates(templates: Iterable<string>): Promise<Diagnostic[]> {
  const requested = new Set(templates);
  const pending: string[] = [];
  for (const t of requested) {
    if (asts.has(t) || syntaxErrors.has(t)) continue;
    const fast = fastParse(t);
    if (fast !== undefined) asts.set(t, fast);
    else pending.push(t);
  }
  for (let i = 0; i < pending.length; i += BATCH) {
    const batch = pending.slice(i, i + BATCH);
    const results = await Promise.all(batch.map(parseWithParser));
    batch.forEach((t, k) => store(t, results[k]!));
  }
  const diagnostics: Diagnostic[] = [];
  for (const t of requested) {
    const e = syntaxErrors.get(t);
    if (e !== undefined) diagnostics.push(e);
  }
  return diagnostics;
}

function store(template: string, parsed: ExpressionType | Diagnostic): void {
  if ('severity' in parsed) syntaxErrors.set(template, parsed);
  else asts.set(template, parsed);
}

/** Parses one template with the full HCL parser: its AST, or the syntax error. */
export async function parseWithParser(template: string): Promise<ExpressionType | Diagnostic> {
  const quoted = quoteTemplate(template);
  parserCalls++;
  try {
    const { getExpressionAst } = await hcl2json();
    const ast = await getExpressionAst(PARSER_FILENAME, quoted);
    if (ast === null) return syntaxError(template, 'Invalid expression', `The parser found no expression in ${excerpt(template, 0)}.`);
    nameBareObjectKeys(ast, quoted);
    return ast;
  } catch (e) {
    return syntaxDiagnostic(template, e instanceof Error ? e.message : String(e));
  }
}

/**
 * The parser reports an object key written as a bare identifier (`{ name = 1 }`) as a
 * node of type "" with neither children nor text; its name is only in the source.
 * Copy it into `meta.value` so that evaluation needs no source text.
 */
function nameBareObjectKeys(node: ExpressionType, quoted: string): void {
  let bytes: Buffer | undefined;
  const visit = (n: ExpressionType): void => {
    if (n.type === 'object') {
      n.children.forEach((key, i) => {
        if (i % 2 === 0 && (key.type as string) === '' && key.children.length === 0) {
          bytes ??= Buffer.from(quoted);
          const text = bytes.subarray(key.range.start.byte, key.range.end.byte).toString('utf8');
          (key as { meta?: { value: string } }).meta = { value: text };
        }
      });
    }
    for (const c of n.children) visit(c);
  };
  visit(node);
}

// The parser's error text: "...: FILE:LINE,COL-[LINE,]COL: SUMMARY; DETAIL".
const PARSER_ERROR = new RegExp(`: ${PARSER_FILENAME}:\\d+,(\\d+)-(?:\\d+,)?\\d+: ([^;]*);\\s*([\\s\\S]*)$`);

function syntaxDiagnostic(template: string, message: string): Diagnostic {
  const m = PARSER_ERROR.exec(message);
  if (!m) return syntaxError(template, 'Invalid expression', `${message.trim()}`);
  // The reported column counts from the opening quote we added, so it is 1-based in the template.
  const column = Number(m[1]);
  return syntaxError(template, m[2]!.trim() || 'Invalid expression', `${m[3]!.trim()} At column ${column} of ${excerpt(template, column)}.`);
}

function syntaxError(template: string, summary: string, detail: string): Diagnostic {
  return { severity: 'error', code: 'E_SYNTAX', summary, detail };
}

/** The template, or the part of a long one around a column, quoted for a message. */
function excerpt(template: string, column: number): string {
  const MAX = 80;
  if (template.length <= MAX) return JSON.stringify(template);
  const from = Math.max(0, column - MAX / 2);
  const text = template.slice(from, from + MAX);
  return `${from > 0 ? '...' : ''}${JSON.stringify(text)}${from + MAX < template.length ? '...' : ''}`;
}

/** The parse result of a template, for evaluation: undefined when it was never parsed. */
export function lookupTemplate(template: string): { ast: ExpressionType } | { error: Diagnostic } | undefined {
  const ast = asts.get(template);
  if (ast !== undefined) return { ast };
  const error = syntaxErrors.get(template);
  if (error !== undefined) return { error };
  const fast = fastParse(template);
  if (fast === undefined) return undefined;
  asts.set(template, fast);
  return { ast: fast };
}

/** The cached AST of a template, or undefined (not parsed yet, or a syntax error). */
export function getAst(template: string): ExpressionType | undefined {
  const r = lookupTemplate(template);
  return r !== undefined && 'ast' in r ? r.ast : undefined;
}

/** Adds parsed templates (from a worker thread or a disk cache) to this process's cache. */
export function primeCache(entries: Iterable<CacheEntry>): void {
  for (const e of entries) {
    if ('ast' in e) asts.set(e.template, e.ast);
    else syntaxErrors.set(e.template, e.error);
  }
}

/**
 * The cache entries of the given templates, for transfer or storage. Templates the
 * fast parser handles are left out (they cost nothing to parse again), as are
 * templates not parsed yet.
 */
export function exportEntries(templates: Iterable<string>): CacheEntry[] {
  const out: CacheEntry[] = [];
  for (const template of new Set(templates)) {
    const ast = asts.get(template);
    if (ast !== undefined) {
      if (fastParse(template) === undefined) out.push({ template, ast });
      continue;
    }
    const error = syntaxErrors.get(template);
    if (error !== undefined) out.push({ template, error });
  }
  return out;
}

/** Empties the cache (tests; long-running processes between configurations). */
export function clearAstCache(): void {
  asts.clear();
  syntaxErrors.clear();
}

/** Counters for benchmarks and tests: cached templates and calls to the WebAssembly parser so far. */
export function astCacheStats(): { readonly entries: number; readonly parserCalls: number } {
  return { entries: asts.size + syntaxErrors.size, parserCalls };
}
