import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResourceAddr } from '../../plan-engine/addresses.js';
import {
  cloneState,
  findResource,
  moveResource,
  newState,
  removeResource,
  statesEqual,
  upsertResource,
  type ResourceInstanceState,
} from '../../state/model.js';
import { sampleState } from './sample-state.js';

function inst(address: string, type: string, name: string, index?: number | string): ResourceInstanceState {
  const r: ResourceInstanceState = {
    address,
    type,
    name,
    host: 'host.local',
    attributes: {},
    sensitivePaths: [],
    dependencies: [],
    status: 'ready',
  };
  if (index !== undefined) r.index = index;
  return r;
}

describe('state model', () => {
  test('newState has a fresh lineage, serial 0 and the current format version', () => {
    const a = newState('1.2.3');
    const b = newState('1.2.3');
    assert.equal(a.serial, 0);
    assert.equal(a.version, 1);
    assert.equal(a.tsinfraVersion, '1.2.3');
    assert.match(a.lineage, /^[0-9a-f-]{36}$/);
    assert.notEqual(a.lineage, b.lineage);
  });

  test('upsert keeps resources sorted by address and replaces by address', () => {
    const s = newState('t');
    upsertResource(s, inst('network.b[10]', 'network', 'b', 10));
    upsertResource(s, inst('network.b[2]', 'network', 'b', 2));
    upsertResource(s, inst('container.a', 'container', 'a'));
    assert.deepEqual(
      s.resources.map((r) => r.address),
      ['container.a', 'network.b[2]', 'network.b[10]'],
    );
    upsertResource(s, { ...inst('network.b[2]', 'network', 'b', 2), status: 'tainted' });
    assert.equal(s.resources.length, 3);
    assert.equal(findResource(s, 'network.b[2]')?.status, 'tainted');
    assert.equal(findResource(s, new ResourceAddr('network', 'b').instance(10))?.index, 10);
  });

  test('remove returns the removed instance, or undefined', () => {
    const s = sampleState();
    assert.equal(removeResource(s, 'image.nginx')?.type, 'image');
    assert.equal(removeResource(s, 'image.nginx'), undefined);
    assert.equal(findResource(s, 'image.nginx'), undefined);
  });

  test('move renames one instance and updates dependencies on it', () => {
    const s = sampleState();
    assert.deepEqual(moveResource(s, 'network.front[0]', 'network.back'), []);
    assert.equal(findResource(s, 'network.front[0]'), undefined);
    const moved = findResource(s, 'network.back');
    assert.equal(moved?.name, 'back');
    assert.equal(moved && 'index' in moved, false);
    assert.deepEqual(findResource(s, 'container.web["a"]')?.dependencies, ['network.back']);
  });

  test('move of a resource address moves all its instances, keys kept', () => {
    const s = newState('t');
    upsertResource(s, inst('container.old[0]', 'container', 'old', 0));
    upsertResource(s, inst('container.old[1]', 'container', 'old', 1));
    assert.deepEqual(moveResource(s, 'container.old', 'container.new'), []);
    assert.deepEqual(
      s.resources.map((r) => [r.address, r.name, r.index]),
      [
        ['container.new[0]', 'new', 0],
        ['container.new[1]', 'new', 1],
      ],
    );
  });

  test('move refuses a missing source, an existing target, another type and bad addresses', () => {
    const s = sampleState();
    const before = cloneState(s);
    assert.equal(moveResource(s, 'network.nope', 'network.x')[0]?.code, 'E_STATE_MOVE_SOURCE_MISSING');
    assert.equal(moveResource(s, 'network.front[0]', 'image.nginx')[0]?.code, 'E_STATE_MOVE_TYPE_MISMATCH');
    upsertResource(s, inst('image.other', 'image', 'other'));
    assert.equal(moveResource(s, 'image.nginx', 'image.other')[0]?.code, 'E_STATE_MOVE_TARGET_EXISTS');
    assert.equal(moveResource(s, 'not an address', 'image.x')[0]?.code, 'E_STATE_MOVE_INVALID_ADDRESS');
    removeResource(s, 'image.other');
    assert.ok(statesEqual(s, before), 'a refused move changes nothing');
  });

  test('statesEqual ignores serial and key order, sees content changes', () => {
    const a = sampleState();
    const b = cloneState(a);
    b.serial = 42;
    b.tsinfraVersion = '9.9.9';
    b.resources.reverse();
    assert.ok(statesEqual(a, b));
    const c = cloneState(a);
    (c.resources[0]!.attributes as Record<string, unknown>)['new'] = 1;
    assert.ok(!statesEqual(a, c));
    const d = cloneState(a);
    d.outputs['web_ip']!.sensitive = true;
    assert.ok(!statesEqual(a, d));
    const e = cloneState(a);
    e.lineage = newState('t').lineage;
    assert.ok(!statesEqual(a, e));
  });

  test('cloneState is deep', () => {
    const a = sampleState();
    const b = cloneState(a);
    (b.resources[0]!.attributes as Record<string, unknown>)['x'] = 1;
    assert.ok(!('x' in a.resources[0]!.attributes));
  });
});
