// LVM storage end to end, through the CLI (the VM tier: the guest has device-mapper,
// dm-thin and an empty disk /dev/vdb = /dev/disk/by-id/virtio-lvmdata). One
// configuration grows step by step: a group on the disk, a 1G thin pool, a 2G thin
// volume with ext4 mounted in a running container and grown to 3G while it runs, a
// snapshot, containers with a 64M rootfs quota, a raw LV as /dev/sde with a write
// throttle; then the refusals (shrink, a plan that does not fit, prevent_destroy),
// import and drift of a hand-made LV, and a destroy that leaves nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { attrs, buildTestImage, containerLab, type ContainerLab } from '../cli/container-lab.js';
import { tsinfra } from '../cli/cli-harness.js';

const DISK = '/dev/disk/by-id/virtio-lvmdata';
const VG = 'tsitvg';

interface Step {
  dataSize: string;
  snapshot?: boolean;
  quota?: boolean;
  huge?: boolean;
  handmade?: string;
  preventDestroy?: boolean;
}

function config(netns: string, image: string, s: Step): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}
resource "volume_group" "vg" {
  host             = host.lab
  name             = "${VG}"
  physical_volumes = ["${DISK}"]
}
resource "thin_pool" "pool" {
  host         = host.lab
  volume_group = volume_group.vg.id
  size         = "1G"
}
resource "logical_volume" "data" {
  host         = host.lab
  thin_pool    = thin_pool.pool.id
  virtual_size = "${s.dataSize}"
  filesystem { type = "ext4" }
  ${s.preventDestroy ? 'lifecycle { prevent_destroy = true }' : ''}
}
resource "logical_volume" "raw" {
  host         = host.lab
  volume_group = volume_group.vg.id
  size         = "64M"
}
${
  s.snapshot
    ? `resource "logical_volume" "data_snap" {
  host        = host.lab
  snapshot_of = logical_volume.data.id
}`
    : ''
}
${
  s.huge
    ? `resource "logical_volume" "huge" {
  host         = host.lab
  volume_group = volume_group.vg.id
  size         = "10G"
}`
    : ''
}
${
  s.handmade
    ? `resource "logical_volume" "handmade" {
  host         = host.lab
  volume_group = volume_group.vg.id
  name         = "handmade"
  size         = "${s.handmade}"
}`
    : ''
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
resource "container" "app" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sleep", "3600"]
  mount {
    type   = "logical_volume"
    source = logical_volume.data.id
    target = "/data"
  }
}
resource "container" "raw" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sleep", "3600"]
  device {
    source = logical_volume.raw.id
    target = "/dev/sde"
  }
  resources {
    device_write_bps = { "${VG}/raw" = "1M" }
  }
}
${
  s.quota
    ? `resource "container" "small" {
  host             = host.lab
  image            = image.busybox.id
  command          = ["sleep", "3600"]
  rootfs_size      = "64M"
  rootfs_thin_pool = thin_pool.pool.id
}
resource "container" "writer" {
  host             = host.lab
  image            = image.busybox.id
  command          = ["sleep", "3600"]
  rootfs_size      = "64M"
  rootfs_thin_pool = thin_pool.pool.id
}`
    : ''
}
`;
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

/** The group's LVs by name, with sizes in bytes. */
function lvs(): Map<string, number> {
  const out = spawnSync('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_name,lv_size', VG], { encoding: 'utf8' });
  if (out.status !== 0) return new Map();
  return new Map(
    out.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/))
      .map(([n, b]) => [n!, Number(b)]),
  );
}

const GiB = 1024 ** 3;

/** The size column of `df -k` (busybox wraps a long device name onto its own line). */
function totalKb(df: string): number {
  const m = /(\d+)\s+\d+\s+\d+\s+\d+%/.exec(df);
  assert.ok(m, df);
  return Number(m[1]);
}

describe('LVM storage through the CLI (VM tier)', () => {
  let lab: ContainerLab;
  let image: string;
  const apply = async (s: Step) => {
    await lab.cfg.write('main.hcl', config(lab.netns, image, s));
    return tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
  };
  const exec = (address: string, ...cmd: string[]) => tsinfra(['exec', address, '--dir', lab.cfg.dir, '--', ...cmd], { env: lab.env });

  before(async () => {
    assert.ok(statSync(DISK).isBlockDevice(), 'this test runs in the VM tier, which has an empty data disk (scripts/vm-tests.sh)');
    lab = await containerLab();
    image = process.env['TSINFRA_TEST_IMAGE'] ?? (await buildTestImage(lab.scratch));
  });
  after(async () => {
    if (lab) {
      await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G' }));
      await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env }).catch(() => undefined);
      await lab.close();
    }
    // Whatever a failed step left: no LVM object of this test survives it.
    spawnSync('vgremove', ['--yes', VG]);
    spawnSync('pvremove', ['--yes', DISK]);
  });

  test('first apply: group, pool, thin LV with ext4 mounted in a container, raw LV as a device', async () => {
    const r = await apply({ dataSize: '2G' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const have = lvs();
    assert.ok(have.has('pool'), [...have.keys()].join(','));
    assert.equal(have.get('data'), 2 * GiB);
    assert.equal(have.get('raw'), 64 * 1024 * 1024);
    const df = await exec('container.app', 'df', '-k', '/data');
    assert.equal(df.code, 0, df.stderr);
    const kb = totalKb(df.stdout);
    assert.ok(kb > 1.8 * 1024 * 1024 && kb <= 2 * 1024 * 1024, `df: ${df.stdout}`);
    const w = await exec('container.app', 'sh', '-c', 'echo kept > /data/file && cat /data/file');
    assert.equal(w.stdout.trim(), 'kept', w.stderr);
  });

  test('growing the thin LV grows its filesystem while the container runs', async () => {
    const pid = attrs(lab.cfg.dir, 'container.app')['pid'];
    const plan = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(plan.stdout, /No changes/, plan.stdout + plan.stderr);
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G' }));
    const p2 = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(p2.stdout, /logical_volume\.data will be updated in place/, p2.stdout + p2.stderr);
    assert.match(p2.stdout, /Plan: 0 to add, 1 to change, 0 to destroy/);
    const r = await apply({ dataSize: '3G' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(attrs(lab.cfg.dir, 'container.app')['pid'], pid, 'the container kept running');
    assert.equal(lvs().get('data'), 3 * GiB);
    const df = await exec('container.app', 'df', '-k', '/data');
    const kb = totalKb(df.stdout);
    assert.ok(kb > 2.7 * 1024 * 1024, `df after the grow: ${df.stdout}`);
    assert.equal((await exec('container.app', 'cat', '/data/file')).stdout.trim(), 'kept');
  });

  test('a snapshot of the thin LV', async () => {
    const r = await apply({ dataSize: '3G', snapshot: true });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const origin = sh('lvs', ['--noheadings', '-o', 'origin', `${VG}/data_snap`]).trim();
    assert.equal(origin, 'data');
  });

  test('rootfs_size: a container that writes past its quota gets ENOSPC, the other keeps writing', async () => {
    const r = await apply({ dataSize: '3G', snapshot: true, quota: true });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const small = attrs(lab.cfg.dir, 'container.small')['id'] as string;
    assert.ok(lvs().has(`tsi-rootfs-${small}`), [...lvs().keys()].join(','));
    const hostFreeBefore = Number(sh('df', ['-k', '--output=avail', '/']).trim().split('\n').pop());
    const full = await exec('container.small', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=100');
    assert.notEqual(full.code, 0, 'the 100M write must fail');
    assert.match(full.stderr + full.stdout, /No space left on device/);
    const other = await exec('container.writer', 'sh', '-c', 'dd if=/dev/zero of=/f bs=1M count=20 2>&1 && sync && ls -l /f');
    assert.equal(other.code, 0, other.stderr + other.stdout);
    assert.match(other.stdout, /20971520/);
    const hostFreeAfter = Number(sh('df', ['-k', '--output=avail', '/']).trim().split('\n').pop());
    assert.ok(hostFreeBefore - hostFreeAfter < 20 * 1024, `the host's disk did not take the writes (${hostFreeBefore} -> ${hostFreeAfter} KiB)`);
  });

  test('the raw LV is /dev/sde in its container, writable, throttled, and the only extra device it may use', async (t) => {
    // 4 MiB of direct writes, timed inside the container (busybox time: "real\t0m 4.01s").
    const w = await exec('container.raw', 'time', 'dd', 'if=/dev/zero', 'of=/dev/sde', 'bs=64k', 'count=64', 'oflag=direct');
    assert.equal(w.code, 0, w.stderr + w.stdout);
    const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(w.stderr + w.stdout);
    assert.ok(m, w.stderr + w.stdout);
    const rate = (4 * 1024 * 1024) / (Number(m[1]) * 60 + Number(m[2]));
    t.diagnostic(`direct writes to /dev/sde: ${(rate / 1024).toFixed(0)} KiB/s (limit 1024 KiB/s)`);
    assert.ok(Math.abs(rate - 1024 * 1024) <= 0.2 * 1024 * 1024, `write rate ${(rate / 1024).toFixed(0)} KiB/s against a limit of 1024 KiB/s`);
    const vdb = statSync('/dev/vdb');
    const major = Math.floor(vdb.rdev / 256);
    const minor = vdb.rdev % 256;
    const other = await exec('container.raw', 'sh', '-c', `mknod /tmp/disk b ${major} ${minor} && head -c 1 /tmp/disk`);
    assert.notEqual(other.code, 0, 'the whole disk is not in its device allow-list');
  });

  test('shrinking is refused, and so is a plan that does not fit, before anything changes', async () => {
    const before = lvs();
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '1G', snapshot: true, quota: true }));
    const shrink = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.equal(shrink.code, 1, shrink.stdout + shrink.stderr);
    assert.match(shrink.stderr, /shrink/i);
    assert.match(shrink.stderr, /main\.hcl/);
    const huge = await apply({ dataSize: '3G', snapshot: true, quota: true, huge: true });
    assert.equal(huge.code, 1, huge.stdout + huge.stderr);
    assert.match(huge.stderr, new RegExp(`volume group ${VG} has .* free; this plan needs 10 GiB`));
    assert.deepEqual(lvs(), before, 'nothing changed');
  });

  test('import of a hand-made LV, and drift when it is resized or removed by hand', async () => {
    sh('lvcreate', ['--yes', '-L', '32M', '-n', 'handmade', VG]);
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G', snapshot: true, quota: true, handmade: '32M' }));
    const imp = await tsinfra(['import', 'logical_volume.handmade', `${VG}/handmade`, '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal(imp.code, 0, imp.stdout + imp.stderr);
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    sh('lvextend', ['--yes', '-L', '40M', `${VG}/handmade`]);
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G', snapshot: true, quota: true, handmade: '40M' }));
    const resized = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.match(resized.stdout, /logical_volume\.handmade has changed/, resized.stdout + resized.stderr);
    assert.match(resized.stdout, /size_bytes\s+=\s+33554432 -> 41943040/);
    sh('lvremove', ['--yes', `${VG}/handmade`]);
    const removed = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(removed.stdout, /logical_volume\.handmade has been deleted/, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /logical_volume\.handmade will be created/);
  });

  test('prevent_destroy holds; destroy leaves no LV, no device-mapper device and no mount', async () => {
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G', snapshot: true, quota: true, preventDestroy: true }));
    const refused = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /prevent_destroy/);
    assert.ok(lvs().has('data'));
    await lab.cfg.write('main.hcl', config(lab.netns, image, { dataSize: '3G', snapshot: true, quota: true }));
    const r = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(spawnSync('vgs', [VG]).status, 5, 'the volume group is gone');
    assert.doesNotMatch(sh('dmsetup', ['ls']), new RegExp(VG));
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`/dev/mapper/${VG}|/lv/${VG}/`));
  });
});
