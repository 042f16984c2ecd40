// Source text services shared by the locator and the CLI: turning offsets into the
// 1-based line/column positions diagnostics carry (columns count characters, so an
// emoji is one column), and rendering a range as a small plain-text excerpt:
//
//   3 | resource "container" "web" {
//   4 |   image = 42
//     |           ^^
//   5 | }
import type { SourcePos, SourceRange } from '../diagnostics.js';

/** Maps UTF-16 offsets of one source text to 1-based line/column positions. */
export class SourcePositions {
  /** Offset of the first character of each line. */
  private readonly lineStarts: number[] = [0];
  /** Only text with characters outside the BMP needs columns counted one by one. */
  private readonly hasSurrogates: boolean;
  private lastOffset = 0;
  private lastLine = 0;
  private lastColumn = 1;

  constructor(private readonly source: string) {
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
    this.hasSurrogates = /[\uD800-\uDBFF]/.test(source);
  }

  position(offset: number): SourcePos {
    const off = Math.max(0, Math.min(offset, this.source.length));
    const line = this.lineIndex(off);
    const lineStart = this.lineStarts[line]!;
    if (!this.hasSurrogates) return { line: line + 1, column: off - lineStart + 1 };
    // Positions are mostly asked for in increasing order: count on from the last answer.
    let from = lineStart;
    let column = 1;
    if (line === this.lastLine && off >= this.lastOffset) {
      from = this.lastOffset;
      column = this.lastColumn;
    }
    for (let i = from; i < off; i++) {
      const c = this.source.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) column++;
    }
    this.lastOffset = off;
    this.lastLine = line;
    this.lastColumn = column;
    return { line: line + 1, column };
  }

  range(file: string, start: number, end: number): SourceRange {
    return { file, start: this.position(start), end: this.position(end) };
  }

  private lineIndex(offset: number): number {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Most lines of a long range shown before the middle is elided. */
const MAX_RANGE_LINES = 6;

/**
 * Renders the lines of `range` (plus `context` lines around it) with line numbers and
 * a `^^^` underline of the range. The end position is exclusive, as in HCL: a range
 * ending at column 1 of a line does not include that line. Out-of-bounds ranges are
 * clamped; this never throws.
 */
export function snippet(source: string, range: SourceRange, context = 1): string {
  const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // The empty "line" after a final line break is not one.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const last = lines.length;
  const startLine = clamp(range.start.line, 1, last);
  let endLine = range.end.line;
  let endColumn = range.end.column;
  if (endLine > last) {
    endLine = last;
    endColumn = characterCount(lines[last - 1]!) + 1;
  } else if (endLine > startLine && endColumn <= 1) {
    endLine--;
    endColumn = characterCount(lines[endLine - 1]!) + 1;
  }
  endLine = clamp(endLine, startLine, last);
  const ctx = Math.max(0, context);
  const first = Math.max(1, startLine - ctx);
  const final = Math.min(last, endLine + ctx);
  const width = String(final).length;
  const out: string[] = [];
  const gutter = (n: number | undefined): string => (n === undefined ? ' '.repeat(width) : String(n).padStart(width)) + ' |';
  const show = (n: number, underline: [number, number] | undefined): void => {
    const text = lines[n - 1]!;
    out.push(text.length ? `${gutter(n)} ${text}` : gutter(n));
    if (underline) out.push(`${gutter(undefined)} ${underlineOf(text, underline[0], underline[1])}`);
  };
  for (let n = first; n < startLine; n++) show(n, undefined);
  for (let n = startLine; n <= endLine; n++) {
    if (endLine - startLine + 1 > MAX_RANGE_LINES && n === startLine + MAX_RANGE_LINES - 2) {
      out.push(`${gutter(undefined)} ...`);
      n = endLine - 1;
      continue;
    }
    const text = lines[n - 1]!;
    const middle = n !== startLine && n !== endLine;
    const from = n === startLine ? range.start.column : firstNonBlankColumn(text);
    const to = n === endLine ? endColumn : characterCount(text) + 1;
    show(n, middle && text.trim() === '' ? undefined : [from, to]);
  }
  for (let n = endLine + 1; n <= final; n++) show(n, undefined);
  return out.join('\n');
}

/** Carets under columns [from, to) of `text`, at least one; tabs are copied so the carets line up. */
function underlineOf(text: string, from: number, to: number): string {
  const chars = Array.from(text);
  const start = clamp(from, 1, chars.length + 1);
  const width = Math.max(1, Math.min(to, chars.length + 1) - start);
  const pad = chars
    .slice(0, start - 1)
    .map((c) => (c === '\t' ? '\t' : ' '))
    .join('');
  return pad + '^'.repeat(width);
}

function firstNonBlankColumn(text: string): number {
  const chars = Array.from(text);
  const i = chars.findIndex((c) => c !== ' ' && c !== '\t');
  return i === -1 ? 1 : i + 1;
}

function characterCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
