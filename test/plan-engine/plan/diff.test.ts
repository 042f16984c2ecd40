// Which attributes changed: unknown computed attributes alone are no change; nested
// values compare structurally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { changedAttributes } from '../../../plan-engine/plan/diff.js';
import { networkProvider } from '../../../providers/network.js';
import { tsinfraDataProvider } from '../../../providers/tsinfra-data.js';
import { UNKNOWN } from '../../../plan-engine/values.js';

test('equal values, including nested ones, are no change', () => {
  assert.deepEqual(changedAttributes({ a: { b: [1, 2] }, c: 'x' }, { a: { b: [1, 2] }, c: 'x' }, networkProvider), []);
});

test('changed, added and removed attributes are listed, sorted', () => {
  assert.deepEqual(changedAttributes({ mtu: 1500, nat: true, gone: 1 }, { mtu: 1400, nat: true, added: 2 }, networkProvider), ['added', 'gone', 'mtu']);
});

test('a computed attribute that is still unknown is not a change by itself', () => {
  assert.deepEqual(changedAttributes({ id: 'x', input: 1 }, { id: UNKNOWN, input: 1 }, tsinfraDataProvider), []);
});

test('an unknown configuration attribute may change, so it counts', () => {
  assert.deepEqual(changedAttributes({ id: 'x', input: 1 }, { id: 'x', input: UNKNOWN }, tsinfraDataProvider), ['input']);
});

test('null and absent are the same', () => {
  assert.deepEqual(changedAttributes({ ip_range: null }, {}, networkProvider), []);
});
