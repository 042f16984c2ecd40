// Loads a `*.infra.ts` manifest into the configuration model: compile (esbuild),
// evaluate once in a fresh context, and decode the resulting document exactly as an
// HCL file is decoded: the document is rebuilt into what the HCL side has for a file
// (hcl2json's JSON plus the located structure with source ranges) and handed to the
// same `decodeFile`, so both languages share one set of rules and diagnostics.
import { dirname, join, resolve } from 'node:path';
import type { DocumentProblem, ManifestDocument } from '../../api/manifest-document.js';
import { Diagnostics, type Diagnostic, type SourceRange } from '../diagnostics.js';
import { decodeFile } from './hcl-decode.js';
import { emptyFileDecls, type FileDecls } from './model.js';
import { compileManifest } from './typescript-compile.js';
import { hclJsonOfDocument, locateDocument } from './typescript-document.js';
import { ManifestPositions } from './typescript-positions.js';
import { evaluateManifest } from './typescript-sandbox.js';

export interface TypeScriptLoadOptions {
  /** The file name diagnostics and ranges use (as HCL files use theirs). Default: `file` as given. */
  readonly name?: string;
  /** Evaluation time limit. Default: 30 s. */
  readonly timeoutMs?: number;
  /** Receives what the manifest prints with console.*. Default: the engine's stderr. */
  readonly console?: (line: string) => void;
}

export async function loadTypeScriptManifest(file: string, options: TypeScriptLoadOptions = {}): Promise<{ decls: FileDecls; diagnostics: Diagnostic[] }> {
  const name = options.name ?? file;
  const absFile = resolve(file);
  // Source-map paths are relative to the manifest's directory; show them next to `name`.
  const displayPath = (rel: string): string => (resolve(dirname(absFile), rel) === absFile ? name : join(dirname(name), rel));
  const diags = new Diagnostics();
  const empty = emptyFileDecls(name);
  const fileStart: SourceRange = { file: name, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };

  const compiled = await compileManifest(absFile, displayPath);
  if (!compiled.compiled) return { decls: empty, diagnostics: compiled.diagnostics };

  const scriptName = `tsinfra-manifest:${absFile}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const positions = new ManifestPositions(scriptName, compiled.compiled.map, displayPath);
  const evaluation = await evaluateManifest({
    absFile,
    code: compiled.compiled.code,
    scriptName,
    timeoutMs,
    console: options.console ?? ((line) => process.stderr.write(`${line}\n`)),
  });

  switch (evaluation.kind) {
    case 'error': {
      const frames = [...positions.ranges(evaluation.stack)].slice(0, 10);
      diags.error(
        'E_TS_EVAL',
        evaluation.timedOut ? `Evaluating the manifest timed out after ${timeoutMs} ms` : `Evaluating the manifest failed: ${evaluation.message}`,
        {
          detail: [
            evaluation.timedOut ? 'A manifest must finish quickly: look for an endless loop.' : 'The manifest threw an exception.',
            ...frames.map((r) => `    at ${r.file}:${r.start.line}:${r.start.column}`),
          ].join('\n'),
          range: frames[0] ?? fileStart,
        },
      );
      return { decls: empty, diagnostics: diags.items };
    }
    case 'no-manifest':
      diags.error('E_TS_NO_MANIFEST', `${name} does not default-export a Manifest`, {
        detail: `Its default export is ${evaluation.exported}. End the file with \`export default m;\` where m = new Manifest() from 'tsinfra'; the manifest must be built synchronously.`,
        range: fileStart,
      });
      return { decls: empty, diagnostics: diags.items };
    case 'document':
      return decodeDocument(name, evaluation.document, (site) => (site && positions.firstRange(site)) || fileStart, diags);
  }
}

/** Turns the manifest's document into declarations through the HCL decoder. */
function decodeDocument(
  name: string,
  doc: ManifestDocument,
  rangeOf: (site: string | undefined) => SourceRange,
  diags: Diagnostics,
): { decls: FileDecls; diagnostics: Diagnostic[] } {
  for (const p of doc.problems) diags.add(problemDiagnostic(p, rangeOf(p.site)));
  const decoded = decodeFile(name, locateDocument(doc, name, rangeOf), hclJsonOfDocument(doc));
  diags.append(decoded.diagnostics.items);
  return { decls: decoded.decls, diagnostics: diags.items };
}

function problemDiagnostic(p: DocumentProblem, range: SourceRange): Diagnostic {
  const where = p.path ? `${p.address}: ${p.path}` : p.address;
  return {
    severity: 'error',
    code: 'E_TS_VALUE',
    summary: `${p.message} (${where})`,
    detail:
      'Manifest values must be data: strings, numbers, booleans, null, arrays, plain objects and references. ' +
      'Convert other values first, for example date.toISOString(), [...set], Object.fromEntries(map).',
    address: p.address,
    range,
  };
}
