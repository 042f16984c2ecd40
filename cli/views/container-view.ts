// Rendering for logs, exec and stats: what goes to which stream, in human and JSON form.
//
// logs:  human: each entry's text as a line on the stream it was written to (stderr
//        entries to stderr, as `docker logs`); --json: one JSON object per line on
//        stdout ({time, stream, data}), the same with and without --follow.
// exec:  the command's output as it comes, on the stream it was written to.
// stats: human: a table; --json: one document with raw numbers.
import type { ContainerStats, OutputEvent } from '../../agent/rpc/protocol.js';
import { formatSize } from '../../agent/runtime/sizes.js';
import { JSON_FORMAT_VERSION } from './json-format.js';
import type { Style } from './style.js';

export interface Emitted {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

export function logEntry(e: OutputEvent, json: boolean): Emitted {
  if (json) return { stream: 'stdout', text: JSON.stringify({ time: e.time, stream: e.stream, data: e.data }) + '\n' };
  return { stream: e.stream, text: e.data + '\n' };
}

export function execOutput(e: OutputEvent): Emitted {
  return { stream: e.stream, text: e.data };
}

// ---- stats -----------------------------------------------------------------------

export interface StatsRow {
  readonly address: string;
  readonly host: string;
  readonly id: string;
  /** null: the agent does not know the container (removed outside tsinfra). */
  readonly stats: ContainerStats | null;
  /** CPU use over the sampling interval, 100 = one CPU busy; null without a second sample. */
  readonly cpuPercent: number | null;
  /** Why the host could not be asked (the agent failed); then stats is null. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** `12.3MiB`, `512B`: binary units, one decimal at most. */
export function humanBytes(n: number): string {
  const s = formatSize(Math.max(0, Math.round(n)), { approximate: true });
  return /[KMGTP]$/.test(s) ? `${s}iB` : `${s}B`;
}

function cpuTime(ns: number): string {
  const s = ns / 1e9;
  if (s < 60) return `${s.toFixed(2)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.floor(s % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}

const HEADERS = ['ADDRESS', 'STATUS', 'CPU %', 'CPU TIME', 'MEMORY / LIMIT', 'PIDS', 'BLOCK READ / WRITE'] as const;

function cells(r: StatsRow): string[] {
  const s = r.stats;
  if (!s) return [r.address, r.error ? 'unreachable' : 'not found', '-', '-', '-', '-', '-'];
  return [
    r.address,
    s.status,
    r.cpuPercent === null ? '-' : `${r.cpuPercent.toFixed(1)}%`,
    cpuTime(s.cpu_usage_ns),
    `${humanBytes(s.memory_usage_bytes)} / ${s.memory_limit_bytes === null ? 'no limit' : humanBytes(s.memory_limit_bytes)}`,
    String(s.pids),
    `${humanBytes(s.block_read_bytes)} / ${humanBytes(s.block_write_bytes)}`,
  ];
}

export function renderStats(rows: readonly StatsRow[], style: Style): string {
  if (rows.length === 0) return 'No containers in the state.';
  const table = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [style.bold(line(table[0]!)), ...table.slice(1).map(line)].join('\n');
}

export function statsJson(rows: readonly StatsRow[]): unknown {
  return {
    format_version: JSON_FORMAT_VERSION,
    containers: rows.map((r) => ({
      address: r.address,
      host: r.host,
      id: r.id,
      found: r.stats !== null,
      ...(r.error ? { error: r.error } : {}),
      ...(r.stats
        ? {
            status: r.stats.status,
            cpu_usage_ns: r.stats.cpu_usage_ns,
            memory_usage_bytes: r.stats.memory_usage_bytes,
            memory_limit_bytes: r.stats.memory_limit_bytes,
            pids: r.stats.pids,
            block_read_bytes: r.stats.block_read_bytes,
            block_write_bytes: r.stats.block_write_bytes,
          }
        : {}),
    })),
  };
}
