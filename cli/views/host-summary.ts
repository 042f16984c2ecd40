// The per-host summary at the end of an apply or destroy that touched several hosts:
// what each host had done (added, changed, destroyed), what failed or was skipped, and
// the first error there, so that in a fleet run the broken hosts stand out.
//
//   Summary by host:
//     HOST          ADDED  CHANGED  DESTROYED  FAILED  SKIPPED  FIRST ERROR
//     host.web[0]       2        0          0       0        0
//     host.web[1]       0        0          0       1        1  network.br[1]: E_SSH_CONNECT: cannot connect to 10.0.0.12:22 ...
//
// For --json, `hostSummaryJson` gives the `hosts` array of the change_summary event:
//   [{ "host", "added", "changed", "destroyed", "failed", "skipped",
//      "first_error": { "address", "operation", "code", "message" } | null }]
import type { Operation, OperationOutcome } from '../../plan-engine/apply/apply.js';
import { compareHosts } from './host-order.js';
import type { Style } from './style.js';

export interface HostSummaryRow {
  readonly host: string;
  readonly added: number;
  readonly changed: number;
  readonly destroyed: number;
  readonly failed: number;
  readonly skipped: number;
  /** The first failure on this host, in the order operations finished. */
  readonly firstError?: { readonly address: string; readonly operation: Operation; readonly code: string; readonly message: string };
}

type Counts = { -readonly [K in 'added' | 'changed' | 'destroyed' | 'failed' | 'skipped']: number };

const DONE: Record<Operation, keyof Counts> = { create: 'added', update: 'changed', delete: 'destroyed' };

/** One row per host that had an operation, in host order. Counts add up as ApplySummary's do. */
export function summarizeByHost(outcomes: readonly OperationOutcome[]): HostSummaryRow[] {
  const rows = new Map<string, Counts & { host: string; firstError?: NonNullable<HostSummaryRow['firstError']> }>();
  for (const o of outcomes) {
    let row = rows.get(o.host);
    if (!row) {
      row = { host: o.host, added: 0, changed: 0, destroyed: 0, failed: 0, skipped: 0 };
      rows.set(o.host, row);
    }
    if (o.outcome === 'ok') row[DONE[o.operation]]++;
    else if (o.outcome === 'skipped') row.skipped++;
    else {
      row.failed++;
      const e = o.error ?? { code: 'E_UNKNOWN', message: 'no error was recorded' };
      row.firstError ??= { address: o.address, operation: o.operation, code: e.code, message: e.message };
    }
  }
  return [...rows.values()].sort((a, b) => compareHosts(a.host, b.host));
}

/** Shown when operations ran on more than one host; with one host the summary line says it all. */
export function wantsHostSummary(rows: readonly HostSummaryRow[]): boolean {
  return rows.length > 1;
}

/** Longest first error shown in the table; the whole one is in the diagnostics above it. */
const ERROR_WIDTH = 120;

function errorCell(e: HostSummaryRow['firstError']): string {
  if (!e) return '';
  const text = `${e.address}: ${e.code}: ${e.message.split('\n')[0]!.trim()}`;
  return text.length > ERROR_WIDTH ? `${text.slice(0, ERROR_WIDTH - 3)}...` : text;
}

/** The table; `destroy` leaves out the added and changed columns, which stay at 0. */
export function renderHostSummary(rows: readonly HostSummaryRow[], destroy: boolean, style: Style): string {
  const columns: { title: string; count?: keyof Counts }[] = [
    { title: 'HOST' },
    ...(destroy
      ? []
      : [
          { title: 'ADDED', count: 'added' as const },
          { title: 'CHANGED', count: 'changed' as const },
        ]),
    { title: 'DESTROYED', count: 'destroyed' },
    { title: 'FAILED', count: 'failed' },
    { title: 'SKIPPED', count: 'skipped' },
    { title: 'FIRST ERROR' },
  ];
  const cells = (r: HostSummaryRow): string[] => columns.map((c, i) => (i === 0 ? r.host : c.count ? String(r[c.count]) : errorCell(r.firstError)));
  const table = [columns.map((c) => c.title), ...rows.map(cells)];
  const widths = columns.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  // Host names left-aligned, counts right-aligned under their titles, the error as it comes.
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(i === 0 ? widths[0]! : 0) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const body = rows.map((r, n) => {
    const text = line(table[n + 1]!);
    return r.failed > 0 ? style.red(text) : text;
  });
  return ['Summary by host:', ...[style.bold(line(table[0]!)), ...body].map((l) => `  ${l}`)].join('\n');
}

export function hostSummaryJson(rows: readonly HostSummaryRow[]): Record<string, unknown>[] {
  return rows.map((r) => ({
    host: r.host,
    added: r.added,
    changed: r.changed,
    destroyed: r.destroyed,
    failed: r.failed,
    skipped: r.skipped,
    first_error: r.firstError
      ? { address: r.firstError.address, operation: r.firstError.operation, code: r.firstError.code, message: r.firstError.message }
      : null,
  }));
}
