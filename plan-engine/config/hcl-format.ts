// Canonical formatting of HCL, as `terraform fmt` does it. Formatting changes only
// whitespace between tokens, never a token itself, so strings, heredocs and comments
// come out byte for byte and the parsed configuration cannot change:
//
// - indentation: two spaces per open bracket level; several brackets opened on one
//   line count as one level, and a line starting with closers is indented like the
//   line that opened them (`}, {` and `] : [` sit at the outer level);
// - one space around an attribute's `=`; the `=` of consecutive single-line
//   attributes (or object items) is aligned, a blank line, a comment line or any other
//   line breaks the group; trailing comments of consecutive lines are aligned too;
// - block headers get single spaces (`resource "a" "b" {`), braces a space inside
//   (`{ a = 1 }`, but `{}`), commas one space after and none before;
// - no trailing whitespace, no leading or doubled blank lines, one final newline.
//
// Line breaks are kept as they are (LF or CRLF): they may be part of a heredoc's value.
import { scanHcl, type TokenKind, type TokenList } from './hcl-scanner.js';

export function formatHcl(source: string): string {
  const { tokens } = scanHcl(source);
  return new Formatter(source, tokens).run();
}

/** A logical line: the tokens up to a line break (a heredoc or block comment may span several physical lines). */
interface Line {
  /** Token indices [first, end); no newline tokens. */
  readonly first: number;
  readonly end: number;
  /** The index of the newline token ending it; -1 at the end of input. */
  readonly lineBreak: number;
  /** Whether a token spans physical lines (such a line takes no part in alignment). */
  readonly multiline: boolean;
  /** The index of the `{` when the line starts with a block header (`TYPE LABEL... {`), else -1. */
  readonly headerBrace: number;
  indent: number;
  /** Alignment padding before the `=` of an aligned attribute. */
  assignGap?: string;
  /** Alignment padding before a trailing comment. */
  commentGap?: string;
}

function isOpener(kind: TokenKind | undefined): boolean {
  return kind === '{' || kind === '[' || kind === '(';
}

function isCloser(kind: TokenKind | undefined): boolean {
  return kind === '}' || kind === ']' || kind === ')';
}

class Formatter {
  private readonly lines: Line[];

  constructor(
    private readonly src: string,
    private readonly toks: TokenList,
  ) {
    this.lines = this.splitLines();
  }

  run(): string {
    this.assignIndents();
    this.alignAssignments();
    this.alignTrailingComments();
    return this.render();
  }

  private splitLines(): Line[] {
    const { src, toks } = this;
    const lines: Line[] = [];
    let first = 0;
    let multiline = false;
    let nextBreak = src.indexOf('\n');
    for (let i = 0; i < toks.length; i++) {
      const start = toks.start(i);
      if (toks.kind(i) === 'newline') {
        lines.push({ first, end: i, lineBreak: i, multiline, headerBrace: this.headerBrace(first, i), indent: 0 });
        first = i + 1;
        multiline = false;
        continue;
      }
      while (nextBreak !== -1 && nextBreak < start) nextBreak = src.indexOf('\n', nextBreak + 1);
      if (nextBreak !== -1 && nextBreak < toks.end(i)) multiline = true;
    }
    if (first < toks.length) lines.push({ first, end: toks.length, lineBreak: -1, multiline, headerBrace: this.headerBrace(first, toks.length), indent: 0 });
    return lines;
  }

  private headerBrace(first: number, end: number): number {
    const toks = this.toks;
    if (toks.kind(first) !== 'ident') return -1;
    let k = first + 1;
    while (k < end && (toks.kind(k) === 'string' || toks.kind(k) === 'ident')) k++;
    return k < end && toks.kind(k) === '{' ? k : -1;
  }

  /**
   * Each open bracket remembers the indent of the line that opened it; lines inside it
   * are one level deeper. Unbalanced input only loses indentation, never fails.
   */
  private assignIndents(): void {
    const toks = this.toks;
    const open: number[] = [];
    for (const line of this.lines) {
      if (line.first === line.end) continue;
      let j = line.first;
      let indent = open.length > 0 ? open[open.length - 1]! + 1 : 0;
      if (isCloser(toks.kind(j))) {
        indent = 0;
        for (; j < line.end && isCloser(toks.kind(j)); j++) {
          const opener = open.pop();
          if (opener !== undefined) indent = opener;
        }
      }
      line.indent = indent;
      for (; j < line.end; j++) {
        const kind = toks.kind(j);
        if (isOpener(kind)) open.push(indent);
        else if (isCloser(kind)) open.pop();
      }
    }
  }

  /**
   * A single-line attribute or object item: `NAME = VALUE` where the value closes every
   * bracket it opens on the same line. Returns the width of the name, or -1.
   */
  private assignmentKeyWidth(line: Line): number {
    const toks = this.toks;
    const key = toks.kind(line.first);
    if (line.multiline || line.end - line.first < 3 || toks.kind(line.first + 1) !== '=') return -1;
    if (key !== 'ident' && key !== 'string') return -1;
    let depth = 0;
    for (let j = line.first + 2; j < line.end; j++) {
      const kind = toks.kind(j);
      if (isOpener(kind)) depth++;
      else if (isCloser(kind) && --depth < 0) return -1;
    }
    if (depth !== 0) return -1;
    return this.width(toks.start(line.first), toks.end(line.first));
  }

  private alignAssignments(): void {
    let group: { line: Line; width: number }[] = [];
    const flush = (): void => {
      const max = Math.max(...group.map((g) => g.width));
      for (const g of group) g.line.assignGap = ' '.repeat(max - g.width + 1);
      group = [];
    };
    for (const line of this.lines) {
      const width = this.assignmentKeyWidth(line);
      if (width === -1 || (group.length > 0 && group[0]!.line.indent !== line.indent)) {
        if (group.length > 0) flush();
        if (width === -1) continue;
      }
      group.push({ line, width });
    }
    if (group.length > 0) flush();
  }

