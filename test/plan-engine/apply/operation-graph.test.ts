// The apply operation graph: creates and updates after their dependencies, deletes in
// reverse (dependents first), and replacements ordered by create_before_destroy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOperationGraph } from '../../../plan-engine/apply/apply.js';
import type { Change } from '../../../plan-engine/plan/model.js';
import type { Action } from '../../../plan-engine/plan/action.js';

function change(address: string, action: Action, dependencies: string[] = []): Change {
  const [type, name] = address.split('.') as [string, string];
  return {
    address,
    type,
    name,
    host: 'host.h',
    action,
    before: {},
    after: {},
    replacePaths: [],
    sensitivePaths: [],
    dependencies,
    createBeforeDestroy: action === 'create-then-delete',
  };
}

function order(changes: Change[]): string[] {
  return buildOperationGraph(changes)
    .topologicalOrder()
    .map((n) => n.key);
}

function before(list: string[], a: string, b: string): boolean {
  return list.indexOf(a) >= 0 && list.indexOf(a) < list.indexOf(b);
}

test('creates and updates run after what they depend on', () => {
  const o = order([change('c.app', 'create', ['n.net']), change('n.net', 'create'), change('v.vol', 'update')]);
  assert.ok(before(o, 'n.net#create', 'c.app#create'));
  assert.equal(o.length, 3);
});

test('deletes run in reverse: dependents first', () => {
  const o = order([change('n.net', 'delete'), change('c.app', 'delete', ['n.net'])]);
  assert.deepEqual(o, ['c.app#delete', 'n.net#delete']);
});

test('delete-then-create deletes first; create-then-delete creates first', () => {
  assert.deepEqual(order([change('n.net', 'delete-then-create')]), ['n.net#delete', 'n.net#create']);
  assert.deepEqual(order([change('n.net', 'create-then-delete')]), ['n.net#create', 'n.net#delete']);
});

test('a replaced dependency is recreated before its dependents are created', () => {
  const o = order([change('n.net', 'delete-then-create'), change('c.app', 'delete-then-create', ['n.net'])]);
  assert.ok(before(o, 'c.app#delete', 'n.net#delete'), o.join(' '));
  assert.ok(before(o, 'n.net#create', 'c.app#create'), o.join(' '));
});

test('no-op changes are not operations', () => {
  assert.deepEqual(order([change('n.net', 'no-op'), change('c.app', 'create', ['n.net'])]), ['c.app#create']);
});

test('a dependency removed for good is deleted after the update that stops using it', () => {
  const user: Change = { ...change('c.app', 'update'), priorDependencies: ['n.net'] };
  assert.deepEqual(order([change('n.net', 'delete'), user]), ['c.app#update', 'n.net#delete']);
});
