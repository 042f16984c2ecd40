// hcl2json refuses a one-line block with several attributes (`moved { from = a  to = b }`,
// as the SPEC writes them) with "Invalid single-argument block definition". Such blocks
// are spread over several lines before parsing; the returned line map turns line
// numbers of the rewritten text back into the user's for syntax errors.
import type { LocatedBody } from './hcl-locator.js';

export interface Rewritten {
  readonly source: string;
  /** rewrittenLine (1-based) -> original line; undefined when nothing was rewritten. */
  readonly originalLine?: (line: number) => number;
}

export function spreadOneLineBlocks(source: string, body: LocatedBody): Rewritten {
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const offset = (line: number, column: number): number => lineStarts[line - 1]! + column - 1;
  const inserts: number[] = [];
  const visit = (b: LocatedBody): void => {
    for (const block of b.blocks) visit(block.body);
    const items = [...b.attributes.map((a) => a.range), ...b.blocks.map((x) => x.range)];
    const r = b.range;
    if (items.length < 2 || r.start.line !== r.end.line || r === body.range) return;
    const open = offset(r.start.line, r.start.column);
    const close = offset(r.end.line, r.end.column) - 1;
    if (source[open] !== '{' || source[close] !== '}') return; // not what we expect: leave it to hcl2json
    inserts.push(open + 1, close, ...items.slice(1).map((i) => offset(i.start.line, i.start.column)));
  };
  visit(body);
  if (!inserts.length) return { source };
  inserts.sort((a, b) => a - b);
  let out = '';
  let prev = 0;
  const newlineAfterLine: number[] = []; // original line of each inserted newline, in order
  for (const at of inserts) {
    out += source.slice(prev, at) + '\n';
    prev = at;
    newlineAfterLine.push(lineOf(lineStarts, at));
  }
  out += source.slice(prev);
  return {
    source: out,
    originalLine: (line) => {
      // Each inserted newline on original line L shifts later lines down by one.
      let shift = 0;
      for (const l of newlineAfterLine) {
        if (l + shift < line) shift++;
        else break;
      }
      return line - shift;
    },
  };
}

function lineOf(lineStarts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
