// Syntax parsing of one HCL file through `@cdktf/hcl2json` (a Go/WASM program), plus
// the expression ASTs of every `${...}` template the file holds. This is the costly
// part of loading (about 0.14 ms per resource and 0.1 ms per expression), which is why it is kept free of anything else:
// it runs in worker threads for big configurations and its result is cached by the
// file's content hash.
import { hcl2json } from './hcl2json.js';
import type { Diagnostic } from '../diagnostics.js';
import { collectTemplates, exportEntries, parseTemplates, type CacheEntry } from '../expressions/ast-cache.js';

export interface SyntaxResult {
  /** hcl2json's JSON, or undefined when the file has a syntax error. */
  readonly json?: Record<string, unknown>;
  /** The ASTs of every template in the file (the AST cache's transport form). */
  readonly asts: readonly CacheEntry[];
  readonly diagnostics: readonly Diagnostic[];
}

export async function parseHclSyntax(file: string, source: string): Promise<SyntaxResult> {
  let json: Record<string, unknown>;
  try {
    const { parse } = await hcl2json();
    json = await parse(file, source);
  } catch (e) {
    return { asts: [], diagnostics: syntaxDiagnostics(file, e instanceof Error ? e.message : String(e)) };
  }
  const templates = collectTemplates(json);
  const diagnostics = (await parseTemplates(templates)).map((d) => ({
    ...d,
    range: d.range ?? { file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
  }));
  return { json, asts: exportEntries(templates), diagnostics };
}

// hcl2json reports `parse config: [file:2,6-3,1: Summary; Detail. file:...]` (older versions put `, ` between
// diagnostics). A detail may itself mention `file:1,6-21`; a new diagnostic only starts after a full stop.
const DIAG = /([^\s[,][^:]*):(\d+),(\d+)-(?:(\d+),)?(\d+): ([^;\]]+)(?:; ([^\]]*?))?(?=(?<=\.),? [^\s,]+:\d+,\d+-|\]$|$)/g;

export function syntaxDiagnostics(file: string, message: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const m of message.matchAll(DIAG)) {
    const [, , l1, c1, l2, c2, summary, detail] = m;
    const startLine = Number(l1);
    // Follow-on errors (the same place, or the same complaint again further down) add nothing for the reader.
    if (seen.has(`${l1},${c1}`) || seen.has(summary!)) continue;
    seen.add(`${l1},${c1}`).add(summary!);
    out.push({
      severity: 'error',
      code: 'E_SYNTAX',
      summary: summary!.trim(),
      ...(detail ? { detail: detail.trim() } : {}),
      range: {
        file,
        start: { line: startLine, column: Number(c1) },
        end: { line: l2 ? Number(l2) : startLine, column: Number(c2) },
      },
    });
  }
  if (out.length === 0) {
    out.push({
      severity: 'error',
      code: 'E_SYNTAX',
      summary: message.replace(/^parse config: /, ''),
      range: { file, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
    });
  }
  return out;
}
