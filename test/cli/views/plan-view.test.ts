// Plan rendering against a golden file: the SPEC's layout (sorted attributes, unchanged
// ones summarised, "# forces replacement", the totals line), unknown and sensitive values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderPlan } from '../../../cli/views/plan-view.js';
import { makeStyle } from '../../../cli/views/style.js';
import type { Change, Plan } from '../../../plan-engine/plan/model.js';
import { newState } from '../../../state/model.js';
import { UNKNOWN } from '../../../plan-engine/values.js';

const GOLDEN = fileURLToPath(new URL('../../../../test/fixtures/plan-render/expected.txt', import.meta.url));

const base = { host: 'host.local', dependencies: [], sensitivePaths: [], replacePaths: [], createBeforeDestroy: false };
const changes: Change[] = [
  {
    ...base,
    address: 'container.web',
    type: 'container',
    name: 'web',
    action: 'update',
    before: { resources: { memory: '200M', cpus: 1 }, image: 'img', env: { TZ: 'UTC' }, id: 'c1' },
    after: { resources: { memory: '256M', cpus: 1 }, image: 'img', env: { TZ: 'UTC' }, id: 'c1' },
  },
  {
    ...base,
    address: 'network.front',
    type: 'network',
    name: 'front',
    action: 'delete-then-create',
    reason: 'cannot-update',
    replacePaths: ['subnet'],
    before: { subnet: '172.18.0.0/24', mtu: 1500, id: 'tsi-fron-2d8d69' },
    after: { subnet: '172.19.0.0/24', mtu: 1500, id: 'tsi-fron-2d8d69' },
  },
  {
    ...base,
    address: 'tsinfra_data.token[0]',
    type: 'tsinfra_data',
    name: 'token',
    index: 0,
    action: 'create',
    sensitivePaths: ['input', 'output'],
    before: null,
    after: { input: 'secret', output: 'secret', id: UNKNOWN, triggers_replace: null },
  },
  {
    ...base,
    address: 'network.old',
    type: 'network',
    name: 'old',
    action: 'delete',
    reason: 'no-config',
    before: { subnet: '10.0.0.0/24', id: 'tsi-old-1' },
    after: null,
  },
];

const plan: Plan = {
  mode: 'normal',
  changes,
  outputs: [{ name: 'ip', action: 'create', before: undefined, after: UNKNOWN, sensitive: false }],
  drift: [],
  priorState: newState('test'),
  stateLineage: 'l',
  stateSerial: 1,
  configHash: 'h',
  configDir: '/x',
  variables: {},
  sensitiveVariables: [],
  targets: [],
  replace: [],
  diagnostics: [],
};

test('plan rendering matches the golden file', () => {
  const text = renderPlan(plan, makeStyle(false));
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(GOLDEN, text);
  assert.equal(text, readFileSync(GOLDEN, 'utf8'));
  assert.doesNotMatch(text, /secret/);
});
