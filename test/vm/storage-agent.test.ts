// VM tier: the agent's LVM handlers (volume_group, thin_pool, logical_volume, thin-pool
// volume) driven in-process against the guest's empty test disk /dev/vdb (reached by its
// /dev/disk/by-id alias), with real lvm2, dm-thin, e2fsprogs and xfsprogs. Loop devices
// stand in for a second disk and for a disk that holds a filesystem. It runs only in the
// VM tier; anywhere else it fails and says so:
//
//   npm run build && SHARE_RW=1 TIMEOUT=1500 ../shared/vm/run-in-vm.sh env TSINFRA_CACHE=0 \
//     node --test --test-concurrency=1 dist/test/vm/storage-agent.test.js
//
// Everything it makes (mounts, volumes, groups, PVs, loop devices) is removed in after(),
// also when a test failed. Step times are printed at the end (TCG: seconds, not ms).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentLog } from '../../agent/log.js';
import { isAgentFailure } from '../../agent/rpc/failure.js';
import type { ResourceState } from '../../agent/rpc/protocol.js';
import type { ResourceHandler } from '../../agent/resources/registry.js';
import { Filesystems } from '../../agent/storage/filesystem.js';
import { LogicalVolumeResource } from '../../agent/storage/logical-volume-resource.js';
import { isMountPoint } from '../../agent/storage/lv-mount.js';
import { Lvm } from '../../agent/storage/lvm.js';
import { ThinPoolResource } from '../../agent/storage/thin-pool-resource.js';
import { ThinVolumes } from '../../agent/storage/thin-volume.js';
import { VolumeDirectory } from '../../agent/storage/volume-directory.js';
import { VolumeGroupResource } from '../../agent/storage/volume-group-resource.js';
import { ProcessRunner } from '../../agent/system/command.js';

const DISK_BY_ID = '/dev/disk/by-id/virtio-lvmdata';
const VG = 'tsitvg';
const OTHER_VG = 'tsitother';
const MiB = 1024 * 1024;
const notVm = `this test runs only in the VM tier, on its empty test disk ${DISK_BY_ID} (see the header of test/vm/storage-agent.test.ts)`;

/** Records what the handlers log: every changing command with its argv. */
class RecordingLog implements AgentLog {
  readonly commands: string[][] = [];
  readonly warnings: string[] = [];
  info(): void {}
  warn(m: string): void {
    this.warnings.push(m);
  }
  error(m: string): void {
    this.warnings.push(m);
  }
  command(argv: readonly string[]): void {
    this.commands.push([...argv]);
  }
  since(mark: number): string[] {
    return this.commands.slice(mark).map((a) => a.join(' '));
  }
}

const progress = () => {};

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Cleanup: never throws, so one leftover does not stop the rest being removed. */
function quietly(argv: string[]): void {
  spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
}

async function rejectsWith(p: Promise<unknown>, code: string, ...says: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const s of says) assert.match(e.message, s);
    message = e.message;
    return true;
  });
  return message;
}

