// A visit of the apply walk throws only for a bug (failures are diagnostics). Such a throw
// must end the apply loudly: it once passed as "Apply complete! Resources: 0 added" with
// exit code 0, the operation neither counted as done nor as failed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPlan } from '../../../plan-engine/apply/apply.js';
import type { Plan } from '../../../plan-engine/plan/model.js';
import type { SessionPool } from '../../../plan-engine/plan/refresh.js';
import type { Backend } from '../../../state/backend.js';
import { newState, type State } from '../../../state/model.js';
import { StateWriter } from '../../../state/state-writer.js';

test('a bug in an operation fails the apply instead of passing as nothing done', async () => {
  const written: State[] = [];
  const backend = { readState: async () => null, writeState: async (s: State) => void written.push(s) } as unknown as Backend;
  const state = newState('test');
  const plan: Plan = {
    mode: 'normal',
    changes: [
      {
        address: 'network.front',
        type: 'network',
        name: 'front',
        host: 'host.h',
        action: 'create',
        before: null,
        after: { name: 'front', driver: 'bridge', subnet: '10.77.0.0/24' },
        replacePaths: [],
        sensitivePaths: [],
        dependencies: [],
        createBeforeDestroy: false,
      },
    ],
    outputs: [],
    drift: [],
    priorState: state,
    stateLineage: state.lineage,
    stateSerial: 0,
    configHash: '',
    configDir: '/nonexistent',
    variables: {},
    sensitiveVariables: [],
    targets: [],
    replace: [],
    diagnostics: [],
  };
  const sessions = { session: () => Promise.reject(new Error('unreachable')), close: async () => undefined, parallelism: 1 } as unknown as SessionPool;
  // No evaluation context: the provider's need of one to reach the host is a bug check.
  await assert.rejects(
    applyPlan(plan, undefined, undefined, new StateWriter(backend, null), sessions, { parallelism: 1 }),
    /bug: apply needs the evaluation context/,
  );
});
