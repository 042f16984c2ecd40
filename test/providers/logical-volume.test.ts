// The logical_volume provider: the three kinds (linear, thin, snapshot) and their
// attribute rules, sizes resolved to whole extents from a given storage inventory,
// filesystem type forcing replacement while its label updates in place, shrinking
// refused (without allow_shrink, and for xfs), names checked.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { logicalVolumeProvider } from '../../providers/logical-volume.js';
import { isUnknown, type ValueObject } from '../../plan-engine/values.js';
import type { HostStorage } from '../../providers/storage-model.js';
import { renderChange } from '../../cli/views/plan-view.js';
import type { Style } from '../../cli/views/style.js';
import { planOne, resourceHcl } from './provider-harness.js';
import { GiB, group, hostStorage, MiB, volume } from './storage-fixture.js';

const plan = (body: string, prior: ValueObject | null = null, storage?: HostStorage) =>
  planOne(logicalVolumeProvider, resourceHcl('logical_volume', 'data', body), 'logical_volume.data', prior, storage ? { storage } : {});

const linear = (size: string, sizeBytes: number, extra: ValueObject = {}): ValueObject => ({
  volume_group: 'vg0',
  thin_pool: null,
  name: 'data',
  size,
  virtual_size: null,
  size_bytes: sizeBytes,
  filesystem: { type: 'ext4', label: null, mount_options: [] },
  snapshot_of: null,
  allow_shrink: false,
  id: 'vg0/data',
  path: '/dev/vg0/data',
  ...extra,
});

const ext4 = '  filesystem {\n    type = "ext4"\n  }';

