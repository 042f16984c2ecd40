// A pure-JavaScript parser for the two template shapes that make up most of a large
// configuration: a lone traversal (`"${network.front[0].id}"`) and a string whose only
// `${` are escaped (`"$${HOME}"`). It builds exactly the nodes `getExpressionAst`
// would (ranges included, for ASCII text), so the rest of the engine cannot tell the
// difference, and skips the ~0.1 ms WebAssembly round trip per distinct template.
import type { TFExpressionSyntaxTree } from '@cdktf/hcl2json';
import { hasSequence, quoteTemplate, splitTemplate } from './template-source.js';

type ExpressionType = TFExpressionSyntaxTree.ExpressionType;
type CodeRange = TFExpressionSyntaxTree.CodeRange;
type TraversalPart = TFExpressionSyntaxTree.TerraformTraversalPart;

const IDENT = '[A-Za-z_][A-Za-z0-9_-]*';
// An index key that needs no escaping and holds no template sequence.
const PLAIN_KEY = '"[^"\\\\$%{}\\x00-\\x1f\\x7f-\\uffff]*"';
const STEP = new RegExp(`\\.(${IDENT})|\\[(0|[1-9][0-9]*|${PLAIN_KEY})\\]`, 'y');
const SIMPLE_TRAVERSAL = new RegExp(`^\\$\\{(${IDENT})((?:\\.${IDENT}|\\[(?:0|[1-9][0-9]*|${PLAIN_KEY})\\])*)\\}$`);
// Keywords that the parser reads as literals, not as variables.
const KEYWORDS = new Set(['true', 'false', 'null']);

/** The AST of a template in one of the fast shapes, or undefined when the full parser is needed. */
export function fastParse(template: string): ExpressionType | undefined {
  return parseSimpleTraversal(template) ?? parseEscapedLiteral(template);
}

function parseSimpleTraversal(template: string): ExpressionType | undefined {
  const m = SIMPLE_TRAVERSAL.exec(template);
  if (!m) return undefined;
  const root = m[1]!;
  if (KEYWORDS.has(root)) return undefined;
  const rest = m[2]!;
  const start = 3; // after `"${`
  const traversal: TraversalPart[] = [{ type: 'nameTraversal', segment: root, range: span(start, start + root.length) }];
  let pos = start + root.length;
  STEP.lastIndex = 0;
  let sm: RegExpExecArray | null;
  while ((sm = STEP.exec(rest)) !== null) {
    const len = sm[0].length;
    if (sm[1] !== undefined) traversal.push({ type: 'nameTraversal', segment: sm[1], range: span(pos, pos + len) });
    else traversal.push({ type: 'indexTraversal', segment: sm[2]!, range: span(pos, pos + len) });
    pos += len;
  }
  const source = root + rest;
  const quoted = `"${template}"`;
  return {
    children: [
      {
        children: [],
        type: 'scopeTraversal',
        meta: { fullAccessor: source, traversal, value: source },
        range: span(start, pos),
      },
    ],
    type: 'templateWrap',
    meta: { value: quoted },
    range: span(0, quoted.length),
  };
}

function parseEscapedLiteral(template: string): ExpressionType | undefined {
  if (hasSequence(splitTemplate(template))) return undefined;
  const quoted = quoteTemplate(template);
  const text = quoted.slice(1, -1);
  const range: CodeRange = {
    start: { line: 0, column: 1, byte: 1 },
    end: { line: 0, column: 1 + [...text].length, byte: 1 + Buffer.byteLength(text) },
  };
  return {
    children: [{ children: [], type: 'literalValue', meta: { type: 'string', value: text }, range }],
    type: 'template',
    meta: { value: quoted },
    range,
  };
}

/** A range on the first line of an ASCII string, where columns equal byte offsets. */
function span(from: number, to: number): CodeRange {
  return { start: { line: 0, column: from, byte: from }, end: { line: 0, column: to, byte: to } };
}
