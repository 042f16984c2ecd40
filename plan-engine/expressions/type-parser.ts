// A small recursive-descent parser for type constraint expressions:
//   string | number | bool | any | list(T) | set(T) | map(T) | tuple([T, ...])
//   | object({ name = T, other = optional(T, default), ... })
// Type constraints are not evaluated like other expressions (their keywords are not
// variables), and defaults are constant literals, so a dedicated parser keeps this
// synchronous and independent of the template cache.
import { suggest } from '../diagnostics.js';
import type { Value, ValueObject } from '../values.js';
import { putKey } from './conversions.js';
import { cookLiteral } from './template-source.js';
import type { ObjectAttribute, TypeConstraint } from './types.js';

type Token =
  | { readonly kind: 'ident'; readonly text: string; readonly at: number }
  | { readonly kind: 'number'; readonly text: string; readonly at: number }
  | { readonly kind: 'string'; readonly text: string; readonly at: number }
  | { readonly kind: 'punct'; readonly text: string; readonly at: number }
  | { readonly kind: 'end'; readonly text: ''; readonly at: number };

const TOKEN = /\s+|#[^\n]*|\/\/[^\n]*|\/\*[\s\S]*?\*\/|([A-Za-z_][A-Za-z0-9_-]*)|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|("(?:[^"\\]|\\.)*")|([()[\]{},=:.])/y;

const PRIMITIVES = ['string', 'number', 'bool', 'any'] as const;
const COLLECTIONS = ['list', 'set', 'map'] as const;
const KEYWORDS = [...PRIMITIVES, ...COLLECTIONS, 'tuple', 'object'];

class ParseError {
  constructor(readonly message: string) {}
}

export function parseTypeExpression(source: string): { type: TypeConstraint } | { error: string } {
  const tokens = tokenize(source);
  if (tokens instanceof ParseError) return { error: tokens.message };
  const p = new Parser(tokens, source);
  try {
    const type = p.type();
    p.expectEnd();
    return { type };
  } catch (e) {
    if (e instanceof ParseError) return { error: e.message };
    throw e;
  }
}

function tokenize(source: string): Token[] | ParseError {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let i = 0;
  while (i < source.length) {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(source);
    if (!m) return new ParseError(`Unexpected character ${JSON.stringify(source[i])} at column ${i + 1} of the type expression.`);
    if (m[1] !== undefined) out.push({ kind: 'ident', text: m[1], at: i });
    else if (m[2] !== undefined) out.push({ kind: 'number', text: m[2], at: i });
    else if (m[3] !== undefined) out.push({ kind: 'string', text: m[3], at: i });
    else if (m[4] !== undefined) out.push({ kind: 'punct', text: m[4], at: i });
    i += m[0].length;
  }
  out.push({ kind: 'end', text: '', at: source.length });
  return out;
}

