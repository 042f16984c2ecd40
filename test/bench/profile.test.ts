import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeProfile } from '../../bench/profile.js';

// root -> main -> (plan -> render), main -> parse; samples: render x2, parse x1, main x1.
const profile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
    { id: 2, callFrame: { functionName: 'main', url: 'file:///repo/dist/cli/run.js', lineNumber: 0 }, children: [3, 5] },
    { id: 3, callFrame: { functionName: 'plan', url: 'file:///repo/dist/plan.js', lineNumber: 9 }, children: [4] },
    { id: 4, callFrame: { functionName: 'render', url: 'file:///repo/dist/view.js', lineNumber: 4 } },
    { id: 5, callFrame: { functionName: 'parse', url: 'file:///repo/dist/parse.js', lineNumber: 1 } },
  ],
  startTime: 0,
  endTime: 4000,
  samples: [4, 4, 5, 2],
  timeDeltas: [1000, 1000, 1000, 1000],
};

describe('CPU profile summary', () => {
  test('self and inclusive time per function, self time per file', () => {
    const s = summarizeProfile(profile, 'p.cpuprofile', '/repo');
    assert.equal(s.durationMs, 4);
    const fn = (name: string) => s.functions.find((f) => f.label.startsWith(name))!;
    assert.deepEqual([fn('render').selfMs, fn('render').totalMs], [2, 2]);
    assert.deepEqual([fn('plan').selfMs, fn('plan').totalMs], [0, 2]);
    assert.deepEqual([fn('main').selfMs, fn('main').totalMs], [1, 4]);
    assert.equal(fn('render').label, 'render (dist/view.js:5)');
    assert.deepEqual(s.files[0], { file: 'dist/view.js', selfMs: 2 });
    assert.deepEqual([fn('parse').firstMs, fn('parse').lastMs], [3, 3]);
    assert.deepEqual([fn('main').firstMs, fn('main').lastMs], [1, 4]);
  });
});
