// Staging mounts of volume filesystems on the host (agent/storage/lv-mount.ts), on the
// real kernel: an ext4 filesystem on a loop device stands in for a logical volume (this
// machine has no device-mapper; the VM tier runs the same code on real LVs).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureMounted, isMountPoint, mountArguments, mountPointOf, mountTable, unmountIfMounted, volumeBackingOf } from '../../../agent/storage/lv-mount.js';
import { lvDevicePath, rootfsLvName } from '../../../agent/storage/container-volumes.js';
import { MS } from '../../../agent/runtime/libc.js';

describe('mount options and names', () => {
  test('flag options become mount(2) flags, defaults vanish, the rest is filesystem data', () => {
    assert.deepEqual(mountArguments([]), { flags: 0, data: null });
    assert.deepEqual(mountArguments(['noatime', 'rw', 'discard', 'ro', 'commit=30']), { flags: MS.NOATIME | MS.RDONLY, data: 'discard,commit=30' });
  });

  test('mountinfo lines, with escaped spaces in mount points', () => {
    const t = mountTable('36 35 254:3 / /run/tsinfra/lv/vg0/my\\040data rw,noatime shared:1 - ext4 /dev/mapper/vg0-data rw\n');
    assert.deepEqual(t, [{ device: '254:3', mountPoint: '/run/tsinfra/lv/vg0/my data' }]);
  });

  test('LV ids and device paths', () => {
    for (const bad of ['vg0', 'vg0/a/b', '../x', 'vg0/..', 'vg0/']) assert.throws(() => lvDevicePath(bad, 'source'), /source/);
    assert.equal(lvDevicePath('vg0/raw', 'device[0].source'), '/dev/vg0/raw');
    assert.equal(lvDevicePath('/dev/sdb', 'x'), '/dev/sdb');
    assert.equal(rootfsLvName('0123456789abcdef'), 'tsi-rootfs-0123456789abcdef');
  });
});

describe('staging mounts on a real filesystem', () => {
  let work: string;
  let loop: string | undefined;
  let other: string | undefined;

  const makeLoop = (name: string) => {
    const file = join(work, name);
    execFileSync('truncate', ['-s', '16M', file]);
    execFileSync('mkfs.ext4', ['-q', '-F', file]);
    return execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
  };

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'tsinfra-lv-mount-'));
    loop = makeLoop('a.img');
    other = makeLoop('b.img');
  });
  after(() => {
    for (const dir of [join(work, 'stage'), join(work, 'stage2')]) spawnSync('umount', [dir]);
    for (const dev of [loop, other]) if (dev) spawnSync('losetup', ['-d', dev]);
    rmSync(work, { recursive: true, force: true });
  });

  test('ensureMounted mounts once, with the options; another device on the same directory is refused', () => {
    const dir = join(work, 'stage');
    ensureMounted(loop!, dir, 'ext4', ['noatime']);
    assert.ok(isMountPoint(dir));
    assert.equal(mountPointOf(loop!), dir);
    ensureMounted(loop!, dir, 'ext4', ['noatime']);
    assert.equal(mountTable().filter((m) => m.mountPoint === dir).length, 1, 'mounted once');
    assert.match(execFileSync('findmnt', ['-n', '-o', 'OPTIONS', dir], { encoding: 'utf8' }), /noatime/);
    assert.throws(() => ensureMounted(other!, dir, 'ext4', []), /already has another filesystem mounted/);
    assert.throws(() => ensureMounted(other!, join(work, 'stage2'), 'xfs', []), /cannot mount .* \(xfs\)/);
  });

  test('unmountIfMounted unmounts, and is a no-op on a plain directory', () => {
    const dir = join(work, 'stage');
    unmountIfMounted(dir);
    assert.ok(!isMountPoint(dir));
    unmountIfMounted(dir);
    assert.equal(mountPointOf(loop!), undefined);
  });

  test("a thin volume's marker names its device; a directory volume has none", () => {
    const path = join(work, 'vol');
    assert.equal(volumeBackingOf(path), undefined);
    writeFileSync(`${path}.lv`, JSON.stringify({ device: '/dev/vg0/tsi-vol-cache', fs_type: 'ext4' }));
    assert.deepEqual(volumeBackingOf(path), { device: '/dev/vg0/tsi-vol-cache', fs_type: 'ext4' });
    writeFileSync(`${path}.lv`, JSON.stringify({ device: 1 }));
    assert.throws(() => volumeBackingOf(path), /does not describe a logical volume/);
  });
});
