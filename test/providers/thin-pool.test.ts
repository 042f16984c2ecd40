// The thin_pool provider: sizes resolved from a given storage inventory ("50%VG",
// "100%FREE" less the metadata volumes, bytes in whole extents), "100%FREE" kept once
// created, the re-plan during apply keeping what the plan resolved, shrinking refused
// with both sizes, chunk and metadata sizes checked, usage observed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { thinPoolProvider } from '../../providers/thin-pool.js';
import { changedAttributes } from '../../plan-engine/plan/diff.js';
import { isUnknown, type ValueObject } from '../../plan-engine/values.js';
import type { HostStorage } from '../../providers/storage-model.js';
import { thinPoolOverheadBytes } from '../../providers/storage-values.js';
import { planOne, resourceHcl } from './provider-harness.js';
import { EXTENT, GiB, group, hostStorage, MiB } from './storage-fixture.js';

const plan = (body: string, prior: ValueObject | null = null, storage?: HostStorage) =>
  planOne(thinPoolProvider, resourceHcl('thin_pool', 'pool', `  volume_group = "vg0"\n${body}`), 'thin_pool.pool', prior, storage ? { storage } : {});

const vg0 = (size: number, free: number) => hostStorage({ volume_groups: [group('vg0', size, free)] });

const recorded = (size: string, sizeBytes: number, extra: ValueObject = {}): ValueObject => ({
  volume_group: 'vg0',
  name: 'pool',
  size,
  size_bytes: sizeBytes,
  chunk_size: null,
  metadata_size: null,
  overcommit_ratio: 2,
  id: 'vg0/pool',
  data_percent: 12.5,
  metadata_percent: 3.1,
  ...extra,
});

describe('thin_pool provider', () => {
  test('size is required and must be a size or a share of the group, at its line', async () => {
    const missing = await plan('');
    assert.equal(missing.diagnostics[0]?.code, 'E_MISSING_ATTRIBUTE');
    const bad = await plan('  size = "lots"');
    assert.equal(bad.diagnostics[0]?.code, 'E_INVALID_SIZE');
    assert.match(bad.diagnostics[0]!.summary, /50%VG or 100%FREE/);
    assert.equal(bad.diagnostics[0]!.range?.start.line, 8);
    const over = await plan('  size = "150%VG"');
    assert.equal(over.diagnostics[0]?.code, 'E_INVALID_SIZE');
  });

  test('the id is VG/NAME; usage is known after apply; the ratio defaults to 2', async () => {
    const r = await plan('  size = "1G"');
    assert.deepEqual(r.diagnostics, []);
    const after = r.change!.after!;
    assert.equal(after['id'], 'vg0/pool');
    assert.equal(after['size'], '1G');
    assert.equal(after['size_bytes'], GiB);
    assert.equal(after['overcommit_ratio'], 2);
    assert.ok(isUnknown(after['data_percent']));
  });

  test('"50%VG" resolves against the group; without the host storage it is known after apply', async () => {
    const r = await plan('  size = "50%VG"', null, vg0(10 * GiB, 10 * GiB));
    assert.equal(r.change!.after!['size_bytes'], 5 * GiB);
    assert.deepEqual(thinPoolProvider.valueNotes!(r.change!.after!), { size: '5 GiB', size_bytes: '5 GiB' });
    const blind = await plan('  size = "50%VG"');
    assert.ok(isUnknown(blind.change!.after!['size_bytes']));
  });

  test('"100%FREE" leaves room for the metadata volume and its spare, as lvcreate does', async () => {
    const r = await plan('  size = "100%FREE"', null, vg0(10 * GiB, 6 * GiB));
    const overhead = thinPoolOverheadBytes(6 * GiB, EXTENT);
    assert.equal(overhead, 2 * 8 * MiB);
    assert.equal(r.change!.after!['size_bytes'], 6 * GiB - overhead);
  });

  test('"100%FREE" keeps its size once created (the free space it took is gone)', async () => {
    const prior = recorded('100%FREE', 6 * GiB);
    const r = await plan('  size = "100%FREE"', prior, vg0(10 * GiB, 0));
    assert.equal(r.change!.action, 'no-op');
  });

  test('during apply, a re-plan without the host storage keeps the size the plan resolved', async () => {
    const planned = recorded('50%VG', 5 * GiB, { data_percent: null });
    const after = thinPoolProvider.plan({ volume_group: 'vg0', size: '50%VG' }, null, {
      address: 'thin_pool.pool',
      name: 'pool',
      instanceKey: undefined,
      host: 'host.local',
      planned,
    });
    assert.equal(after['size_bytes'], 5 * GiB);
  });

  test('growing updates in place; shrinking is refused with both sizes, at the size line', async () => {
    const prior = recorded('2G', 2 * GiB);
    const grow = await plan('  size = "3G"', prior);
    assert.deepEqual(grow.diagnostics, []);
    assert.equal(grow.change!.action, 'update');
    const shrink = await plan('  size = "1G"', prior);
    assert.equal(shrink.diagnostics[0]?.code, 'E_SHRINK_REFUSED');
    assert.match(shrink.diagnostics[0]!.summary, /Shrinking thin pool vg0\/pool from 2 GiB to 1 GiB is refused/);
    assert.equal(shrink.diagnostics[0]!.range?.start.line, 8);
  });

  test("chunk and metadata sizes are checked against lvm2's limits and kept in canonical form", async () => {
    const chunk = await plan('  size = "1G"\n  chunk_size = "32K"');
    assert.equal(chunk.diagnostics[0]?.code, 'E_INVALID_SIZE');
    assert.match(chunk.diagnostics[0]!.summary, /chunk_size/);
    const meta = await plan('  size = "1G"\n  metadata_size = "1M"');
    assert.equal(meta.diagnostics[0]?.code, 'E_INVALID_SIZE');
    const ok = await plan('  size = "1G"\n  chunk_size = 131072\n  metadata_size = "0.5G"');
    assert.deepEqual(ok.diagnostics, []);
    assert.equal(ok.change!.after!['chunk_size'], '128K');
    assert.equal(ok.change!.after!['metadata_size'], '512M');
  });

  test('names are checked: reserved by LVM or by tsinfra', async () => {
    const lvm = await plan('  size = "1G"\n  name = "pool_tmeta"');
    assert.equal(lvm.diagnostics[0]?.code, 'E_INVALID_NAME');
    const ours = await plan('  size = "1G"\n  name = "tsi-pool"');
    assert.equal(ours.diagnostics[0]?.code, 'E_INVALID_NAME');
    assert.match(ours.diagnostics[0]!.summary, /tsi-/);
  });

  test('usage is observed: never a change', () => {
    const prior = recorded('1G', GiB);
    assert.deepEqual(changedAttributes(prior, { ...prior, data_percent: 80, metadata_percent: 9 }, thinPoolProvider), []);
  });
});
