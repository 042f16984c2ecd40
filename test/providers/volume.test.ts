// The volume provider: name defaults and checks, thin pools and sizes refused for now,
// the id known at plan time, nothing updatable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { volumeProvider } from '../../providers/volume.js';
import { isUnknown } from '../../plan-engine/values.js';
import { planOne, resourceHcl } from './provider-harness.js';

const plan = (body: string, name = 'cache', prior: Record<string, never> | null = null) =>
  planOne(volumeProvider, resourceHcl('volume', name, body), `volume.${name}`, prior);

describe('volume provider', () => {
  test('the name defaults to the resource name; the id is the name, known at plan time', async () => {
    const r = await plan('');
    assert.deepEqual(r.diagnostics, []);
    const after = r.change!.after!;
    assert.equal(after['name'], 'cache');
    assert.equal(after['id'], 'cache');
    assert.ok(isUnknown(after['path']));
    assert.equal(after['size'], null);
    assert.equal(after['thin_pool'], null);
  });

  test('an explicit name must be safe', async () => {
    const r = await plan('  name = "../etc"');
    assert.equal(r.diagnostics[0]?.code, 'E_INVALID_VALUE');
    assert.match(r.diagnostics[0]!.summary, /name/);
  });

  test('thin pools and size quotas are refused until LVM support', async () => {
    const thin = await plan('  thin_pool = "vg/pool"\n  size = "1G"');
    assert.deepEqual(
      thin.diagnostics.map((d) => d.code),
      ['E_UNSUPPORTED'],
    );
    assert.match(thin.diagnostics[0]!.summary, /thin-pool volumes come with LVM support/);
    const sized = await plan('  size = "1G"');
    assert.deepEqual(
      sized.diagnostics.map((d) => d.code),
      ['E_UNSUPPORTED'],
    );
    const bad = await plan('  size = "big"');
    assert.equal(bad.diagnostics[0]?.code, 'E_INVALID_SIZE');
  });

  test('a recorded volume plans no change; a new name replaces it', async () => {
    const prior = { name: 'cache', size: null, thin_pool: null, id: 'cache', path: '/var/lib/tsinfra/volumes/cache' };
    const same = await planOne(volumeProvider, resourceHcl('volume', 'cache', ''), 'volume.cache', prior);
    assert.equal(same.change!.action, 'no-op');
    const renamed = await planOne(volumeProvider, resourceHcl('volume', 'cache', '  name = "cache2"'), 'volume.cache', prior);
    assert.equal(renamed.change!.action, 'delete-then-create');
    assert.deepEqual(renamed.change!.replacePaths, ['id', 'name']);
  });
});
