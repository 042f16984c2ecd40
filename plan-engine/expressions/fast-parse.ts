// A pure-JavaScript parser for the template shapes that make up most of a large
// configuration: literal text with plain traversals interpolated
// (`"${network.front[0].id}"`, `"web-${count.index}"`, `"$${HOME}/${var.dir}"`).
// It builds exactly the nodes `getExpressionAst` would (ranges included, for ASCII
// text), so the rest of the engine cannot tell the difference, and skips the
// WebAssembly round trip (~0.1-0.3 ms) per distinct template.
import type { TFExpressionSyntaxTree } from '@cdktf/hcl2json';
import { escapeLiteral, splitTemplate } from './template-source.js';

type ExpressionType = TFExpressionSyntaxTree.ExpressionType;
type CodeRange = TFExpressionSyntaxTree.CodeRange;
type TraversalPart = TFExpressionSyntaxTree.TerraformTraversalPart;

const IDENT = '[A-Za-z_][A-Za-z0-9_-]*';
// An index key that needs no escaping and holds no template sequence.
const PLAIN_KEY = '"[^"\\\\$%{}\\x00-\\x1f\\x7f-\\uffff]*"';
const INDEX = `\\[(?:0|[1-9][0-9]*|${PLAIN_KEY})\\]`;
const STEP = new RegExp(`\\.(${IDENT})|\\[(0|[1-9][0-9]*|${PLAIN_KEY})\\]`, 'y');
const SIMPLE_SEQUENCE = new RegExp(`^\\$\\{(${IDENT})((?:\\.${IDENT}|${INDEX})*)\\}$`);
// Keywords that the parser reads as literals, not as variables.
const KEYWORDS = new Set(['true', 'false', 'null']);

/** The AST of a template made only of literals and plain traversals, or undefined when the full parser is needed. */
export function fastParse(template: string): ExpressionType | undefined {
  const segments = splitTemplate(template);
  if (segments.length === 0) return undefined;
  const traversals: RegExpExecArray[] = [];
  for (const seg of segments) {
    if (seg.kind === 'literal') continue;
    const m = SIMPLE_SEQUENCE.exec(seg.text);
    if (!m || KEYWORDS.has(m[1]!)) return undefined;
    traversals.push(m);
  }

  // Positions are counted in the quoted template `"..."` that the parser would see.
  const pos = { byte: 1, column: 1 };
  const children: ExpressionType[] = [];
  let quoted = '"';
  let t = 0;
  for (const seg of segments) {
    if (seg.kind === 'literal') {
      const text = escapeLiteral(seg.text);
      const start = { line: 0, ...pos };
      pos.byte += Buffer.byteLength(text);
      pos.column += [...text].length;
      children.push({ children: [], type: 'literalValue', meta: { type: 'string', value: text }, range: { start, end: { line: 0, ...pos } } });
      quoted += text;
    } else {
      const m = traversals[t++]!;
      children.push(traversalNode(m[1]!, m[2]!, pos.byte + 2, pos.column + 2));
      pos.byte += seg.text.length; // the sequence is ASCII: bytes and columns advance alike
      pos.column += seg.text.length;
      quoted += seg.text;
    }
  }
  quoted += '"';

  if (segments.length === 1 && segments[0]!.kind === 'sequence') {
    const end = Buffer.byteLength(quoted);
    return { children, type: 'templateWrap', meta: { value: quoted }, range: span(0, end) };
  }
  // The parser gives a template the range of its first part.
  return { children, type: 'template', meta: { value: quoted }, range: children[0]!.range };
}

/** A scopeTraversal node for `root` + `rest` (`.a[0]["k"]`) starting at byte/column `at`. */
function traversalNode(root: string, rest: string, at: number, column: number): ExpressionType {
  const shift = column - at; // columns trail bytes by the multi-byte characters before the sequence
  const traversal: TraversalPart[] = [{ type: 'nameTraversal', segment: root, range: span(at, at + root.length, shift) }];
  let p = at + root.length;
  STEP.lastIndex = 0;
  let sm: RegExpExecArray | null;
  while ((sm = STEP.exec(rest)) !== null) {
    const len = sm[0].length;
    if (sm[1] !== undefined) traversal.push({ type: 'nameTraversal', segment: sm[1], range: span(p, p + len, shift) });
    else traversal.push({ type: 'indexTraversal', segment: sm[2]!, range: span(p, p + len, shift) });
    p += len;
  }
  const source = root + rest;
  return {
    children: [],
    type: 'scopeTraversal',
    meta: { fullAccessor: source, traversal, value: source },
    range: span(at, p, shift),
  };
}

function span(from: number, to: number, shift = 0): CodeRange {
  return { start: { line: 0, column: from + shift, byte: from }, end: { line: 0, column: to + shift, byte: to } };
}
