// Maps positions in the compiled manifest back to the `.infra.ts` source. The API
// records the call stack at every declaration and errors carry one too; the first
// frame in the manifest's script is the line the user wrote, which the source map
// turns into a file, line and column of the original TypeScript.
import { SourceMap } from 'node:module';
import type { SourceRange } from '../diagnostics.js';
import type { RawSourceMap } from './typescript-compile.js';

export class ManifestPositions {
  readonly #map: SourceMap;
  readonly #frame: RegExp;
  readonly #lines = new Map<string, string[]>();
  readonly #first = new Map<string, SourceRange | undefined>();

  constructor(
    /** The file name the compiled script runs under (what stack frames show). */
    scriptName: string,
    private readonly raw: RawSourceMap,
    /** A source-map path (relative to the manifest's directory) as diagnostics show it. */
    private readonly displayPath: (relativePath: string) => string,
  ) {
    this.#map = new SourceMap(raw as unknown as ConstructorParameters<typeof SourceMap>[0]);
    this.#frame = new RegExp(`${escapeRegExp(scriptName)}:(\\d+):(\\d+)`, 'g');
  }

  /** The source range of the innermost frame of the manifest's script in a stack, if any. */
  firstRange(stack: string): SourceRange | undefined {
    // Declarations made in a loop share their call site: map each site once.
    if (this.#first.has(stack)) return this.#first.get(stack);
    let found: SourceRange | undefined;
    for (const r of this.ranges(stack)) {
      found = r;
      break;
    }
    this.#first.set(stack, found);
    return found;
  }

  /** Source ranges of the manifest's frames in a stack, innermost first. */
  *ranges(stack: string): Generator<SourceRange> {
    for (const m of stack.matchAll(this.#frame)) {
      const r = this.#rangeAt(Number(m[1]), Number(m[2]));
      if (r) yield r;
    }
  }

  /** The range from a generated 1-based position to the end of its original source line. */
  #rangeAt(line: number, column: number): SourceRange | undefined {
    const e = this.#map.findEntry(line - 1, column - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
      generatedLine: number;
    }>;
    // findEntry falls back to the closest earlier mapping, which may lie on another line.
    if (e.originalSource === undefined || e.originalLine === undefined || e.generatedLine !== line - 1) return undefined;
    const startLine = e.originalLine + 1;
    const startColumn = (e.originalColumn ?? 0) + 1;
    const text = this.#sourceLines(e.originalSource)[e.originalLine] ?? '';
    return {
      file: this.displayPath(e.originalSource),
      start: { line: startLine, column: startColumn },
      end: { line: startLine, column: Math.max(startColumn, text.trimEnd().length + 1) },
    };
  }

  #sourceLines(source: string): string[] {
    let lines = this.#lines.get(source);
    if (!lines) {
      const i = this.raw.sources.indexOf(source);
      lines = (this.raw.sourcesContent?.[i] ?? '').split(/\r?\n/);
      this.#lines.set(source, lines);
    }
    return lines;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