// The parser reports errors by throwing ParseError, caught in parseTypeExpression:
// recursive descent would otherwise thread a failure through every rule.
class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly source: string,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    return this.tokens[this.pos++]!;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expectPunct(text: string, context: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) this.fail(`Expected "${text}" ${context}, found ${describe(t)}`, t);
  }

  private fail(message: string, t: Token): never {
    throw new ParseError(`${message} (at column ${t.at + 1} of "${this.source.trim()}").`);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.kind !== 'end') this.fail(`Unexpected ${describe(t)} after the type`, t);
  }

  type(): TypeConstraint {
    const t = this.next();
    if (t.kind !== 'ident') this.fail(`Expected a type, found ${describe(t)}`, t);
    const name = t.text;
    if ((PRIMITIVES as readonly string[]).includes(name)) {
      if (this.isPunct('(')) this.fail(`The type "${name}" takes no arguments`, this.peek());
      return { kind: name as (typeof PRIMITIVES)[number] };
    }
    if ((COLLECTIONS as readonly string[]).includes(name)) {
      if (!this.isPunct('(')) this.fail(`The type "${name}" needs an element type, like ${name}(string)`, this.peek());
      this.next();
      const element = this.type();
      this.expectPunct(')', `to close ${name}(`);
      return { kind: name as (typeof COLLECTIONS)[number], element };
    }
    if (name === 'tuple') return this.tuple();
    if (name === 'object') return this.object();
    if (name === 'optional') this.fail('optional(...) is allowed only for attributes of an object type', t);
    const hint = suggest(name, KEYWORDS);
    this.fail(`The keyword "${name}" is not a valid type${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}`, t);
  }

  private tuple(): TypeConstraint {
    this.expectPunct('(', 'after tuple');
    this.expectPunct('[', 'to start the element types of tuple([...])');
    const elements: TypeConstraint[] = [];
    while (!this.isPunct(']')) {
      elements.push(this.type());
      if (this.isPunct(',')) this.next();
      else if (!this.isPunct(']')) this.fail(`Expected "," or "]" in tuple([...]), found ${describe(this.peek())}`, this.peek());
    }
    this.next();
    this.expectPunct(')', 'to close tuple(');
    return { kind: 'tuple', elements };
  }

  private object(): TypeConstraint {
    this.expectPunct('(', 'after object');
    this.expectPunct('{', 'to start the attributes of object({...})');
    const attributes: ObjectAttribute[] = [];
    while (!this.isPunct('}')) {
      const nameTok = this.next();
      if (nameTok.kind !== 'ident' && nameTok.kind !== 'string') this.fail(`Expected an attribute name, found ${describe(nameTok)}`, nameTok);
      const name = nameTok.kind === 'string' ? cookLiteral(nameTok.text.slice(1, -1)) : nameTok.text;
      if (attributes.some((a) => a.name === name)) this.fail(`Duplicate attribute "${name}"`, nameTok);
      if (this.isPunct('=') || this.isPunct(':')) this.next();
      else this.fail(`Expected "=" after the attribute name "${name}", found ${describe(this.peek())}`, this.peek());
      attributes.push(this.attribute(name));
      if (this.isPunct(',')) this.next();
    }
    this.next();
    this.expectPunct(')', 'to close object(');
    return { kind: 'object', attributes };
  }

  private attribute(name: string): ObjectAttribute {
    const t = this.peek();
    if (t.kind !== 'ident' || t.text !== 'optional') return { name, type: this.type(), optional: false };
    this.next();
    this.expectPunct('(', 'after optional');
    const type = this.type();
    if (this.isPunct(',')) {
      this.next();
      const dflt = this.literal();
      this.expectPunct(')', 'to close optional(');
      return { name, type, optional: true, default: dflt };
    }
    this.expectPunct(')', 'to close optional(');
    return { name, type, optional: true };
  }

  /** A constant default value: number, string, bool, null, list or object of those. */
  private literal(): Value {
    const t = this.next();
    if (t.kind === 'number') return Number(t.text);
    if (t.kind === 'string') {
      const body = t.text.slice(1, -1);
      if (/[$%]\{/.test(body.replace(/\$\$\{|%%\{/g, ''))) this.fail('Default values must be constants, without interpolation', t);
      return cookLiteral(body);
    }
    if (t.kind === 'ident') {
      if (t.text === 'true') return true;
      if (t.text === 'false') return false;
      if (t.text === 'null') return null;
      this.fail(`Default values must be constants; "${t.text}" is not one`, t);
    }
    if (t.kind === 'punct' && t.text === '[') {
      const out: Value[] = [];
      while (!this.isPunct(']')) {
        out.push(this.literal());
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct(']')) this.fail(`Expected "," or "]", found ${describe(this.peek())}`, this.peek());
      }
      this.next();
      return out;
    }
    if (t.kind === 'punct' && t.text === '{') {
      const out: ValueObject = {};
      while (!this.isPunct('}')) {
        const k = this.next();
        if (k.kind !== 'ident' && k.kind !== 'string') this.fail(`Expected a key, found ${describe(k)}`, k);
        const key = k.kind === 'string' ? cookLiteral(k.text.slice(1, -1)) : k.text;
        if (this.isPunct('=') || this.isPunct(':')) this.next();
        else this.fail(`Expected "=" after the key "${key}"`, this.peek());
        putKey(out, key, this.literal());
        if (this.isPunct(',')) this.next();
      }
      this.next();
      return out;
    }
    this.fail(`Expected a constant value, found ${describe(t)}`, t);
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end of the expression';
  return `"${t.text}"`;
}
