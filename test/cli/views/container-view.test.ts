// Rendering of logs, exec output and stats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execOutput, humanBytes, logEntry, renderStats, statsJson, type StatsRow } from '../../../cli/views/container-view.js';
import { makeStyle } from '../../../cli/views/style.js';

const plain = makeStyle(false);

test('log entries go to the stream they were written to, one per line; --json as JSON lines on stdout', () => {
  const e = { stream: 'stderr' as const, time: '2025-01-02T03:04:05.678Z', data: 'oops "quoted"' };
  assert.deepEqual(logEntry(e, false), { stream: 'stderr', text: 'oops "quoted"\n' });
  const json = logEntry(e, true);
  assert.equal(json.stream, 'stdout');
  assert.ok(json.text.endsWith('\n') && !json.text.slice(0, -1).includes('\n'));
  assert.deepEqual(JSON.parse(json.text), { time: e.time, stream: 'stderr', data: 'oops "quoted"' });
});

test('exec output is passed through as written', () => {
  assert.deepEqual(execOutput({ stream: 'stdout', time: 't', data: 'no newline' }), { stream: 'stdout', text: 'no newline' });
});

test('byte counts in binary units', () => {
  assert.equal(humanBytes(0), '0B');
  assert.equal(humanBytes(512), '512B');
  assert.equal(humanBytes(1536), '1.5KiB');
  assert.equal(humanBytes(64 * 1024 * 1024), '64MiB');
});

const rows: StatsRow[] = [
  {
    address: 'container.web',
    host: 'host.local',
    id: '0123456789abcdef',
    cpuPercent: 12.345,
    stats: {
      id: '0123456789abcdef',
      status: 'running',
      cpu_usage_ns: 2_500_000_000,
      memory_usage_bytes: 12 * 1024 * 1024,
      memory_limit_bytes: 64 * 1024 * 1024,
      pids: 3,
      block_read_bytes: 4096,
      block_write_bytes: 0,
    },
  },
  { address: 'container.gone', host: 'host.local', id: 'aaaaaaaaaaaaaaaa', cpuPercent: null, stats: null },
  { address: 'container.far', host: 'host.far', id: 'bbbbbbbbbbbbbbbb', cpuPercent: null, stats: null, error: { code: 'E_AGENT_START', message: 'no route' } },
];

test('the stats table: one aligned row per container', () => {
  const lines = renderStats(rows, plain).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^ADDRESS\s+STATUS\s+CPU %\s+CPU TIME\s+MEMORY \/ LIMIT\s+PIDS\s+BLOCK READ \/ WRITE$/);
  assert.match(lines[1]!, /^container\.web\s+running\s+12\.3%\s+2\.50s\s+12MiB \/ 64MiB\s+3\s+4KiB \/ 0B$/);
  assert.match(lines[2]!, /^container\.gone\s+not found\s+-/);
  assert.match(lines[3]!, /^container\.far\s+unreachable\s+-/);
  // Columns line up: STATUS starts at the same offset on every line.
  const col = lines[0]!.indexOf('STATUS');
  for (const l of lines.slice(1)) assert.match(l.slice(col), /^(running|not found|unreachable)/);
  assert.equal(renderStats([], plain), 'No containers in the state.');
});

test('stats as JSON: raw counters, found or not, errors with their code', () => {
  const doc = statsJson(rows) as { format_version: string; containers: Record<string, unknown>[] };
  assert.equal(doc.format_version, '1.0');
  assert.deepEqual(doc.containers[0], {
    address: 'container.web',
    host: 'host.local',
    id: '0123456789abcdef',
    found: true,
    status: 'running',
    cpu_usage_ns: 2_500_000_000,
    memory_usage_bytes: 12 * 1024 * 1024,
    memory_limit_bytes: 64 * 1024 * 1024,
    pids: 3,
    block_read_bytes: 4096,
    block_write_bytes: 0,
  });
  assert.deepEqual(doc.containers[1], { address: 'container.gone', host: 'host.local', id: 'aaaaaaaaaaaaaaaa', found: false });
  assert.deepEqual(doc.containers[2]!['error'], { code: 'E_AGENT_START', message: 'no route' });
});
