// Compiles a `*.infra.ts` manifest (and the local modules it imports) into one
// CommonJS script with esbuild. esbuild strips types without checking them: type
// errors are the editor's and `tsc --noEmit`'s business, the loader only needs
// JavaScript. `tsinfra` stays external: the evaluation context serves it.
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildFailure, type Message } from 'esbuild';
import type { Diagnostic } from '../diagnostics.js';

export interface CompiledManifest {
  readonly code: string;
  /** The source map (v3) of `code`; sources are relative to the manifest's directory. */
  readonly map: RawSourceMap;
}

export interface RawSourceMap {
  readonly version: number;
  readonly sources: string[];
  readonly sourcesContent?: (string | null)[];
  readonly mappings: string;
  readonly names: string[];
}

/**
 * Bundles the manifest. `displayPath` maps a path relative to the manifest's directory
 * to the file name diagnostics show.
 */
export async function compileManifest(
  absFile: string,
  displayPath: (relativePath: string) => string,
): Promise<{ compiled?: CompiledManifest; diagnostics: Diagnostic[] }> {
  const dir = dirname(absFile);
  try {
    const result = await build({
      entryPoints: [absFile],
      absWorkingDir: dir,
      // Never written: it only anchors the source map's relative paths at the manifest's directory.
      outfile: join(dir, '__tsinfra_manifest.js'),
      write: false,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['tsinfra'],
      sourcemap: 'external',
      sourcesContent: true,
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(absFile).href) },
      logLevel: 'silent',
    });
    const js = result.outputFiles.find((f) => f.path.endsWith('.js'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.js.map'));
    if (!js || !map) throw new Error('esbuild produced no output for ' + absFile);
    return { compiled: { code: js.text, map: JSON.parse(map.text) as RawSourceMap }, diagnostics: [] };
  } catch (e) {
    if (!isBuildFailure(e)) throw e;
    return { diagnostics: e.errors.map((m) => buildDiagnostic(m, dir, absFile, displayPath)) };
  }
}

function isBuildFailure(e: unknown): e is BuildFailure {
  return typeof e === 'object' && e !== null && Array.isArray((e as BuildFailure).errors);
}

function buildDiagnostic(m: Message, dir: string, absFile: string, displayPath: (rel: string) => string): Diagnostic {
  const unresolved = /^Could not resolve/.test(m.text);
  const loc = m.location;
  const file = displayPath(loc ? relative(dir, resolve(dir, loc.file)) : relative(dir, absFile));
  const line = loc?.line ?? 1;
  const column = (loc?.column ?? 0) + 1;
  return {
    severity: 'error',
    code: unresolved ? 'E_TS_IMPORT' : 'E_TS_SYNTAX',
    summary: m.text,
    detail: [
      // esbuild's notes on unresolved imports suggest its own `external` option, which users cannot set.
      ...(unresolved ? [] : m.notes.map((n) => n.text)),
      ...(loc?.suggestion ? [`Suggestion: ${loc.suggestion}`] : []),
      unresolved
        ? 'A manifest may import tsinfra, Node built-in modules, local files and installed packages.'
        : 'The manifest could not be compiled; fix the TypeScript syntax (run `tsc --noEmit` for type errors).',
    ].join('\n'),
    range: { file, start: { line, column }, end: { line, column: column + Math.max(loc?.length ?? 0, 1) } },
  };
}