  /** Aligns the comments ending consecutive lines of code, one space after the longest. */
  private alignTrailingComments(): void {
    let group: { line: Line; width: number }[] = [];
    const flush = (): void => {
      const max = Math.max(...group.map((g) => g.width));
      for (const g of group) g.line.commentGap = ' '.repeat(max - g.width + 1);
      group = [];
    };
    for (const line of this.lines) {
      if (line.multiline || line.end - line.first < 2 || this.toks.kind(line.end - 1) !== 'comment') {
        if (group.length > 0) flush();
        continue;
      }
      group.push({ line, width: this.codeWidth(line) });
    }
    if (group.length > 0) flush();
  }

  /** The formatted width of a single-line line without its trailing comment. */
  private codeWidth(line: Line): number {
    const toks = this.toks;
    let w = 2 * line.indent;
    for (let j = line.first; j < line.end - 1; j++) {
      if (j > line.first) {
        const gap = this.gapBefore(line, j);
        w += gap === undefined ? this.width(toks.end(j - 1), toks.start(j)) : gap.length;
      }
      w += this.width(toks.start(j), toks.end(j));
    }
    return w;
  }

  /** The whitespace to write before token `j` of `line` (j > line.first); undefined keeps what is there. */
  private gapBefore(line: Line, j: number): string | undefined {
    const toks = this.toks;
    const kind = toks.kind(j);
    const prev = toks.kind(j - 1);
    if (j === line.first + 1 && kind === '=' && line.assignGap !== undefined) return line.assignGap;
    if (j === line.end - 1 && kind === 'comment' && line.commentGap !== undefined) return line.commentGap;
    if (kind === '=' || prev === '=' || this.isComma(j - 1)) return ' ';
    if (this.isComma(j)) return '';
    if (prev === '{') return kind === '}' ? '' : ' ';
    if (kind === '}') return ' ';
    if (j <= line.headerBrace) return ' ';
    if (kind === 'comment' && toks.end(j - 1) === toks.start(j)) return ' ';
    return undefined;
  }

  private isComma(j: number): boolean {
    return this.toks.kind(j) === 'operator' && this.src.charCodeAt(this.toks.start(j)) === 44;
  }

  private render(): string {
    const { src, toks } = this;
    const out = new SpliceWriter(src);
    if (src.startsWith('\uFEFF')) out.write('\uFEFF');
    let defaultBreak = '\n';
    for (let i = 0; i < toks.length; i++) {
      if (toks.kind(i) === 'newline') {
        defaultBreak = src.slice(toks.start(i), toks.end(i));
        break;
      }
    }
    let blankBreak = -1;
    let wroteCode = false;
    for (const line of this.lines) {
      if (line.first === line.end) {
        // At most one blank line, and none before the first line of code.
        if (wroteCode && blankBreak === -1) blankBreak = line.lineBreak;
        continue;
      }
      if (blankBreak !== -1) out.copy(toks.start(blankBreak), toks.end(blankBreak));
      blankBreak = -1;
      wroteCode = true;
      this.renderLine(line, out);
      if (line.lineBreak !== -1) out.copy(toks.start(line.lineBreak), toks.end(line.lineBreak));
      // (A heredoc or comment left open at the end has taken the final line break in already.)
      else if (src.charCodeAt(toks.end(line.end - 1) - 1) !== 10) out.write(defaultBreak);
    }
    return out.result();
  }

  private renderLine(line: Line, out: SpliceWriter): void {
    const { src, toks } = this;
    const indent = '  '.repeat(line.indent);
    const firstStart = toks.start(line.first);
    const lineStart = line.first > 0 && toks.kind(line.first - 1) === 'newline' ? toks.end(line.first - 1) : firstStart;
    if (firstStart - lineStart === indent.length && src.startsWith(indent, lineStart)) out.copy(lineStart, firstStart);
    else out.write(indent);
    for (let j = line.first; j < line.end; j++) {
      if (j > line.first) {
        const gap = this.gapBefore(line, j);
        const from = toks.end(j - 1);
        const to = toks.start(j);
        if (gap === undefined || (to - from === gap.length && src.startsWith(gap, from))) out.copy(from, to);
        else out.write(gap);
      }
      out.copy(toks.start(j), toks.end(j));
    }
  }

  /** Width in characters (code points) of a source range, as columns are counted. */
  private width(from: number, to: number): number {
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = this.src.charCodeAt(i);
      if (c < 0xdc00 || c > 0xdfff) n++;
    }
    return n;
  }
}

/**
 * Builds the output from ranges of the source and inserted strings, merging adjacent
 * ranges: a file that is already formatted is copied in a few large slices instead of
 * one small string per token.
 */
class SpliceWriter {
  private readonly parts: string[] = [];
  private spanStart = 0;
  private spanEnd = 0;

  constructor(private readonly src: string) {}

  copy(from: number, to: number): void {
    if (from === this.spanEnd && this.spanEnd > this.spanStart) {
      this.spanEnd = to;
      return;
    }
    this.flush();
    this.spanStart = from;
    this.spanEnd = to;
  }

  write(text: string): void {
    if (text === '') return;
    this.flush();
    this.parts.push(text);
  }

  result(): string {
    this.flush();
    return this.parts.join('');
  }

  private flush(): void {
    if (this.spanEnd > this.spanStart) this.parts.push(this.src.slice(this.spanStart, this.spanEnd));
    this.spanStart = this.spanEnd = 0;
  }
}