function lvSize(id: string): number {
  return Number(sh(['lvs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'lv_size', id]).trim());
}

function filesystemBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.blocks * st.bsize;
}

function blkid(device: string): Record<string, string> {
  const out = spawnSync('blkid', ['-p', '-o', 'export', device], { encoding: 'utf8' }).stdout;
  return Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const timings: [string, number][] = [];
async function timed<T>(label: string, body: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await body();
  } finally {
    timings.push([label, performance.now() - start]);
  }
}

const lvPlanned = (name: string, over: Partial<Record<string, unknown>>): ResourceState => ({
  volume_group: VG,
  thin_pool: null,
  name,
  size: null,
  virtual_size: null,
  size_bytes: null,
  filesystem: null,
  snapshot_of: null,
  allow_shrink: false,
  id: '(known after apply)',
  path: '(known after apply)',
  ...over,
});

describe('LVM storage handlers (VM tier)', () => {
  const work = mkdtempSync(join(tmpdir(), 'tsit-storage-'));
  const stateDir = join(work, 'state');
  const log = new RecordingLog();
  const runner = new ProcessRunner(log);
  const lvm = new Lvm(runner);
  const filesystems = new Filesystems(runner);
  const groups: ResourceHandler = new VolumeGroupResource(lvm, log);
  const pools: ResourceHandler = new ThinPoolResource(lvm);
  const volumes: ResourceHandler = new LogicalVolumeResource(lvm, filesystems, log, stateDir);
  const thinVolumes: ResourceHandler = new VolumeDirectory(stateDir, new ThinVolumes(lvm, filesystems, log));
  const loops: string[] = [];
  const mounts: string[] = [];

  /** A loop device over a sparse file of `mib` MiB, detached in after(). */
  function loopDevice(mib: number): string {
    const file = join(work, `loop${loops.length}.img`);
    sh(['truncate', '-s', `${mib}M`, file]);
    const dev = sh(['losetup', '-f', '--show', file]).trim();
    loops.push(dev);
    return dev;
  }

  function mountAt(device: string, name: string): string {
    const dir = join(work, name);
    sh(['mkdir', '-p', dir]);
    sh(['mount', device, dir]);
    mounts.push(dir);
    return dir;
  }

  function unmount(dir: string): void {
    sh(['umount', dir]);
  }

  before(() => {
    assert.ok(existsSync(DISK_BY_ID), notVm);
    assert.equal(realpathSync(DISK_BY_ID), '/dev/vdb', notVm);
  });

  after(() => {
    // Whatever a failed test left: mounts first (deepest first), then volumes, groups, labels, loops.
    const mounted = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(work));
    for (const m of [...new Set([...mounted, ...mounts])].sort().reverse()) quietly(['umount', '-l', m]);
    for (const vg of [VG, OTHER_VG]) {
      quietly(['lvremove', '-y', vg]);
      quietly(['vgremove', '-y', vg]);
    }
    for (const dev of ['/dev/vdb', ...loops]) quietly(['pvremove', '-y', dev]);
    for (const dev of loops) quietly(['losetup', '-d', dev]);
    rmSync(work, { recursive: true, force: true });
    const left = spawnSync('vgs', ['--noheadings', '-o', 'vg_name'], { encoding: 'utf8' }).stdout.trim();
    console.log(`# leftover volume groups after cleanup: ${left || 'none'}`);
    console.log('# step times (qemu TCG guest):');
    for (const [label, ms] of timings) console.log(`#   ${label.padEnd(62)} ${(ms / 1000).toFixed(2)} s`);
  });

  test('names are checked before any command runs', async () => {
    const mark = log.commands.length;
    await rejectsWith(groups.apply('create', null, { name: 'a/b', physical_volumes: [DISK_BY_ID] }, progress, 'volume_group.x'), 'E_LVM_NAME', /a\/b/);
    await rejectsWith(volumes.apply('create', null, lvPlanned('../etc', { size_bytes: 8 * MiB }), progress, 'logical_volume.x'), 'E_LVM_NAME', /\.\.\/etc/);
    await rejectsWith(volumes.apply('create', null, lvPlanned('data_tmeta', { size_bytes: 8 * MiB }), progress, 'logical_volume.x'), 'E_LVM_NAME', /_tmeta/);
    await rejectsWith(volumes.import('vg0/a/b'), 'E_LVM_NAME');
    assert.deepEqual(log.since(mark), []);
  });

  test('a device that holds a filesystem is refused and left as it was', async () => {
    const dev = loopDevice(64);
    sh(['mkfs.ext4', '-q', '-L', 'keepme', dev]);
    const mark = log.commands.length;
    await timed('refuse a device with ext4 on it', () =>
      rejectsWith(
        groups.apply('create', null, { name: OTHER_VG, physical_volumes: [dev], allow_remove_pv: false }, progress, 'volume_group.other'),
        'E_LVM_DEVICE',
        new RegExp(dev),
        /ext4/,
        /keepme/,
        /never wipes/,
      ),
    );
    assert.deepEqual(log.since(mark), [], 'nothing was run that changes the host');
    assert.equal(blkid(dev)['TYPE'], 'ext4');
    assert.equal(blkid(dev)['LABEL'], 'keepme');
  });

  let group: ResourceState;
  test('a group on a /dev/disk/by-id path; another group cannot take its device', async () => {
    const mark = log.commands.length;
    group = (await timed('volume group create (pvcreate + vgcreate)', () =>
      groups.apply(
        'create',
        null,
        { name: VG, physical_volumes: [DISK_BY_ID], allow_remove_pv: false, id: VG, size_bytes: '(known after apply)' },
        progress,
        'volume_group.vg',
      ),
    ))!;
    assert.deepEqual(log.since(mark), ['pvcreate /dev/vdb', `vgcreate ${VG} /dev/vdb`]);
    assert.deepEqual(group['physical_volumes'], [DISK_BY_ID], 'the configured path is kept');
    assert.equal(group['id'], VG);
    assert.equal(group['extent_bytes'], 4 * MiB);
    assert.equal(group['size_bytes'], 4 * 1024 * MiB - 4 * MiB, 'a 4 GiB disk less the PV header, in whole extents');
    assert.equal(group['free_bytes'], group['size_bytes']);
    assert.deepEqual(await groups.read(group), group, 'read agrees with apply');
    const imported = await groups.import(VG);
    assert.deepEqual(imported?.['physical_volumes'], ['/dev/vdb']);
    assert.equal(await groups.import('tsitnothere'), null);
    await rejectsWith(
      groups.apply('create', null, { name: OTHER_VG, physical_volumes: ['/dev/vdb'], allow_remove_pv: false }, progress, 'volume_group.other'),
      'E_LVM_DEVICE',
      new RegExp(`physical volume of volume group ${VG}`),
    );
    await rejectsWith(groups.apply('create', null, group, progress, 'volume_group.vg'), 'E_LVM_EXISTS', /tsinfra import/);
  });

  test('adding a device grows the group in place; removing it needs allow_remove_pv, then pvmove moves its data', async () => {
    const second = loopDevice(128);
    const before = group['size_bytes'] as number;
    const grown = (await timed('add a PV (pvcreate + vgextend)', () =>
      groups.apply('update', group, { ...group, physical_volumes: [DISK_BY_ID, second] }, progress, 'volume_group.vg'),
    ))!;
    assert.deepEqual(grown['physical_volumes'], [DISK_BY_ID, second]);
    assert.equal(grown['size_bytes'], before + 124 * MiB);
    // A volume with extents on the second device: they must move before it leaves.
    sh(['lvcreate', '-L', '8m', '-n', 'onloop', '-Wy', '-Zy', '--yes', VG, second]);
    const back = { ...grown, physical_volumes: [DISK_BY_ID] };
    await rejectsWith(groups.apply('update', grown, back, progress, 'volume_group.vg'), 'E_LVM_PV_REMOVE', /allow_remove_pv = true/, new RegExp(second));
    const mark = log.commands.length;
    const shrunk = (await timed('remove a PV holding 8 MiB (pvmove + vgreduce + pvremove)', () =>
      groups.apply('update', grown, { ...back, allow_remove_pv: true }, progress, 'volume_group.vg'),
    ))!;
    assert.deepEqual(log.since(mark), [`pvmove -i 2 ${second}`, `vgreduce ${VG} ${second}`, `pvremove ${second}`]);
    assert.deepEqual(shrunk['physical_volumes'], [DISK_BY_ID]);
    assert.equal(shrunk['size_bytes'], before);
    assert.equal(lvSize(`${VG}/onloop`), 8 * MiB, 'the volume survived the move');
    sh(['lvremove', '-y', `${VG}/onloop`]);
    group = { ...shrunk, allow_remove_pv: false };
  });

  let pool: ResourceState;
  test('a thin pool with chunk and metadata size; grown in place; usage reported; no shrinking', async () => {
    const planned = {
      volume_group: VG,
      name: 'pool',
      size: '1G',
      size_bytes: 1024 * MiB,
      chunk_size: '64K',
      metadata_size: '8M',
      overcommit_ratio: 2,
      id: `${VG}/pool`,
      data_percent: '(known after apply)',
      metadata_percent: '(known after apply)',
    };
    const mark = log.commands.length;
    pool = (await timed('thin pool create (1 GiB)', () => pools.apply('create', null, planned, progress, 'thin_pool.pool')))!;
    assert.deepEqual(log.since(mark), [`lvcreate --type thin-pool -L ${1024 * MiB}b -n pool --chunksize 64k --poolmetadatasize 8192k --yes ${VG}`]);
    assert.equal(pool['size_bytes'], 1024 * MiB);
    assert.equal(pool['chunk_size'], '64K');
    assert.equal(pool['metadata_size'], '8M');
    assert.equal(pool['id'], `${VG}/pool`);
    assert.equal(typeof pool['data_percent'], 'number');
    assert.equal(typeof pool['metadata_percent'], 'number');
    const grown = (await timed('thin pool grow to 1.25 GiB', () =>
      pools.apply('update', pool, { ...pool, size: '1280M', size_bytes: 1280 * MiB }, progress, 'thin_pool.pool'),
    ))!;
    assert.equal(grown['size_bytes'], 1280 * MiB);
    await rejectsWith(
      pools.apply('update', grown, { ...grown, size_bytes: 1024 * MiB }, progress, 'thin_pool.pool'),
      'E_LVM_SHRINK',
      /cannot shrink a thin pool/,
    );
    const imported = await pools.import(`${VG}/pool`);
    assert.deepEqual(
      { ...imported, data_percent: 0, metadata_percent: 0 },
      { ...grown, size: '1280M', overcommit_ratio: 2, data_percent: 0, metadata_percent: 0 },
    );
    pool = grown;
  });

  let data: ResourceState;
  let dataDir = '';
  test('a thin volume with ext4: made once with its label, grown online while mounted', async () => {
    const planned = lvPlanned('data', {
      thin_pool: `${VG}/pool`,
      virtual_size: '256M',
      size_bytes: 256 * MiB,
      filesystem: { type: 'ext4', label: 'tsidata', mount_options: ['noatime'] },
    });
    data = (await timed('thin LV create + mkfs.ext4 (256 MiB)', () => volumes.apply('create', null, planned, progress, 'logical_volume.data')))!;
    assert.deepEqual(data, {
      ...planned,
      id: `${VG}/data`,
      path: `/dev/${VG}/data`,
    });
    assert.equal(blkid(`/dev/${VG}/data`)['LABEL'], 'tsidata');
    assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'logical-volumes', VG, 'data.json'), 'utf8')), { fs_type: 'ext4', mount_options: ['noatime'] });
    dataDir = mountAt(`/dev/${VG}/data`, 'data');
    writeFileSync(join(dataDir, 'kept'), 'still here');
    const before = filesystemBytes(dataDir);
    const grown = (await timed('thin LV grow 256 -> 384 MiB, ext4 online (mounted)', () =>
      volumes.apply('update', data, { ...data, virtual_size: '384M', size_bytes: 384 * MiB }, progress, 'logical_volume.data'),
    ))!;
    assert.equal(grown['size_bytes'], 384 * MiB);
    assert.equal(lvSize(`${VG}/data`), 384 * MiB);
    const after = filesystemBytes(dataDir);
    assert.ok(after > before + 110 * MiB, `the mounted filesystem grew by the 128 MiB less ext4's own: ${before} -> ${after}`);
    assert.equal(readFileSync(join(dataDir, 'kept'), 'utf8'), 'still here');
    data = grown;
  });

  test('an open volume is not deleted, not shrunk; shrinking needs allow_shrink and never goes below the filesystem', async () => {
    await rejectsWith(volumes.apply('delete', data, null, progress, 'logical_volume.data'), 'E_LVM_IN_USE', new RegExp(`${VG}/data`), /mounted at/);
    await rejectsWith(
      volumes.apply('update', data, { ...data, size_bytes: 256 * MiB }, progress, 'logical_volume.data'),
      'E_LVM_SHRINK',
      /allow_shrink = true/,
      /384 MiB/,
      /256 MiB/,
    );
    await rejectsWith(
      volumes.apply('update', data, { ...data, size_bytes: 256 * MiB, allow_shrink: true }, progress, 'logical_volume.data'),
      'E_LVM_IN_USE',
      /mounted at/,
    );
    // 48 MiB of data: a 32 MiB volume cannot hold it.
    sh(['dd', 'if=/dev/urandom', `of=${join(dataDir, 'big')}`, 'bs=1M', 'count=48', 'status=none']);
    unmount(dataDir);
    const message = await timed('shrink refused below the ext4 minimum (e2fsck + resize2fs -P)', () =>
      rejectsWith(
        volumes.apply('update', data, { ...data, size_bytes: 32 * MiB, allow_shrink: true }, progress, 'logical_volume.data'),
        'E_LVM_SHRINK',
        /needs at least/,
        /resize2fs -P/,
      ),
    );
    console.log(`# ${message}`);
    assert.equal(lvSize(`${VG}/data`), 384 * MiB, 'nothing was shrunk');
    const shrunk = (await timed('shrink 384 -> 128 MiB (ext4, unmounted)', () =>
      volumes.apply('update', data, { ...data, size_bytes: 128 * MiB, allow_shrink: true }, progress, 'logical_volume.data'),
    ))!;
    assert.equal(shrunk['size_bytes'], 128 * MiB);
    sh(['mount', `/dev/${VG}/data`, dataDir]);
    assert.equal(readFileSync(join(dataDir, 'kept'), 'utf8'), 'still here');
    assert.ok(filesystemBytes(dataDir) <= 128 * MiB);
    data = { ...shrunk, allow_shrink: false };
  });

  test('the label changes in place; import adopts the volume without touching it', async () => {
    const relabelled = (await volumes.apply(
      'update',
      data,
      { ...data, filesystem: { type: 'ext4', label: 'tsidata2', mount_options: ['noatime'] } },
      progress,
      'logical_volume.data',
    ))!;
    assert.deepEqual(relabelled['filesystem'], { type: 'ext4', label: 'tsidata2', mount_options: ['noatime'] });
    assert.equal(blkid(`/dev/${VG}/data`)['LABEL'], 'tsidata2');
    data = relabelled;
    const mark = log.commands.length;
    const imported = await timed('import of a thin LV', () => volumes.import(`${VG}/data`));
    assert.deepEqual(imported, {
      volume_group: VG,
      thin_pool: `${VG}/pool`,
      name: 'data',
      size: null,
      virtual_size: '128M',
      size_bytes: 128 * MiB,
      filesystem: { type: 'ext4', label: 'tsidata2', mount_options: [] },
      snapshot_of: null,
      allow_shrink: false,
      id: `${VG}/data`,
      path: `/dev/${VG}/data`,
    });
    assert.deepEqual(log.since(mark), [], 'import changes nothing');
    assert.equal(await volumes.import(`${VG}/nothere`), null);
    await rejectsWith(volumes.import(`${VG}/pool`), 'E_LVM_KIND', /thin_pool/);
  });

  test('snapshots: a thin snapshot without a size, a copy-on-write snapshot of a linear volume', async () => {
    const snap = (await timed('thin snapshot create', () =>
      volumes.apply('create', null, lvPlanned('datasnap', { snapshot_of: `${VG}/data`, size_bytes: 128 * MiB }), progress, 'logical_volume.snap'),
    ))!;
    assert.equal(snap['size_bytes'], 128 * MiB, 'a thin snapshot has its origin size');
    assert.equal(snap['snapshot_of'], `${VG}/data`);
    assert.equal(snap['filesystem'], null, "a snapshot has its origin's filesystem, none of its own");
    const snapDir = mountAt(`/dev/${VG}/datasnap`, 'snap');
    assert.equal(readFileSync(join(snapDir, 'kept'), 'utf8'), 'still here');
    unmount(snapDir);

    const lin = (await timed('linear LV create + mkfs.ext4 (64 MiB)', () =>
      volumes.apply(
        'create',
        null,
        lvPlanned('lin', { size: '64M', size_bytes: 64 * MiB, filesystem: { type: 'ext4', label: null, mount_options: [] } }),
        progress,
        'logical_volume.lin',
      ),
    ))!;
    assert.equal(lin['size_bytes'], 64 * MiB);
    const linSnap = (await timed('copy-on-write snapshot create (16 MiB)', () =>
      volumes.apply('create', null, lvPlanned('linsnap', { size: '16M', size_bytes: 16 * MiB, snapshot_of: `${VG}/lin` }), progress, 'logical_volume.linsnap'),
    ))!;
    assert.equal(linSnap['size_bytes'], 16 * MiB);
    await rejectsWith(volumes.apply('delete', lin, null, progress, 'logical_volume.lin'), 'E_LVM_IN_USE', /snapshots \(linsnap\)/);
    const mark = log.commands.length;
    await volumes.apply('delete', linSnap, null, progress, 'logical_volume.linsnap');
    assert.deepEqual(log.since(mark), [`lvremove --yes ${VG}/linsnap`]);
    await volumes.apply('delete', lin, null, progress, 'logical_volume.lin');
    assert.equal(await volumes.read(lin), null);
    await volumes.apply('delete', snap, null, progress, 'logical_volume.snap');
    assert.equal(await volumes.read(snap), null);
  });

  test('xfs: made with a label, grown while unmounted through a temporary mount, never shrunk', async () => {
    const planned = lvPlanned('x', {
      thin_pool: `${VG}/pool`,
      virtual_size: '320M',
      size_bytes: 320 * MiB,
      filesystem: { type: 'xfs', label: 'tsixfs', mount_options: [] },
    });
    const x = (await timed('thin LV create + mkfs.xfs (320 MiB)', () => volumes.apply('create', null, planned, progress, 'logical_volume.x')))!;
    assert.deepEqual(x['filesystem'], { type: 'xfs', label: 'tsixfs', mount_options: [] });
    const mark = log.commands.length;
    const grown = (await timed('xfs grow 320 -> 400 MiB, unmounted (temporary mount)', () =>
      volumes.apply(
        'update',
        x,
        { ...x, size_bytes: 400 * MiB, filesystem: { type: 'xfs', label: 'tsixfs2', mount_options: [] } },
        progress,
        'logical_volume.x',
      ),
    ))!;
    const ran = log.since(mark);
    assert.equal(ran[0], `lvextend -L ${400 * MiB}b ${VG}/x`);
    assert.match(ran[1]!, /^xfs_growfs \/tmp\/tsinfra-grow-/);
    assert.equal(grown['size_bytes'], 400 * MiB);
    assert.deepEqual(grown['filesystem'], { type: 'xfs', label: 'tsixfs2', mount_options: [] });
    // statfs leaves out xfs's internal log (64 MiB with xfsprogs 6): compare growth, not totals.
    const dir = mountAt(`/dev/${VG}/x`, 'x');
    const grownBytes = filesystemBytes(dir);
    assert.ok(grownBytes > 320 * MiB, `xfs was grown to fill 400 MiB: ${grownBytes}`);
    const online = (await timed('xfs grow 400 -> 480 MiB, mounted', () =>
      volumes.apply('update', grown, { ...grown, size_bytes: 480 * MiB }, progress, 'logical_volume.x'),
    ))!;
    assert.equal(filesystemBytes(dir) - grownBytes, 80 * MiB, 'xfs was grown online by the 80 MiB the volume grew');
    unmount(dir);
    await rejectsWith(
      volumes.apply('update', online, { ...online, size_bytes: 320 * MiB, allow_shrink: true }, progress, 'logical_volume.x'),
      'E_LVM_SHRINK',
      /xfs filesystem cannot shrink/,
    );
    await volumes.apply('delete', online, null, progress, 'logical_volume.x');
  });

  test('hand-made changes show in read: a resize as drift, a removal as null', async () => {
    sh(['lvextend', '-L', '+8m', `${VG}/data`]);
    const now = await volumes.read(data);
    assert.equal(now?.['size_bytes'], 136 * MiB);
    assert.equal(now?.['size'], data['size'], 'the size as written stays; size_bytes shows the drift');
    const poolNow = await pools.read(pool);
    assert.equal(poolNow?.['size_bytes'], 1280 * MiB);
    sh(['lvcreate', '-L', '8m', '-n', 'byhand', '-Wy', '-Zy', '--yes', VG]);
    const byHand = (await volumes.import(`${VG}/byhand`))!;
    assert.equal(byHand['size'], '8M');
    assert.equal(byHand['filesystem'], null);
    sh(['lvremove', '-y', `${VG}/byhand`]);
    assert.equal(await volumes.read(byHand), null);
    data = now!;
  });

  test('a volume backed by a thin LV: mounted at the volume path, a marker for the supervisor, deleted with its LV', async () => {
    const planned = { name: 'tsitvol', size: '64M', thin_pool: `${VG}/pool`, id: 'tsitvol', path: '(known after apply)' };
    const v = (await timed('thin-pool volume create (lvcreate + mkfs.ext4 + mount)', () => thinVolumes.apply('create', null, planned, progress, 'volume.v')))!;
    const path = join(stateDir, 'volumes', 'tsitvol');
    assert.deepEqual(v, { ...planned, path });
    assert.ok(isMountPoint(path));
    assert.deepEqual(JSON.parse(readFileSync(`${path}.lv`, 'utf8')), { device: `/dev/${VG}/tsi-vol-tsitvol`, fs_type: 'ext4' });
    assert.equal(lvSize(`${VG}/tsi-vol-tsitvol`), 64 * MiB);
    assert.deepEqual(await thinVolumes.read(v), v);
    assert.deepEqual(await thinVolumes.import('tsitvol'), { name: 'tsitvol', size: '64M', thin_pool: `${VG}/pool`, id: 'tsitvol', path });
    // 64 MiB is a hard quota.
    const dd = spawnSync('dd', ['if=/dev/zero', `of=${join(path, 'fill')}`, 'bs=1M', 'count=80'], { encoding: 'utf8' });
    assert.notEqual(dd.status, 0);
    assert.match(dd.stderr, /No space left on device/);
    const busy = openSync(join(path, 'fill'), 'r');
    try {
      await rejectsWith(thinVolumes.apply('delete', v, null, progress, 'volume.v'), 'E_MOUNT', /busy/i);
    } finally {
      closeSync(busy);
    }
    await timed('thin-pool volume delete (umount + lvremove)', () => thinVolumes.apply('delete', v, null, progress, 'volume.v'));
    assert.ok(!isMountPoint(path));
    assert.ok(!existsSync(path) && !existsSync(`${path}.lv`));
    assert.equal(await lvm.logicalVolume(VG, 'tsi-vol-tsitvol'), undefined);
    assert.equal(await thinVolumes.read(v), null);
  });

  test('deletes in order: a pool with volumes and a group with volumes are refused; then nothing is left', async () => {
    await rejectsWith(pools.apply('delete', pool, null, progress, 'thin_pool.pool'), 'E_LVM_IN_USE', /thin volumes \(data\)/);
    await rejectsWith(groups.apply('delete', group, null, progress, 'volume_group.vg'), 'E_LVM_IN_USE', /data, pool/);
    unmount(dataDir);
    const mark = log.commands.length;
    await timed('thin LV delete (lvchange -an + lvremove)', () => volumes.apply('delete', data, null, progress, 'logical_volume.data'));
    assert.deepEqual(log.since(mark), [`lvchange -an ${VG}/data`, `lvremove ${VG}/data`]);
    assert.ok(!existsSync(join(stateDir, 'logical-volumes', VG, 'data.json')), "the volume's filesystem record went with it");
    await timed('thin pool delete', () => pools.apply('delete', pool, null, progress, 'thin_pool.pool'));
    assert.equal(await pools.read(pool), null);
    await timed('volume group delete (vgremove + pvremove)', () => groups.apply('delete', group, null, progress, 'volume_group.vg'));
    assert.equal(await groups.read(group), null);
    assert.deepEqual(blkid('/dev/vdb'), {}, 'the disk is blank again');
    assert.equal(sh(['dmsetup', 'ls']).includes(VG), false, 'no device-mapper device is left');
  });

  test('every change was logged with its argv; no --force, no wipefs', () => {
    const all = log.commands.map((a) => a.join(' '));
    assert.ok(all.length > 20);
    for (const c of all) {
      // (e2fsck -f forces a check, not a wipe.)
      if (/^(pv|vg|lv)\w+ /.test(c)) assert.doesNotMatch(c, /(^| )(-f|-ff|--force)( |$)/, c);
      assert.doesNotMatch(c, /^wipefs/, c);
    }
    assert.deepEqual(log.warnings, []);
  });

  test('10 thin volumes with ext4 through the handler, then the same commands from a shell script (times only)', async () => {
    const tenGroup = (await groups.apply('create', null, { name: VG, physical_volumes: [DISK_BY_ID], allow_remove_pv: false }, progress, 'volume_group.vg'))!;
    const tenPool = (await pools.apply(
      'create',
      null,
      { volume_group: VG, name: 'pool', size: '1G', size_bytes: 1024 * MiB, chunk_size: null, metadata_size: null },
      progress,
      'thin_pool.pool',
    ))!;
    const made = await timed('10 thin LVs (64 MiB) + mkfs.ext4 through the handler', async () => {
      const out: ResourceState[] = [];
      for (let i = 0; i < 10; i++) {
        out.push(
          (await volumes.apply(
            'create',
            null,
            lvPlanned(`t${i}`, {
              thin_pool: `${VG}/pool`,
              virtual_size: '64M',
              size_bytes: 64 * MiB,
              filesystem: { type: 'ext4', label: null, mount_options: [] },
            }),
            progress,
            `logical_volume.t${i}`,
          ))!,
        );
      }
      return out;
    });
    for (const t of made) await volumes.apply('delete', t, null, progress, 'logical_volume.t');
    const script = Array.from(
      { length: 10 },
      (_, i) => `lvcreate -V 64m --thin -n s${i} -Wy --yes ${VG}/pool >/dev/null && mkfs.ext4 -q /dev/${VG}/s${i}`,
    ).join(' && ');
    await timed('the same 10 lvcreate + mkfs.ext4 from one shell script', async () => {
      sh(['bash', '-c', script]);
    });
    for (let i = 0; i < 10; i++) sh(['lvremove', '-y', `${VG}/s${i}`]);
    await pools.apply('delete', tenPool, null, progress, 'thin_pool.pool');
    await groups.apply('delete', tenGroup, null, progress, 'volume_group.vg');
  });
});
