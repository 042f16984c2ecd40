import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OperationOutcome } from '../../../plan-engine/apply/apply.js';
import { hostSummaryJson, renderHostSummary, summarizeByHost, wantsHostSummary } from '../../../cli/views/host-summary.js';
import { makeStyle } from '../../../cli/views/style.js';

const plain = makeStyle(false);

// A fleet run: h1 fine, h2 unreachable (its network failed, the container depending on it
// skipped), h10 a replacement (delete + create) and an update.
const outcomes: OperationOutcome[] = [
  { address: 'network.br["h1"]', host: 'host.h[1]', operation: 'create', outcome: 'ok' },
  {
    address: 'network.br["h2"]',
    host: 'host.h[2]',
    operation: 'create',
    outcome: 'failed',
    error: { code: 'E_SSH_CONNECT', message: 'host.h[2]: cannot connect to 10.213.0.12:22: connection refused\nis sshd running?' },
  },
  { address: 'container.web["h1"]', host: 'host.h[1]', operation: 'create', outcome: 'ok' },
  { address: 'container.web["h2"]', host: 'host.h[2]', operation: 'create', outcome: 'skipped' },
  { address: 'network.br["h10"]', host: 'host.h[10]', operation: 'delete', outcome: 'ok' },
  { address: 'network.br["h10"]', host: 'host.h[10]', operation: 'create', outcome: 'ok' },
  { address: 'container.web["h10"]', host: 'host.h[10]', operation: 'update', outcome: 'ok' },
  { address: 'volume.data["h2"]', host: 'host.h[2]', operation: 'delete', outcome: 'failed', error: { code: 'E_AGENT_CLOSED', message: 'later failure' } },
];

test('outcomes are counted per host, in host order, with the first failure of each', () => {
  assert.deepEqual(summarizeByHost(outcomes), [
    { host: 'host.h[1]', added: 2, changed: 0, destroyed: 0, failed: 0, skipped: 0 },
    {
      host: 'host.h[2]',
      added: 0,
      changed: 0,
      destroyed: 0,
      failed: 2,
      skipped: 1,
      firstError: {
        address: 'network.br["h2"]',
        operation: 'create',
        code: 'E_SSH_CONNECT',
        message: 'host.h[2]: cannot connect to 10.213.0.12:22: connection refused\nis sshd running?',
      },
    },
    { host: 'host.h[10]', added: 1, changed: 1, destroyed: 1, failed: 0, skipped: 0 },
  ]);
});

test('the table has one aligned row per host and the first line of the first error', () => {
  assert.equal(
    renderHostSummary(summarizeByHost(outcomes), false, plain),
    [
      'Summary by host:',
      '  HOST        ADDED  CHANGED  DESTROYED  FAILED  SKIPPED  FIRST ERROR',
      '  host.h[1]       2        0          0       0        0',
      '  host.h[2]       0        0          0       2        1  network.br["h2"]: E_SSH_CONNECT: host.h[2]: cannot connect to 10.213.0.12:22: connection refused',
      '  host.h[10]      1        1          1       0        0',
    ].join('\n'),
  );
});

test('a destroy leaves out the added and changed columns', () => {
  const rows = summarizeByHost([
    { address: 'network.a', host: 'host.a', operation: 'delete', outcome: 'ok' },
    { address: 'network.b', host: 'host.b', operation: 'delete', outcome: 'failed', error: { code: 'E_X', message: 'no' } },
  ]);
  assert.equal(
    renderHostSummary(rows, true, plain),
    [
      'Summary by host:',
      '  HOST    DESTROYED  FAILED  SKIPPED  FIRST ERROR',
      '  host.a          1       0        0',
      '  host.b          0       1        0  network.b: E_X: no',
    ].join('\n'),
  );
});

test('a long error is cut to keep the table readable; failed rows are red on a terminal', () => {
  const long = 'x'.repeat(300);
  const rows = summarizeByHost([
    { address: 'network.a', host: 'host.a', operation: 'create', outcome: 'failed', error: { code: 'E_X', message: long } },
    { address: 'network.b', host: 'host.b', operation: 'create', outcome: 'ok' },
  ]);
  const lines = renderHostSummary(rows, false, plain).split('\n');
  assert.ok(lines[2]!.endsWith('...'));
  assert.ok(lines[2]!.length < 200);
  const colored = renderHostSummary(rows, false, makeStyle(true)).split('\n');
  assert.match(colored[2]!, /\u001b\[31m/);
  assert.doesNotMatch(colored[3]!, /\u001b\[31m/);
});

test('shown only when operations ran on more than one host', () => {
  assert.equal(wantsHostSummary(summarizeByHost([])), false);
  assert.equal(wantsHostSummary(summarizeByHost(outcomes.filter((o) => o.host === 'host.h[1]'))), false);
  assert.equal(wantsHostSummary(summarizeByHost(outcomes)), true);
});

test('the JSON form lists every host with its counts and first error or null', () => {
  assert.deepEqual(hostSummaryJson(summarizeByHost(outcomes)), [
    { host: 'host.h[1]', added: 2, changed: 0, destroyed: 0, failed: 0, skipped: 0, first_error: null },
    {
      host: 'host.h[2]',
      added: 0,
      changed: 0,
      destroyed: 0,
      failed: 2,
      skipped: 1,
      first_error: {
        address: 'network.br["h2"]',
        operation: 'create',
        code: 'E_SSH_CONNECT',
        message: 'host.h[2]: cannot connect to 10.213.0.12:22: connection refused\nis sshd running?',
      },
    },
    { host: 'host.h[10]', added: 1, changed: 1, destroyed: 1, failed: 0, skipped: 0, first_error: null },
  ]);
});
