// The volume_group provider: schema and name errors at their line, the group's size
// from its devices (given a storage inventory), devices refused (missing, holding a
// filesystem, in another group), PV removal refused without allow_remove_pv, free
// space observed (never a change).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { volumeGroupProvider } from '../../providers/volume-group.js';
import { changedAttributes } from '../../plan-engine/plan/diff.js';
import { isUnknown, type ValueObject } from '../../plan-engine/values.js';
import type { HostStorage } from '../../providers/storage-model.js';
import { planOne, resourceHcl } from './provider-harness.js';
import { device, GiB, group, hostStorage, pvBytes } from './storage-fixture.js';

const plan = (body: string, prior: ValueObject | null = null, storage?: HostStorage) =>
  planOne(volumeGroupProvider, resourceHcl('volume_group', 'vg0', body), 'volume_group.vg0', prior, storage ? { storage } : {});

const recorded = (devices: string[], sizeBytes: number, extra: ValueObject = {}): ValueObject => ({
  name: 'vg0',
  physical_volumes: devices,
  allow_remove_pv: false,
  id: 'vg0',
  size_bytes: sizeBytes,
  free_bytes: 1 * GiB,
  extent_bytes: 4 * 1024 * 1024,
  ...extra,
});

describe('volume_group provider', () => {
  test('physical_volumes is required and must be device paths, reported at the line', async () => {
    const missing = await plan('');
    assert.equal(missing.diagnostics[0]?.code, 'E_MISSING_ATTRIBUTE');
    assert.match(missing.diagnostics[0]!.summary, /physical_volumes/);
    const bad = await plan('  physical_volumes = ["vdb"]');
    assert.equal(bad.diagnostics[0]?.code, 'E_INVALID_VALUE');
    assert.match(bad.diagnostics[0]!.summary, /device path/);
    assert.equal(bad.diagnostics[0]!.range?.start.line, 7);
    assert.match(bad.diagnostics[0]!.range!.file, /main\.hcl$/);
  });

  test('the name defaults to the resource name and must be a valid LVM name', async () => {
    const r = await plan('  physical_volumes = ["/dev/vdb"]');
    assert.deepEqual(r.diagnostics, []);
    const after = r.change!.after!;
    assert.equal(after['name'], 'vg0');
    assert.equal(after['id'], 'vg0');
    assert.equal(after['allow_remove_pv'], false);
    const bad = await plan('  physical_volumes = ["/dev/vdb"]\n  name = "a/b"');
    assert.equal(bad.diagnostics[0]?.code, 'E_INVALID_NAME');
    assert.equal(bad.diagnostics[0]!.range?.start.line, 8);
  });

  test('without the host storage (no refresh), a new group size is known after apply', async () => {
    const r = await plan('  physical_volumes = ["/dev/vdb"]');
    const after = r.change!.after!;
    assert.ok(isUnknown(after['size_bytes']));
    assert.ok(isUnknown(after['free_bytes']));
    assert.equal(after['extent_bytes'], 4 * 1024 * 1024);
  });

  test('a new group is as large as its devices laid out in extents; /dev/disk links name devices too', async () => {
    const storage = hostStorage({
      block_devices: [device('/dev/vdb', 10 * GiB, { aliases: ['/dev/disk/by-id/virtio-data'] }), device('/dev/vdc', 3 * GiB + 123)],
    });
    const r = await plan('  physical_volumes = ["/dev/disk/by-id/virtio-data", "/dev/vdc"]', null, storage);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.change!.after!['size_bytes'], pvBytes(10 * GiB) + pvBytes(3 * GiB + 123));
    assert.deepEqual(r.change!.after!['physical_volumes'], ['/dev/disk/by-id/virtio-data', '/dev/vdc']);
  });

  test('a missing device, one holding a filesystem, and a PV of another group are refused at their line', async () => {
    const storage = hostStorage({
      block_devices: [device('/dev/vdb', GiB, { fs_type: 'ext4' }), device('/dev/vdc', GiB, { fs_type: 'LVM2_member', vg: 'other' })],
    });
    const r = await plan('  physical_volumes = [\n    "/dev/vdb",\n    "/dev/vdc",\n    "/dev/vdd",\n  ]', null, storage);
    const codes = r.diagnostics.map((d) => [d.code, d.summary]);
    assert.deepEqual(
      codes.map(([c]) => c),
      ['E_DEVICE_IN_USE', 'E_DEVICE_IN_USE', 'E_DEVICE_NOT_FOUND'],
    );
    assert.match(r.diagnostics[0]!.summary, /\/dev\/vdb on host\.local holds a ext4 signature/);
    assert.match(r.diagnostics[0]!.detail!, /never wipes/);
    assert.match(r.diagnostics[1]!.summary, /physical volume of volume group other/);
    assert.match(r.diagnostics[2]!.summary, /Device \/dev\/vdd does not exist on host\.local/);
    for (const d of r.diagnostics) assert.equal(d.range?.start.line, 7);
    assert.equal(r.change, undefined);
  });

  test('a PV of this group, or of no group, is fine; the same device twice is refused', async () => {
    const storage = hostStorage({
      block_devices: [
        device('/dev/vdb', GiB, { fs_type: 'LVM2_member', vg: 'vg0' }),
        device('/dev/vdc', GiB, { fs_type: 'LVM2_member', vg: '', aliases: ['/dev/disk/by-id/c'] }),
      ],
    });
    const ok = await plan('  physical_volumes = ["/dev/vdb", "/dev/vdc"]', null, storage);
    assert.deepEqual(ok.diagnostics, []);
    const twice = await plan('  physical_volumes = ["/dev/vdc", "/dev/disk/by-id/c"]', null, storage);
    assert.equal(twice.diagnostics[0]?.code, 'E_DUPLICATE_DEVICE');
  });

  test('adding a device grows the group in place by its extents', async () => {
    const storage = hostStorage({
      volume_groups: [group('vg0', pvBytes(10 * GiB), 2 * GiB, ['/dev/vdb'])],
      block_devices: [device('/dev/vdb', 10 * GiB, { fs_type: 'LVM2_member', vg: 'vg0' }), device('/dev/vdc', 5 * GiB)],
    });
    const prior = recorded(['/dev/vdb'], pvBytes(10 * GiB));
    const r = await plan('  physical_volumes = ["/dev/vdb", "/dev/vdc"]', prior, storage);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.change!.action, 'update');
    assert.equal(r.change!.after!['size_bytes'], pvBytes(10 * GiB) + pvBytes(5 * GiB));
    // Free space is what the host reports, not planned.
    assert.equal(r.change!.after!['free_bytes'], GiB);
  });

  test('removing a device is refused without allow_remove_pv, at the line, and planned in place with it', async () => {
    const prior = recorded(['/dev/vdb', '/dev/vdc'], 14 * GiB);
    const refused = await plan('  physical_volumes = ["/dev/vdb"]', prior);
    assert.equal(refused.diagnostics[0]?.code, 'E_PV_REMOVAL_REFUSED');
    assert.match(refused.diagnostics[0]!.summary, /Removing \/dev\/vdc from volume group vg0 is refused/);
    assert.match(refused.diagnostics[0]!.detail!, /allow_remove_pv = true/);
    assert.equal(refused.diagnostics[0]!.range?.start.line, 7);
    const allowed = await plan('  physical_volumes = ["/dev/vdb"]\n  allow_remove_pv = true', prior);
    assert.deepEqual(allowed.diagnostics, []);
    assert.equal(allowed.change!.action, 'update');
    // Without the host's devices, a new spelling may name the old device: only a sure removal is refused.
    const respelled = await plan('  physical_volumes = ["/dev/vdb", "/dev/disk/by-id/c"]', prior);
    assert.deepEqual(respelled.diagnostics, []);
  });

  test('the same device under another name is not a removal', async () => {
    const storage = hostStorage({
      volume_groups: [group('vg0', pvBytes(10 * GiB), 2 * GiB, ['/dev/vdb'])],
      block_devices: [device('/dev/vdb', 10 * GiB, { fs_type: 'LVM2_member', vg: 'vg0', aliases: ['/dev/disk/by-id/b'] })],
    });
    const r = await plan('  physical_volumes = ["/dev/disk/by-id/b"]', recorded(['/dev/vdb'], pvBytes(10 * GiB)), storage);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.change!.action, 'update');
    assert.equal(r.change!.after!['size_bytes'], pvBytes(10 * GiB));
  });

  test('free space is observed: a new value is never a change; a new name replaces the group', async () => {
    assert.deepEqual(changedAttributes(recorded(['/dev/vdb'], 10), recorded(['/dev/vdb'], 10, { free_bytes: 5 }), volumeGroupProvider), []);
    const prior = recorded(['/dev/vdb'], 10 * GiB);
    const same = await plan('  physical_volumes = ["/dev/vdb"]', prior);
    assert.equal(same.change!.action, 'no-op');
    const renamed = await plan('  physical_volumes = ["/dev/vdb"]\n  name = "vg1"', prior);
    assert.equal(renamed.change!.action, 'delete-then-create');
    assert.deepEqual(renamed.change!.replacePaths, ['id', 'name']);
  });

  test('notes show byte sizes in units', () => {
    assert.deepEqual(volumeGroupProvider.valueNotes!(recorded(['/dev/vdb'], 10 * GiB)), {
      size_bytes: '10 GiB',
      free_bytes: '1 GiB',
      extent_bytes: '4 MiB',
    });
  });
});
