// A one-pass tokenizer for HCL native syntax. It exists because `@cdktf/hcl2json`
// reports values but no positions: the locator (structure and source ranges) and the
// formatter both work on these tokens.
//
// Quoted strings and heredocs come out as single tokens covering their whole text,
// interpolations included, so that nothing inside a template (braces, `=`, quotes,
// `#`) is ever mistaken for structure. Templates nest (`"${ "a${b}" }"`, a heredoc
// inside an interpolation), which is tracked with an explicit stack of modes rather
// than recursion, so hostile nesting cannot overflow the call stack:
//
//   code --"--> string --${ or %{--> interp (code with a brace depth) --}--> string --"--> code
//   code --<<EOT\n--> heredoc --${--> interp --}--> heredoc --EOT line--> code
//
// Input is assumed to be mostly valid (hcl2json reports syntax errors); on invalid input
// the scanner records a problem and carries on, always advancing.

export type TokenKind =
  | 'ident'
  | 'number'
  | 'string'
  | 'heredoc'
  | 'comment'
  | 'newline'
  | '{'
  | '}'
  | '['
  | ']'
  | '('
  | ')'
  /** A lone `=` (attribute or object item); `==`, `=>`, `<=`... are operators. */
  | '='
  | 'operator'
  | 'invalid';

const KINDS: readonly TokenKind[] = ['ident', 'number', 'string', 'heredoc', 'comment', 'newline', '{', '}', '[', ']', '(', ')', '=', 'operator', 'invalid'];
const KIND_CODE = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<TokenKind, number>;

/**
 * The tokens of a file, each a half-open range of UTF-16 offsets into the source.
 * Stored as parallel typed arrays: a big file has hundreds of thousands of tokens, and
 * as objects they cost more in garbage collection than the scanning itself.
 */
