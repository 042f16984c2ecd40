// Raw expressions hold templates the way `@cdktf/hcl2json`'s `parse` emits them: the
// literal parts are already unescaped ("cooked": real quotes, real newlines), while
// the `${...}` and `%{...}` sequences keep their HCL source text, and `$${` / `%%{`
// stay escaped. To parse one again it must become a quoted HCL template: this module
// re-escapes the literal parts only (escaping inside a sequence would corrupt its
// nested string literals) and applies `~` strip markers to the neighbouring literals,
// because the parser reports literal text as written, before stripping.

/** True when a raw string is a template (holds an interpolation or a directive, possibly escaped). */
export function isTemplate(s: string): boolean {
  return s.includes('${') || s.includes('%{');
}

/** One piece of a cooked template: literal text, or a whole `${...}` / `%{...}` sequence. */
export type TemplateSegment = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'sequence'; readonly text: string };

/**
 * Splits a cooked template into literals and sequences. Escaped `$${` and `%%{`
 * stay (escaped) inside literals. An unterminated sequence becomes a trailing
 * sequence that runs to the end, so that the HCL parser reports it.
 */
export function splitTemplate(s: string): TemplateSegment[] {
  const out: TemplateSegment[] = [];
  let lit = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') {
      lit += s.slice(i, i + 3);
      i += 3;
      continue;
    }
    if ((c === '$' || c === '%') && s[i + 1] === '{') {
      const end = sequenceEnd(s, i + 2);
      if (lit !== '') out.push({ kind: 'literal', text: lit });
      lit = '';
      out.push({ kind: 'sequence', text: s.slice(i, end) });
      i = end;
      continue;
    }
    lit += c;
    i++;
  }
  if (lit !== '') out.push({ kind: 'literal', text: lit });
  return out;
}

/** The quoted HCL template (`"..."`) that parses to the same template as the cooked string. */
export function quoteTemplate(s: string): string {
  const segments = splitTemplate(s);
  let out = '"';
  for (let k = 0; k < segments.length; k++) {
    const seg = segments[k]!;
    if (seg.kind === 'sequence') {
      out += seg.text;
      continue;
    }
    let text = seg.text;
    const prev = segments[k - 1];
    const next = segments[k + 1];
    if (prev !== undefined && prev.text.endsWith('~}')) text = text.trimStart();
    if (next !== undefined && next.text[2] === '~') text = text.trimEnd();
    out += escapeLiteral(text);
  }
  return out + '"';
}

/** Escapes a literal part for a quoted HCL string (leaving `$${` and `%%{` as they are). */
export function escapeLiteral(text: string): string {
  let out = '';
  for (const ch of text) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default: {
        const code = ch.codePointAt(0)!;
        out += code < 0x20 || code === 0x7f ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
      }
    }
  }
  return out;
}

/**
 * Index just after the `}` closing a sequence whose body starts at `from`
 * (nested braces and string literals, themselves holding templates, are skipped),
 * or the string's length when it is unterminated.
 */
function sequenceEnd(s: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === '"') {
      i = stringEnd(s, i + 1);
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
    i++;
  }
  return s.length;
}

/** Index just after the closing quote of a string literal whose body starts at `from`. */
function stringEnd(s: string, from: number): number {
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '"') return i + 1;
    if ((c === '$' || c === '%') && s[i + 1] === c && s[i + 2] === '{') {
      i += 3;
      continue;
    }
    if ((c === '$' || c === '%') && s[i + 1] === '{') {
      i = sequenceEnd(s, i + 2);
      continue;
    }
    i++;
  }
  return s.length;
}

/**
 * The value of a string literal as the parser reports it (its escaped source text):
 * HCL's backslash escapes and the `$${` / `%%{` template escapes are resolved.
 */
export function cookLiteral(raw: string): string {
  if (!raw.includes('\\') && !raw.includes('$${') && !raw.includes('%%{')) return raw;
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '\\' && i + 1 < raw.length) {
      const e = raw[i + 1]!;
      i += 2;
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u':
        case 'U': {
          const len = e === 'u' ? 4 : 8;
          const hex = raw.slice(i, i + len);
          if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
            out += String.fromCodePoint(parseInt(hex, 16));
            i += len;
          } else out += '\\' + e;
          break;
        }
        default:
          out += e; // \" and \\ (the parser has already rejected unknown escapes)
      }
      continue;
    }
    if ((c === '$' || c === '%') && raw[i + 1] === c && raw[i + 2] === '{') {
      out += c + '{';
      i += 3;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