describe('logical_volume provider', () => {
  test('a percentage not resolved (a plan without refresh) is refused before the agent is asked', async () => {
    const planned = logicalVolumeProvider.plan({ volume_group: 'vg0', size: '50%VG' }, null, {
      address: 'logical_volume.data',
      name: 'data',
      instanceKey: undefined,
      host: 'host.h',
    });
    assert.ok(isUnknown(planned['size_bytes']));
    await assert.rejects(
      logicalVolumeProvider.apply({ action: 'create', address: 'logical_volume.data', prior: null, planned }, undefined),
      (e: Error & { code?: string }) => e.code === 'E_SIZE_UNKNOWN' && /"50%VG".*--refresh=false/.test(e.message),
    );
  });

  test('a linear volume: id and path known at plan time, bytes rounded up to whole extents', async () => {
    const r = await plan('  volume_group = "vg0"\n  size = "10M"');
    assert.deepEqual(r.diagnostics, []);
    const after = r.change!.after!;
    assert.equal(after['id'], 'vg0/data');
    assert.equal(after['path'], '/dev/vg0/data');
    assert.equal(after['size'], '10M');
    assert.equal(after['size_bytes'], 12 * MiB);
    assert.equal(after['filesystem'], null);
    assert.equal(after['thin_pool'], null);
    assert.equal(after['allow_shrink'], false);
  });

  test('"50%VG" and "25%FREE" resolve against the group as refresh saw it, and the plan shows both', async () => {
    const storage = hostStorage({ volume_groups: [group('vg0', 10 * GiB, 4 * GiB)] });
    const vg = await plan('  volume_group = "vg0"\n  size = "50%VG"', null, storage);
    assert.equal(vg.change!.after!['size_bytes'], 5 * GiB);
    assert.equal(logicalVolumeProvider.valueNotes!(vg.change!.after!)['size'], '5 GiB');
    const free = await plan('  volume_group = "vg0"\n  size = "25%FREE"', null, storage);
    assert.equal(free.change!.after!['size_bytes'], GiB);
    const blind = await plan('  volume_group = "vg0"\n  size = "50%VG"');
    assert.ok(isUnknown(blind.change!.after!['size_bytes']));
  });

  test('an existing volume changed to "100%FREE" takes the free space and its own', async () => {
    const storage = hostStorage({ volume_groups: [group('vg0', 10 * GiB, 4 * GiB)] });
    const r = await plan('  volume_group = "vg0"\n  size = "100%FREE"\n' + ext4, linear('2G', 2 * GiB), storage);
    assert.equal(r.change!.action, 'update');
    assert.equal(r.change!.after!['size_bytes'], 6 * GiB);
  });

  test('"50%VG" follows the group: a grown group grows the volume in place', async () => {
    const storage = hostStorage({ volume_groups: [group('vg0', 12 * GiB, 7 * GiB)] });
    const r = await plan('  volume_group = "vg0"\n  size = "50%VG"\n' + ext4, linear('50%VG', 5 * GiB), storage);
    assert.equal(r.change!.action, 'update');
    assert.equal(r.change!.after!['size_bytes'], 6 * GiB);
  });

  test('which attributes go together: each kind needs its own, and nothing of another', async () => {
    const nothing = await plan('');
    assert.deepEqual(
      nothing.diagnostics.map((d) => d.code),
      ['E_MISSING_ATTRIBUTE', 'E_MISSING_ATTRIBUTE'],
    );
    const thin = await plan('  thin_pool = "vg0/pool"\n  size = "1G"');
    assert.deepEqual(
      thin.diagnostics.map((d) => [d.code, d.range?.start.line]),
      [
        // Missing: at the block; present in conflict: at its line.
        ['E_MISSING_ATTRIBUTE', 5],
        ['E_CONFLICT', 8],
      ],
    );
    const virtual = await plan('  volume_group = "vg0"\n  size = "1G"\n  virtual_size = "2G"');
    assert.equal(virtual.diagnostics[0]?.code, 'E_CONFLICT');
    assert.match(virtual.diagnostics[0]!.summary, /virtual_size is for thin volumes/);
    const otherGroup = await plan('  thin_pool = "vg0/pool"\n  virtual_size = "1G"\n  volume_group = "vg1"');
    assert.equal(otherGroup.diagnostics[0]?.code, 'E_CONFLICT');
    const badPool = await plan('  thin_pool = "pool"\n  virtual_size = "1G"');
    assert.equal(badPool.diagnostics[0]?.code, 'E_INVALID_VALUE');
    assert.match(badPool.diagnostics[0]!.summary, /VG\/NAME/);
  });

  test("a thin volume lives in its pool's group; its size is the virtual size", async () => {
    const r = await plan('  thin_pool = "vg0/pool"\n  virtual_size = "2G"');
    assert.deepEqual(r.diagnostics, []);
    const after = r.change!.after!;
    assert.equal(after['volume_group'], 'vg0');
    assert.equal(after['virtual_size'], '2G');
    assert.equal(after['size'], null);
    assert.equal(after['size_bytes'], 2 * GiB);
    assert.equal(after['id'], 'vg0/data');
  });

  test("snapshots: of a thin volume as large as it, of a linear one only with a size; a filesystem block describes the origin's", async () => {
    const storage = hostStorage({
      volume_groups: [group('vg0', 10 * GiB, 4 * GiB)],
      logical_volumes: [volume('vg0/pool', 'thin-pool', 4 * GiB), volume('vg0/thin', 'thin', 3 * GiB, 'pool'), volume('vg0/lin', 'linear', GiB)],
    });
    const thin = await plan('  snapshot_of = "vg0/thin"', null, storage);
    assert.deepEqual(thin.diagnostics, []);
    assert.equal(thin.change!.after!['size_bytes'], 3 * GiB);
    assert.equal(thin.change!.after!['volume_group'], 'vg0');
    const lin = await plan('  snapshot_of = "vg0/lin"', null, storage);
    assert.equal(lin.diagnostics[0]?.code, 'E_MISSING_ATTRIBUTE');
    assert.match(lin.diagnostics[0]!.summary, /copy-on-write/);
    const cow = await plan('  snapshot_of = "vg0/lin"\n  size = "256M"', null, storage);
    assert.deepEqual(cow.diagnostics, []);
    assert.equal(cow.change!.after!['size_bytes'], 256 * MiB);
    const fs = await plan('  snapshot_of = "vg0/thin"\n' + ext4, null, storage);
    assert.deepEqual(fs.diagnostics, []);
    assert.equal((fs.change!.after!['filesystem'] as ValueObject)['type'], 'ext4');
  });

  test('a filesystem type change or a filesystem block added replaces the volume; a label changes in place', async () => {
    const prior = linear('1G', GiB);
    const xfs = await plan('  volume_group = "vg0"\n  size = "1G"\n  filesystem {\n    type = "xfs"\n  }', prior);
    assert.equal(xfs.change!.action, 'delete-then-create');
    assert.deepEqual(xfs.change!.replacePaths, ['filesystem.type']);
    const id = (t: string) => t;
    const shown = renderChange(xfs.change!, { bold: id, dim: id, red: id, green: id, yellow: id } as Style);
    assert.match(shown, /~ filesystem\.type = "ext4" -> "xfs" # forces replacement\n/);
    assert.doesNotMatch(shown, /size.*forces/);
    const added = await plan('  volume_group = "vg0"\n  size = "1G"\n' + ext4, linear('1G', GiB, { filesystem: null }));
    assert.equal(added.change!.action, 'delete-then-create');
    const label = await plan('  volume_group = "vg0"\n  size = "1G"\n  filesystem {\n    type  = "ext4"\n    label = "data"\n  }', prior);
    assert.equal(label.change!.action, 'update');
    assert.deepEqual((label.change!.after!['filesystem'] as ValueObject)['label'], 'data');
  });

  test('shrinking is refused without allow_shrink (both sizes, at the size line) and always for xfs', async () => {
    const refused = await plan('  volume_group = "vg0"\n  size = "2G"\n' + ext4, linear('3G', 3 * GiB));
    assert.equal(refused.diagnostics[0]?.code, 'E_SHRINK_REFUSED');
    assert.match(refused.diagnostics[0]!.summary, /Shrinking logical volume vg0\/data from 3 GiB to 2 GiB is refused/);
    assert.match(refused.diagnostics[0]!.detail!, /allow_shrink = true/);
    assert.equal(refused.diagnostics[0]!.range?.start.line, 8);
    const allowed = await plan('  volume_group = "vg0"\n  size = "2G"\n  allow_shrink = true\n' + ext4, linear('3G', 3 * GiB));
    assert.deepEqual(allowed.diagnostics, []);
    assert.equal(allowed.change!.action, 'update');
    const xfsPrior = linear('3G', 3 * GiB, { filesystem: { type: 'xfs', label: null, mount_options: [] } });
    const xfs = await plan('  volume_group = "vg0"\n  size = "2G"\n  allow_shrink = true\n  filesystem {\n    type = "xfs"\n  }', xfsPrior);
    assert.equal(xfs.diagnostics[0]?.code, 'E_SHRINK_UNSUPPORTED');
    assert.match(xfs.diagnostics[0]!.summary, /xfs filesystems cannot shrink/);
  });

  test('names, labels and mount options are checked at their line', async () => {
    const reserved = await plan('  volume_group = "vg0"\n  size = "1G"\n  name = "snapshot-1"');
    assert.equal(reserved.diagnostics[0]?.code, 'E_INVALID_NAME');
    assert.equal(reserved.diagnostics[0]!.range?.start.line, 9);
    const label = await plan('  volume_group = "vg0"\n  size = "1G"\n  filesystem {\n    type  = "xfs"\n    label = "much-too-long"\n  }');
    assert.equal(label.diagnostics[0]?.code, 'E_INVALID_VALUE');
    assert.equal(label.diagnostics[0]!.range?.start.line, 11);
    const options = await plan('  volume_group = "vg0"\n  size = "1G"\n  filesystem {\n    type          = "ext4"\n    mount_options = ["noatime,nodev"]\n  }');
    assert.equal(options.diagnostics[0]?.code, 'E_INVALID_VALUE');
    const fsType = await plan('  volume_group = "vg0"\n  size = "1G"\n  filesystem {\n    type = "btrfs"\n  }');
    assert.equal(fsType.diagnostics[0]?.code, 'E_INVALID_VALUE');
  });
});