export class TokenList {
  private kinds = new Uint8Array(1024);
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** The kind of token `i`, or undefined past either end (so look-ahead needs no bounds checks). */
  kind(i: number): TokenKind | undefined {
    return i >= 0 && i < this.count ? KINDS[this.kinds[i]!] : undefined;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  end(i: number): number {
    return this.ends[i]!;
  }

  /** Appends a token (the scanner's job); `code` is the kind's index in KINDS. */
  push(code: number, start: number, end: number): void {
    if (this.count === this.kinds.length) this.grow();
    this.kinds[this.count] = code;
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  private grow(): void {
    const size = this.kinds.length * 2;
    const kinds = new Uint8Array(size);
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    kinds.set(this.kinds);
    starts.set(this.starts);
    ends.set(this.ends);
    this.kinds = kinds;
    this.starts = starts;
    this.ends = ends;
  }
}

/** Something the scanner could not make sense of, as offsets into the source. */
export interface ScanProblem {
  readonly start: number;
  readonly end: number;
  readonly summary: string;
  readonly detail: string;
}

export interface ScanResult {
  readonly tokens: TokenList;
  readonly problems: ScanProblem[];
}

type Frame =
  | { readonly kind: 'string'; readonly start: number }
  | { readonly kind: 'heredoc'; readonly start: number; readonly marker: string; atLineStart: boolean }
  | { readonly kind: 'interp'; depth: number };

const CH = {
  tab: 9,
  lf: 10,
  vt: 11,
  ff: 12,
  cr: 13,
  space: 32,
  bang: 33,
  quote: 34,
  hash: 35,
  dollar: 36,
  percent: 37,
  amp: 38,
  lparen: 40,
  rparen: 41,
  star: 42,
  plus: 43,
  comma: 44,
  minus: 45,
  dot: 46,
  slash: 47,
  zero: 48,
  nine: 57,
  colon: 58,
  lt: 60,
  eq: 61,
  gt: 62,
  question: 63,
  lbrack: 91,
  backslash: 92,
  rbrack: 93,
  lbrace: 123,
  pipe: 124,
  rbrace: 125,
  tilde: 126,
  bom: 0xfeff,
} as const;

const HEREDOC_OPENER = /<<-?([\p{ID_Start}_][\p{ID_Continue}-]*)\r?\n/uy;
const ID_START = /[\p{ID_Start}_]/u;
const ID_CONTINUE = /[\p{ID_Continue}-]/u;

export interface ScanOptions {
  /** Whether to emit comment tokens (the formatter needs them, the locator does not). Default true. */
  readonly comments?: boolean;
}

export function scanHcl(src: string, options: ScanOptions = {}): ScanResult {
  return new Scanner(src, options.comments ?? true).run();
}

class Scanner {
  private pos = 0;
  private readonly stack: Frame[] = [];
  /** Start and kind of the outermost string or heredoc while inside one. */
  private outerStart = 0;
  private outerKind: 'string' | 'heredoc' = 'string';
  private readonly tokens = new TokenList();
  private readonly problems: ScanProblem[] = [];

  constructor(
    private readonly src: string,
    private readonly keepComments: boolean,
  ) {}

  run(): ScanResult {
    const n = this.src.length;
    while (this.pos < n) {
      // (Reading stack[-1] of an empty array would fall off V8's fast path.)
      const top = this.stack.length > 0 ? this.stack[this.stack.length - 1] : undefined;
      if (top === undefined || top.kind === 'interp') this.scanCode(top);
      else if (top.kind === 'string') this.scanStringPart(top.start);
      else this.scanHeredocPart(top);
    }
    this.closeAtEof();
    return { tokens: this.tokens, problems: this.problems };
  }

  private emit(kind: TokenKind, start: number, end: number): void {
    if (this.stack.length === 0) this.tokens.push(KIND_CODE[kind], start, end);
  }

  private problem(start: number, end: number, summary: string, detail: string): void {
    this.problems.push({ start, end, summary, detail });
  }

  /** Enters a string or heredoc; at the top level this starts an atomic token. */
  private enter(frame: Frame & { kind: 'string' | 'heredoc' }): void {
    if (this.stack.length === 0) {
      this.outerStart = frame.start;
      this.outerKind = frame.kind;
    }
    this.stack.push(frame);
  }

  /** Leaves the innermost string or heredoc; back at the top level, emits its token. */
  private leave(): void {
    this.stack.pop();
    if (this.stack.length === 0) this.tokens.push(KIND_CODE[this.outerKind], this.outerStart, this.pos);
  }

  /** Scans one code token (or a run of whitespace), emitting it at the top level. */
  private scanCode(interp: (Frame & { kind: 'interp' }) | undefined): void {
    const src = this.src;
    const start = this.pos;
    const c = src.charCodeAt(start);
    const next = src.charCodeAt(start + 1);
    switch (c) {
      case CH.space:
      case CH.tab:
      case CH.vt:
      case CH.ff:
      case CH.bom: {
        let p = start + 1;
        while (isInlineSpace(src.charCodeAt(p))) p++;
        this.pos = p;
        return;
      }
      case CH.cr:
        if (next === CH.lf) {
          this.pos += 2;
          this.emit('newline', start, this.pos);
        } else this.pos++;
        return;
      case CH.lf:
        this.pos++;
        this.emit('newline', start, this.pos);
        return;
      case CH.hash:
        return this.lineComment();
      case CH.slash:
        if (next === CH.slash) return this.lineComment();
        if (next === CH.star) return this.blockComment();
        return this.token('operator', 1);
      case CH.quote:
        this.pos++;
        this.enter({ kind: 'string', start });
        return;
      case CH.lbrace:
        if (interp) interp.depth++;
        return this.token('{', 1);
      case CH.rbrace:
        if (interp) {
          this.pos++;
          if (interp.depth === 0) this.stack.pop();
          else interp.depth--;
          return;
        }
        return this.token('}', 1);
      case CH.lbrack:
        return this.token('[', 1);
      case CH.rbrack:
        return this.token(']', 1);
      case CH.lparen:
        return this.token('(', 1);
      case CH.rparen:
        return this.token(')', 1);
      case CH.eq:
        // `==` and `=>` are operators; a lone `=` assigns.
        return next === CH.eq || next === CH.gt ? this.token('operator', 2) : this.token('=', 1);
      case CH.lt:
        if (next === CH.lt && this.heredocOpener()) return;
        return this.token('operator', next === CH.eq ? 2 : 1);
      case CH.gt:
      case CH.bang:
        return this.token('operator', next === CH.eq ? 2 : 1);
      case CH.amp:
      case CH.pipe:
        if (next === c) return this.token('operator', 2);
        break;
      case CH.dot:
        return this.token('operator', next === CH.dot && src.charCodeAt(start + 2) === CH.dot ? 3 : 1);
      case CH.comma:
      case CH.colon:
      case CH.question:
      case CH.plus:
      case CH.minus:
      case CH.star:
      case CH.percent:
      case CH.tilde:
        return this.token('operator', 1);
    }
    if (c >= CH.zero && c <= CH.nine) return this.number();
    if (this.identStartAt(start)) return this.ident();
    const ch = String.fromCodePoint(src.codePointAt(start)!);
    this.pos += ch.length;
    this.emit('invalid', start, this.pos);
    this.problem(start, this.pos, `Invalid character ${JSON.stringify(ch)}`, 'This character is not valid in HCL outside strings and comments.');
  }

  /** Emits a token of `length` characters at the current position. */
  private token(kind: TokenKind, length: number): void {
    const start = this.pos;
    this.pos += length;
    this.emit(kind, start, this.pos);
  }

  /** `#` or `//` up to the line break; trailing blanks are left out of the token (they are whitespace). */
  private lineComment(): void {
    const src = this.src;
    const start = this.pos;
    let end = src.indexOf('\n', start);
    if (end === -1) end = src.length;
    else if (end > start && src.charCodeAt(end - 1) === CH.cr) end--;
    this.pos = end;
    while (end > start && isBlank(src.charCodeAt(end - 1))) end--;
    if (this.keepComments) this.emit('comment', start, end);
  }

  private blockComment(): void {
    const start = this.pos;
    const close = this.src.indexOf('*/', start + 2);
    if (close === -1) {
      this.pos = this.src.length;
      this.problem(start, this.pos, 'Unterminated comment', 'A /* comment has no closing */.');
    } else this.pos = close + 2;
    if (this.keepComments) this.emit('comment', start, this.pos);
  }

  private number(): void {
    const src = this.src;
    const start = this.pos;
    let p = this.digits(start);
    if (src.charCodeAt(p) === CH.dot && isDigit(src.charCodeAt(p + 1))) p = this.digits(p + 1);
    const e = src.charCodeAt(p);
    if (e === 101 || e === 69) {
      let q = p + 1;
      const sign = src.charCodeAt(q);
      if (sign === 43 || sign === 45) q++;
      if (isDigit(src.charCodeAt(q))) p = this.digits(q);
    }
    this.pos = p;
    this.emit('number', start, p);
  }

  private digits(p: number): number {
    while (isDigit(this.src.charCodeAt(p))) p++;
    return p;
  }

  private identStartAt(p: number): boolean {
    const c = this.src.charCodeAt(p);
    if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
    return ID_START.test(String.fromCodePoint(this.src.codePointAt(p)!));
  }

  private ident(): void {
    const src = this.src;
    const start = this.pos;
    let p = start;
    for (;;) {
      const c = src.charCodeAt(p);
      if (c < 128) {
        if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45) {
          p++;
          continue;
        }
        break;
      }
      if (Number.isNaN(c)) break;
      const ch = String.fromCodePoint(src.codePointAt(p)!);
      if (!ID_CONTINUE.test(ch)) break;
      p += ch.length;
    }
    this.pos = p;
    this.emit('ident', start, p);
  }

  /** `<<EOT` or `<<-EOT` followed by a line break opens a heredoc; anything else is `<` `<`. */
  private heredocOpener(): boolean {
    HEREDOC_OPENER.lastIndex = this.pos;
    const m = HEREDOC_OPENER.exec(this.src);
    if (!m) return false;
    const start = this.pos;
    this.pos += m[0].length;
    this.enter({ kind: 'heredoc', start, marker: m[1]!, atLineStart: true });
    return true;
  }

  /** Literal text of a quoted string, up to its end or the next interpolation. */
  private scanStringPart(stringStart: number): void {
    const src = this.src;
    const n = src.length;
    let p = this.pos;
    while (p < n) {
      const c = src.charCodeAt(p);
      if (c > CH.backslash || (c !== CH.quote && c !== CH.backslash && c !== CH.lf && c !== CH.cr && c !== CH.dollar && c !== CH.percent)) {
        p++;
        continue;
      }
      if (c === CH.quote) {
        this.pos = p + 1;
        this.leave();
        return;
      }
      if (c === CH.backslash) {
        const next = src.charCodeAt(p + 1);
        // A backslash before a line break escapes nothing: the break ends the string below.
        p += next === CH.lf || next === CH.cr ? 1 : 2;
        continue;
      }
      if (c === CH.lf || (c === CH.cr && src.charCodeAt(p + 1) === CH.lf)) {
        // Quoted strings cannot span lines; stop here so one missing quote does not swallow the file.
        this.pos = p;
        this.problem(stringStart, p, 'Unterminated string', 'A quoted string must be closed on the line where it starts; use a heredoc for multi-line text.');
        this.leave();
        return;
      }
      this.pos = p;
      if (this.templateStart(c)) return;
      p++;
    }
    this.pos = p;
  }

  /** One step through a heredoc: its closing marker, or literal text up to the next line or interpolation. */
  private scanHeredocPart(frame: Frame & { kind: 'heredoc' }): void {
    const src = this.src;
    const n = src.length;
    if (frame.atLineStart) {
      frame.atLineStart = false;
      const end = this.closingMarkerEnd(frame.marker);
      if (end !== -1) {
        this.pos = end;
        this.leave();
        return;
      }
    }
    let p = this.pos;
    while (p < n) {
      const c = src.charCodeAt(p);
      if (c === CH.lf) {
        this.pos = p + 1;
        frame.atLineStart = true;
        return;
      }
      if (c === CH.dollar || c === CH.percent) {
        this.pos = p;
        if (this.templateStart(c)) return;
      }
      p++;
    }
    this.pos = p;
  }

  /** The end offset of the marker when the line at `pos` closes the heredoc, else -1. */
  private closingMarkerEnd(marker: string): number {
    const src = this.src;
    let p = this.pos;
    while (src.charCodeAt(p) === CH.space || src.charCodeAt(p) === CH.tab) p++;
    if (!src.startsWith(marker, p)) return -1;
    const end = p + marker.length;
    let q = end;
    while (src.charCodeAt(q) === CH.space || src.charCodeAt(q) === CH.tab || src.charCodeAt(q) === CH.cr) q++;
    return q >= src.length || src.charCodeAt(q) === CH.lf ? end : -1;
  }

  /** Handles `${`, `%{` (entering an interpolation) and their escapes `$${`, `%%{`. */
  private templateStart(c: number): boolean {
    if (c !== CH.dollar && c !== CH.percent) return false;
    const src = this.src;
    const next = src.charCodeAt(this.pos + 1);
    if (next === CH.lbrace) {
      this.pos += 2;
      this.stack.push({ kind: 'interp', depth: 0 });
      return true;
    }
    if (next === c && src.charCodeAt(this.pos + 2) === CH.lbrace) {
      this.pos += 3;
      return true;
    }
    return false;
  }

  /** Reports what is still open at the end of the input and emits the outer token. */
  private closeAtEof(): void {
    if (this.stack.length === 0) return;
    const start = this.outerStart;
    const what = this.outerKind === 'heredoc' ? 'heredoc' : 'string';
    const innermost = this.stack[this.stack.length - 1]!;
    const detail =
      innermost.kind === 'interp'
        ? 'A ${ or %{ sequence has no closing }.'
        : innermost.kind === 'heredoc'
          ? `No line holding only the closing marker ${innermost.marker} was found.`
          : 'No closing quote was found.';
    this.problem(start, this.src.length, `Unterminated ${what}`, detail);
    this.stack.length = 1;
    this.pos = this.src.length;
    this.leave();
  }
}

/** Whitespace other than line breaks (a lone CR counts as space). */
function isInlineSpace(c: number): boolean {
  return c === CH.space || c === CH.tab || c === CH.vt || c === CH.ff || c === CH.bom;
}

function isBlank(c: number): boolean {
  return c === CH.space || c === CH.tab || c === CH.cr || c === CH.vt || c === CH.ff;
}

function isDigit(c: number): boolean {
  return c >= CH.zero && c <= CH.nine;
}
