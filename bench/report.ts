// Text tables for the bench: one comparison row per measurement (tsinfra | terraform |
// ratio), then the per-tool details (spread, CPU time, process count).
import type { Summary } from './measure.js';

/** A measured summary, or why there is none ("not measured: ...", "failed: ..."). */
export type Cell = Summary | string;

export interface Row {
  readonly label: string;
  readonly tsinfra: Cell;
  readonly terraform: Cell;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export function formatKb(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MiB`;
}

/** terraform ÷ tsinfra: above 1 means tsinfra is faster (or smaller) by that factor. */
function ratio(ts: Cell, tf: Cell, pick: (s: Summary) => number): string {
  if (typeof ts === 'string' || typeof tf === 'string') return '-';
  return `${(pick(tf) / pick(ts)).toFixed(2)}x`;
}

function cellText(c: Cell, pick: (s: Summary) => string): string {
  return typeof c === 'string' ? c.split(':')[0]! : pick(c);
}

/** A plain-text table: columns padded to their widths, a dashed rule under the header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function renderComparison(rows: readonly Row[]): string {
  const header = ['measurement', 'tsinfra', 'terraform', 'tf÷ts', 'tsinfra RSS', 'terraform RSS', 'tf÷ts'];
  const body = rows.map((r) => [
    r.label,
    cellText(r.tsinfra, (s) => formatMs(s.wallMs)),
    cellText(r.terraform, (s) => formatMs(s.wallMs)),
    ratio(r.tsinfra, r.terraform, (s) => s.wallMs),
    cellText(r.tsinfra, (s) => formatKb(s.peakRssKb)),
    cellText(r.terraform, (s) => formatKb(s.peakRssKb)),
    ratio(r.tsinfra, r.terraform, (s) => s.peakRssKb),
  ]);
  return table(header, body, new Set([1, 2, 3, 4, 5, 6]));
}

export function renderDetails(rows: readonly Row[]): string {
  const header = ['measurement', 'tool', 'runs', 'wall median', 'min-max', 'CPU (user+sys)', 'peak RSS', 'processes'];
  const body: string[][] = [];
  const notes: string[] = [];
  for (const r of rows) {
    for (const [tool, c] of [
      ['tsinfra', r.tsinfra],
      ['terraform', r.terraform],
    ] as const) {
      if (c === '') continue; // a measurement of one tool only
      if (typeof c === 'string') {
        body.push([r.label, tool, '-', c, '', '', '', '']);
        continue;
      }
      const procs =
        c.maxProcesses > 1 && c.polledTreeRssKb !== undefined ? `${c.maxProcesses} (polled sum ${formatKb(c.polledTreeRssKb)})` : String(c.maxProcesses);
      body.push([
        r.label,
        tool,
        String(c.runs),
        formatMs(c.wallMs),
        `${formatMs(c.wallMinMs)} - ${formatMs(c.wallMaxMs)}`,
        `${c.cpuS.toFixed(2)} s`,
        formatKb(c.peakRssKb),
        procs,
      ]);
      if (c.maxProcesses > 1) notes.push(`${r.label} (${tool}) ran as ${c.maxProcesses} processes: its peak RSS is the largest one's.`);
    }
  }
  return [table(header, body, new Set([2, 3, 5, 6])), ...notes].join('\n');
}
