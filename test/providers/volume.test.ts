// The volume provider: name defaults and checks, thin-pool volumes (a size required, the
// pool id checked) and size quotas refused for directories, the id known at plan time,
// nothing updatable.
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

  test('a thin-pool volume needs a size and a VG/POOL id; directories take no size quota', async () => {
    const thin = await plan('  thin_pool = "vg/pool"\n  size = "1024M"');
    assert.deepEqual(thin.diagnostics, []);
    assert.equal(thin.change!.after!['thin_pool'], 'vg/pool');
    assert.equal(thin.change!.after!['size'], '1G');
    assert.equal(thin.change!.after!['id'], 'cache');
    const unsized = await plan('  thin_pool = "vg/pool"');
    assert.deepEqual(
      unsized.diagnostics.map((d) => d.code),
      ['E_MISSING_ATTRIBUTE'],
    );
    const badPool = await plan('  thin_pool = "vg/pool/x"\n  size = "1G"');
    assert.equal(badPool.diagnostics[0]?.code, 'E_INVALID_VALUE');
    assert.equal(badPool.diagnostics[0]!.range?.start.line, 7);
    const described = volumeProvider.storage!.describe(thin.change!.after!, undefined);
    assert.deepEqual(described, {
      kind: 'volume',
      id: 'vg/tsi-vol-cache',
      thin: true,
      pool: 'vg/pool',
      sizeBytes: 1024 * 1024 * 1024,
      sizePath: ['size'],
      requires: [{ kind: 'pool', id: 'vg/pool', path: ['thin_pool'] }],
    });
    assert.equal(volumeProvider.storage!.describe({ name: 'cache', size: null, thin_pool: null, id: 'cache', path: '/x' }, undefined), undefined);
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
