// Recovers the structure of an HCL file with source ranges: which names are blocks and
// which are attributes, and where each one is. `@cdktf/hcl2json` gives the values but
// no positions, and cannot tell a nested block `lifecycle { }` from an attribute
// `env = { }`; the decoder walks this structure and hcl2json's JSON side by side.
//
// One pass over the scanner's tokens, with an explicit stack of open bodies. Syntax
// errors are hcl2json's to report: on invalid input this returns what it found plus a
// diagnostic, and always terminates.
import type { Diagnostic, SourceRange } from '../diagnostics.js';
import { scanHcl, type TokenKind, type TokenList } from './hcl-scanner.js';
import { SourcePositions } from './hcl-source.js';

export interface LocatedAttribute {
  readonly name: string;
  /** From the start of the name to the end of the value. */
  readonly range: SourceRange;
  readonly nameRange: SourceRange;
  readonly valueRange: SourceRange;
  /** The raw source text of the value expression (comments inside it included). */
  readonly valueText: string;
}

export interface LocatedBlock {
  readonly type: string;
  /** Label values: quoted labels unquoted, bare identifiers as written. */
  readonly labels: readonly string[];
  /** The header: from the type through the opening brace. */
  readonly range: SourceRange;
  readonly body: LocatedBody;
}

export interface LocatedBody {
  /** In source order; a repeated name appears once per definition. */
  readonly attributes: readonly LocatedAttribute[];
  readonly blocks: readonly LocatedBlock[];
  /** Braces inclusive; the whole file for the top level. */
  readonly range: SourceRange;
}

export interface LocateResult {
  readonly body: LocatedBody;
  readonly diagnostics: Diagnostic[];
}

/** Ranges are end-exclusive, as in HCL: `end` is the position just after the last character. */
export function locateHcl(file: string, source: string): LocateResult {
  return new Locator(file, source).run();
}

interface OpenBody {
  readonly attributes: LocatedAttribute[];
  readonly blocks: LocatedBlock[];
  /** Offset of `{`, or 0 for the file. */
  readonly start: number;
  /** The header of the block this body belongs to; undefined for the file. */
  readonly header?: { readonly type: string; readonly labels: string[]; readonly range: SourceRange };
}

class Locator {
  private readonly positions: SourcePositions;
  private readonly tokens: TokenList;
  private readonly diagnostics: Diagnostic[] = [];

  constructor(
    private readonly file: string,
    private readonly source: string,
  ) {
    this.positions = new SourcePositions(source);
    // Comments never matter to structure; line comments leave their newline token behind.
    const scanned = scanHcl(source, { comments: false });
    this.tokens = scanned.tokens;
    for (const p of scanned.problems) this.error(p.start, p.end, p.summary, p.detail);
  }

  run(): LocateResult {
    const toks = this.tokens;
    const stack: OpenBody[] = [{ attributes: [], blocks: [], start: 0 }];
    let i = 0;
    while (i < toks.length) {
      const kind = toks.kind(i);
      const body = stack[stack.length - 1]!;
      if (kind === 'newline') {
        i++;
      } else if (kind === '}') {
        if (stack.length > 1) this.close(stack, toks.end(i));
        else this.error(toks.start(i), toks.end(i), 'Unexpected "}"', 'This closing brace has no matching block.');
        i++;
      } else if (kind === 'ident' && toks.kind(i + 1) === '=') {
        i = this.attribute(i, body);
      } else if (kind === 'ident') {
        let k = i + 1;
        while (toks.kind(k) === 'string' || toks.kind(k) === 'ident') k++;
        if (toks.kind(k) === '{') {
          const labels: string[] = [];
          for (let l = i + 1; l < k; l++) labels.push(this.label(l));
          const header = { type: this.text(i), labels, range: this.positions.range(this.file, toks.start(i), toks.end(k)) };
          stack.push({ attributes: [], blocks: [], start: toks.start(k), header });
          i = k + 1;
        } else {
          const end = k < toks.length ? toks.end(k) : toks.end(i);
          this.error(
            toks.start(i),
            end,
            `Expected "=" or a block after "${this.text(i)}"`,
            'An attribute is written NAME = VALUE, a block TYPE "LABEL" { ... }.',
          );
          const stop = toks.kind(k);
          i = stop === '}' || stop === 'newline' ? k : this.skipItem(k);
        }
      } else {
        this.error(
          toks.start(i),
          toks.end(i),
          'Expected an attribute or a block',
          'Each line of a body holds an attribute (NAME = VALUE) or a block (TYPE "LABEL" { ... }).',
        );
        i = this.skipItem(i);
      }
    }
    while (stack.length > 1) {
      const open = stack[stack.length - 1]!;
      this.error(open.start, open.start + 1, `Unclosed block "${open.header!.type}"`, 'This opening brace has no matching "}".');
      this.close(stack, this.source.length);
    }
    const top = stack[0]!;
    return {
      body: { attributes: top.attributes, blocks: top.blocks, range: this.positions.range(this.file, 0, this.source.length) },
      diagnostics: this.diagnostics,
    };
  }

  /** Pops the innermost body, ending at `end`, into its parent. */
  private close(stack: OpenBody[], end: number): void {
    const open = stack.pop()!;
    const header = open.header!;
    stack[stack.length - 1]!.blocks.push({
      type: header.type,
      labels: header.labels,
      range: header.range,
      body: { attributes: open.attributes, blocks: open.blocks, range: this.positions.range(this.file, open.start, end) },
    });
  }

  /**
   * Reads `NAME = VALUE` starting at the name's token index; returns the index after the
   * value. The value runs to a line break outside brackets, or to the `}` closing a
   * one-line block, or (`moved { from = a  to = b }`) to the next `NAME =` that follows
   * a complete operand on the same line.
   */
  private attribute(i: number, body: OpenBody): number {
    const toks = this.tokens;
    let depth = 0;
    let last = -1;
    let k = i + 2;
    for (; k < toks.length; k++) {
      const kind = toks.kind(k)!;
      if (depth === 0) {
        if (kind === 'newline' || kind === '}') break;
        if (kind === 'ident' && toks.kind(k + 1) === '=' && last !== -1 && endsOperand(toks.kind(last)!)) break;
      }
      if (kind === '{' || kind === '[' || kind === '(') depth++;
      else if (kind === '}' || kind === ']' || kind === ')') depth = Math.max(0, depth - 1);
      if (kind !== 'newline') last = k;
    }
    const nameStart = toks.start(i);
    const assignEnd = toks.end(i + 1);
    const valueStart = last === -1 ? assignEnd : toks.start(i + 2);
    const valueEnd = last === -1 ? assignEnd : toks.end(last);
    if (last === -1) this.error(nameStart, assignEnd, `Missing value for "${this.text(i)}"`, 'An attribute needs a value on the same line as its "=".');
    const pos = this.positions;
    const [start, nameEnd, end] = [pos.position(nameStart), pos.position(toks.end(i)), pos.position(valueEnd)];
    const file = this.file;
    body.attributes.push({
      name: this.text(i),
      range: { file, start, end },
      nameRange: { file, start, end: nameEnd },
      valueRange: { file, start: valueStart === valueEnd ? end : pos.position(valueStart), end },
      valueText: this.source.slice(valueStart, valueEnd),
    });
    return k;
  }

  /** Skips the rest of an item that could not be read: to the next line break outside brackets, or a closing `}`. */
  private skipItem(i: number): number {
    const toks = this.tokens;
    let depth = 0;
    let k = i;
    for (; k < toks.length; k++) {
      const kind = toks.kind(k);
      if (depth === 0 && (kind === 'newline' || (kind === '}' && k > i))) break;
      if (kind === '{' || kind === '[' || kind === '(') depth++;
      else if (kind === '}' || kind === ']' || kind === ')') depth = Math.max(0, depth - 1);
    }
    return Math.max(k, i + 1);
  }

  private text(i: number): string {
    return this.source.slice(this.tokens.start(i), this.tokens.end(i));
  }

  /** A label's value: a quoted label unescaped, a bare identifier as written. */
  private label(i: number): string {
    const raw = this.text(i);
    if (this.tokens.kind(i) !== 'string') return raw;
    if (raw.includes('${') || raw.includes('%{')) {
      this.error(this.tokens.start(i), this.tokens.end(i), 'Templates are not allowed in block labels', 'A block label is a literal string such as "web".');
    }
    return unescapeQuoted(raw);
  }

  private error(start: number, end: number, summary: string, detail: string): void {
    this.diagnostics.push({ severity: 'error', code: 'E_SYNTAX', summary, detail, range: this.positions.range(this.file, start, end) });
  }
}

/** Tokens after which an expression can be complete. */
function endsOperand(kind: TokenKind): boolean {
  switch (kind) {
    case 'ident':
    case 'number':
    case 'string':
    case 'heredoc':
    case ')':
    case ']':
    case '}':
      return true;
    default:
      return false;
  }
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** The value of a quoted literal (`"a\"b"` -> `a"b`), for labels. */
function unescapeQuoted(raw: string): string {
  const inner = raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw.slice(1);
  if (!inner.includes('\\')) return inner;
  return inner.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (whole, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ESCAPES[e] ?? whole;
  });
}
