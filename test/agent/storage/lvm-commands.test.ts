// The agent's LVM commands as argv (what the agent log records), the parsers of blkid,
// wipefs, resize2fs and dumpe2fs output (recorded from Debian 12: util-linux 2.38,
// e2fsprogs 1.47), label rules, and refusals that happen before any command runs. No
// device-mapper needed: the real commands run in the VM tier (test/vm/storage-agent.test.ts).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../../agent/log.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import type { ResourceHandler } from '../../../agent/resources/registry.js';
import { parseBlkidExport, parseWipefsJson } from '../../../agent/storage/device-check.js';
import { Filesystems, labelProblem, mkfsArgv, parseExtBlockSize, parseResize2fsMinimum, setLabelArgv } from '../../../agent/storage/filesystem.js';
import { LogicalVolumeResource } from '../../../agent/storage/logical-volume-resource.js';
import { parseLogicalVolumes } from '../../../agent/storage/lvm-report.js';
import {
  checkLvId,
  lvchangeDeactivateArgv,
  lvcreateLinearArgv,
  lvcreateSnapshotArgv,
  lvcreateThinArgv,
  lvcreateThinPoolArgv,
  lvcreateThinSnapshotArgv,
  lvextendArgv,
  lvreduceRawArgv,
  lvreduceWithFilesystemArgv,
  lvremoveArgv,
  lvremoveSnapshotArgv,
  Lvm,
  pvcreateArgv,
  pvmoveArgv,
  splitLvId,
  vgcreateArgv,
  vgextendArgv,
  vgreduceArgv,
} from '../../../agent/storage/lvm.js';
import { ThinPoolResource } from '../../../agent/storage/thin-pool-resource.js';
import { readThinVolumeMarker, ThinVolumes, thinVolumeLvName } from '../../../agent/storage/thin-volume.js';
import { VolumeDirectory } from '../../../agent/storage/volume-directory.js';
import { VolumeGroupResource } from '../../../agent/storage/volume-group-resource.js';
import type { CommandOutput, CommandRunner } from '../../../agent/system/command.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** A runner that must not be called: the refusals below happen before any command. */
class NoCommands implements CommandRunner {
  readonly calls: string[] = [];
  run(argv: readonly string[]): Promise<CommandOutput> {
    this.calls.push(argv.join(' '));
    return Promise.reject(new Error(`unexpected command: ${argv.join(' ')}`));
  }
  tryRun(argv: readonly string[]): Promise<CommandOutput> {
    return this.run(argv);
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, says?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (says) assert.match(e.message, says);
    return true;
  });
}

describe('lvm2 command lines', () => {
  test('groups and physical volumes', () => {
    assert.deepEqual(pvcreateArgv('/dev/vdb'), ['pvcreate', '/dev/vdb']);
    assert.deepEqual(vgcreateArgv('vg0', ['/dev/vdb', '/dev/vdc']), ['vgcreate', 'vg0', '/dev/vdb', '/dev/vdc']);
    assert.deepEqual(vgextendArgv('vg0', ['/dev/vdc']), ['vgextend', 'vg0', '/dev/vdc']);
    assert.deepEqual(pvmoveArgv('/dev/vdc'), ['pvmove', '-i', '2', '/dev/vdc']);
    assert.deepEqual(vgreduceArgv('vg0', '/dev/vdc'), ['vgreduce', 'vg0', '/dev/vdc']);
  });

  test('volumes: sizes in bytes, -Wy -Zy --yes only where lvm2 accepts them for a new volume', () => {
    assert.deepEqual(lvcreateLinearArgv('vg0', 'data', 2 * GiB), ['lvcreate', '-L', '2147483648b', '-n', 'data', '-Wy', '-Zy', '--yes', 'vg0']);
    assert.deepEqual(lvcreateThinPoolArgv('vg0', 'pool', GiB, 64 * 1024, 8 * MiB), [
      'lvcreate',
      '--type',
      'thin-pool',
      '-L',
      '1073741824b',
      '-n',
      'pool',
      '--chunksize',
      '64k',
      '--poolmetadatasize',
      '8192k',
      '--yes',
      'vg0',
    ]);
    assert.deepEqual(lvcreateThinPoolArgv('vg0', 'pool', GiB, null, null), [
      'lvcreate',
      '--type',
      'thin-pool',
      '-L',
      '1073741824b',
      '-n',
      'pool',
      '--yes',
      'vg0',
    ]);
    assert.deepEqual(lvcreateThinArgv('vg0', 'pool', 'data', 2 * GiB), ['lvcreate', '-V', '2147483648b', '--thin', '-n', 'data', '-Wy', '--yes', 'vg0/pool']);
    assert.deepEqual(lvcreateThinSnapshotArgv('vg0', 'data', 'snap'), ['lvcreate', '-s', '-kn', '-n', 'snap', 'vg0/data']);
    assert.deepEqual(lvcreateSnapshotArgv('vg0', 'data', 'snap', 16 * MiB), ['lvcreate', '-s', '-L', '16777216b', '-n', 'snap', 'vg0/data']);
  });

  test('resizes and removal', () => {
    assert.deepEqual(lvextendArgv('vg0', 'data', 3 * GiB), ['lvextend', '-L', '3221225472b', 'vg0/data']);
    assert.deepEqual(lvreduceWithFilesystemArgv('vg0', 'data', GiB), ['lvreduce', '--resizefs', '-L', '1073741824b', 'vg0/data']);
    assert.deepEqual(lvreduceRawArgv('vg0', 'raw', GiB), ['lvreduce', '-L', '1073741824b', '--yes', 'vg0/raw']);
    assert.deepEqual(lvchangeDeactivateArgv('vg0', 'data'), ['lvchange', '-an', 'vg0/data']);
    assert.deepEqual(lvremoveArgv('vg0', 'data'), ['lvremove', 'vg0/data']);
    assert.deepEqual(lvremoveSnapshotArgv('vg0', 'snap'), ['lvremove', '--yes', 'vg0/snap']);
  });

  test('no command forces or wipes', () => {
    const all = [
      lvcreateLinearArgv('v', 'l', MiB),
      lvcreateThinPoolArgv('v', 'p', MiB, MiB, MiB),
      lvcreateThinArgv('v', 'p', 'l', MiB),
      lvreduceRawArgv('v', 'l', MiB),
      lvreduceWithFilesystemArgv('v', 'l', MiB),
    ].flat();
    for (const bad of ['-f', '-ff', '--force', 'wipefs']) assert.ok(!all.includes(bad), bad);
  });

  test('ids are VG/NAME, both halves valid LVM names', () => {
    assert.deepEqual(splitLvId('vg0/data'), ['vg0', 'data']);
    assert.equal(splitLvId('vg0'), undefined);
    assert.equal(splitLvId('vg0/a/b'), undefined);
    assert.deepEqual(checkLvId('vg0/data', 'id'), ['vg0', 'data']);
    assert.throws(
      () => checkLvId('vg0/../x', 'id'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_LVM_NAME',
    );
    assert.throws(
      () => checkLvId('vg0/-rf', 'id'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_LVM_NAME' && /may not start with "-"/.test(e.message),
    );
    assert.throws(
      () => checkLvId('vg 0/x', 'id'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_LVM_NAME',
    );
  });

  test('a thin-pool volume lives in LV tsi-vol-<name>', () => {
    assert.equal(thinVolumeLvName('cache'), 'tsi-vol-cache');
    assert.throws(
      () => thinVolumeLvName('x_tmeta'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_LVM_NAME',
    );
  });
});

describe('filesystem commands and their output', () => {
  test('mkfs once, with the label when there is one', () => {
    assert.deepEqual(mkfsArgv('ext4', '/dev/vg0/data', 'data'), ['mkfs.ext4', '-q', '-L', 'data', '/dev/vg0/data']);
    assert.deepEqual(mkfsArgv('xfs', '/dev/vg0/data', null), ['mkfs.xfs', '-q', '/dev/vg0/data']);
  });

  test('labels: ext4 online with e2label, xfs through its mount point or xfs_admin', () => {
    assert.deepEqual(setLabelArgv('ext4', '/dev/vg0/d', 'new', undefined), ['e2label', '/dev/vg0/d', 'new']);
    assert.deepEqual(setLabelArgv('ext4', '/dev/vg0/d', null, '/mnt'), ['e2label', '/dev/vg0/d', '']);
    assert.deepEqual(setLabelArgv('xfs', '/dev/vg0/d', 'new', '/mnt'), ['xfs_io', '-c', 'label -s new', '/mnt']);
    assert.deepEqual(setLabelArgv('xfs', '/dev/vg0/d', null, '/mnt'), ['xfs_io', '-c', 'label -c', '/mnt']);
    assert.deepEqual(setLabelArgv('xfs', '/dev/vg0/d', 'new', undefined), ['xfs_admin', '-L', 'new', '/dev/vg0/d']);
    assert.deepEqual(setLabelArgv('xfs', '/dev/vg0/d', null, undefined), ['xfs_admin', '-L', '--', '/dev/vg0/d']);
  });

  test('label rules: plain characters, 16 bytes for ext4, 12 for xfs', () => {
    assert.equal(labelProblem('ext4', 'data-2024_x'), undefined);
    assert.match(labelProblem('ext4', 'a'.repeat(17))!, /longer than 16/);
    assert.equal(labelProblem('xfs', 'a'.repeat(12)), undefined);
    assert.match(labelProblem('xfs', 'a'.repeat(13))!, /longer than 12/);
    assert.match(labelProblem('ext4', 'a b')!, /letters, digits/);
    assert.match(labelProblem('ext4', '$(x)')!, /letters, digits/);
  });

  test('resize2fs -P and dumpe2fs -h give the minimum in blocks and the block size', () => {
    assert.equal(parseResize2fsMinimum('resize2fs 1.47.0 (5-Feb-2023)\nEstimated minimum size of the filesystem: 27738\n'), 27738);
    assert.equal(parseResize2fsMinimum('resize2fs 1.47.0 (5-Feb-2023)\n'), undefined);
    const header = 'dumpe2fs 1.47.0 (5-Feb-2023)\nBlock count:              258048\nReserved block count:     11181\nBlock size:               1024\n';
    assert.equal(parseExtBlockSize(header), 1024);
  });

  test('blkid -p -o export: tags with their escapes undone', () => {
    const tags = parseBlkidExport('DEVNAME=/dev/vdb\nUUID=9e29bQ-u3Wf\nVERSION=LVM2\\ 001\nTYPE=LVM2_member\nUSAGE=raid\n');
    assert.equal(tags.get('TYPE'), 'LVM2_member');
    assert.equal(tags.get('VERSION'), 'LVM2 001');
    assert.equal(parseBlkidExport('').size, 0);
  });

  test('wipefs --json: every signature with its offset and label; nothing at all is an empty list', () => {
    const ext4 = `{
   "signatures": [
      {
         "device": "loop0",
         "offset": "0x438",
         "type": "ext4",
         "uuid": "375e3da2-aa0d-4337-aed1-c7f5e23be76b",
         "label": "keepme"
      }
   ]
}`;
    assert.deepEqual(parseWipefsJson(ext4), [{ type: 'ext4', label: 'keepme', offset: '0x438' }]);
    assert.deepEqual(parseWipefsJson('{\n   "signatures": [\n\n   ]\n}\n'), []);
    assert.deepEqual(parseWipefsJson(''), []);
    assert.throws(
      () => parseWipefsJson('wipefs: error'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_LVM_DEVICE',
    );
  });

  test("thin pools' chunk and metadata sizes come from the lv report", () => {
    const [pool, thin] = parseLogicalVolumes(
      `{"report":[{"lv":[
        {"lv_name":"pool","vg_name":"vg0","lv_uuid":"u1","lv_size":"536870912","lv_attr":"twi-aotz--","pool_lv":"","origin":"","data_percent":"3.58","metadata_percent":"10.64","lv_kernel_major":"254","lv_kernel_minor":"3","chunk_size":"65536","lv_metadata_size":"8388608"},
        {"lv_name":"t","vg_name":"vg0","lv_uuid":"u2","lv_size":"104857600","lv_attr":"Vwi-a-tz--","pool_lv":"pool","origin":"","data_percent":"9.16","metadata_percent":"","lv_kernel_major":"254","lv_kernel_minor":"5","chunk_size":"0","lv_metadata_size":""}
      ]}]}`,
    );
    assert.equal(pool!.chunkBytes, 65536);
    assert.equal(pool!.metadataBytes, 8 * MiB);
    assert.equal(thin!.chunkBytes, undefined);
    assert.equal(thin!.metadataBytes, undefined);
  });
});

describe('handlers refuse bad requests before any command runs', () => {
  const runner = new NoCommands();
  const lvm = new Lvm(runner);
  const fs = new Filesystems(runner);
  let stateDir: string;
  let volumes: ResourceHandler;
  const groups: ResourceHandler = new VolumeGroupResource(lvm, silentLog);
  const pools: ResourceHandler = new ThinPoolResource(lvm);
  const none = () => {};

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tsit-lvm-'));
    volumes = new LogicalVolumeResource(lvm, fs, silentLog, stateDir);
  });
  after(async () => {
    await rm(stateDir, { recursive: true, force: true });
    assert.deepEqual(runner.calls, []);
  });

  const lv = (over: Record<string, unknown>) => ({
    volume_group: 'vg0',
    thin_pool: null,
    name: 'data',
    size: '1G',
    virtual_size: null,
    size_bytes: GiB,
    filesystem: null,
    snapshot_of: null,
    allow_shrink: false,
    ...over,
  });

  test('invalid names', async () => {
    await rejectsWith(volumes.apply('create', null, lv({ name: '../etc' }), none, 'logical_volume.x'), 'E_LVM_NAME', /"\.\.\/etc"/);
    await rejectsWith(volumes.apply('create', null, lv({ volume_group: 'a/b' }), none, 'logical_volume.x'), 'E_LVM_NAME', /volume_group/);
    await rejectsWith(volumes.apply('create', null, lv({ thin_pool: 'vg0' }), none, 'logical_volume.x'), 'E_LVM_NAME', /not VG\/NAME/);
    await rejectsWith(volumes.import('vg0'), 'E_LVM_NAME');
    await rejectsWith(groups.apply('create', null, { name: 'pvmove', physical_volumes: ['/dev/vdb'] }, none, 'volume_group.x'), 'E_LVM_NAME', /reserved/);
    await rejectsWith(groups.import('..'), 'E_LVM_NAME');
    await rejectsWith(pools.import('vg0/pool_tdata'), 'E_LVM_NAME', /_tdata/);
  });

  test('a thin volume, a pool or a snapshot in another group than the one named', async () => {
    await rejectsWith(
      volumes.apply('create', null, lv({ thin_pool: 'vg1/pool' }), none, 'logical_volume.x'),
      'E_RPC_INVALID',
      /thin_pool: vg1\/pool is not in volume group vg0/,
    );
    await rejectsWith(
      volumes.apply('create', null, lv({ snapshot_of: 'vg1/data' }), none, 'logical_volume.x'),
      'E_RPC_INVALID',
      /snapshot lives in its origin's group/,
    );
  });

  test('a label the filesystem cannot store', async () => {
    await rejectsWith(
      volumes.apply('create', null, lv({ filesystem: { type: 'xfs', label: 'much-too-long', mount_options: [] } }), none, 'logical_volume.x'),
      'E_RPC_INVALID',
      /longer than 12/,
    );
  });

  test('malformed attributes', async () => {
    await rejectsWith(volumes.read({ name: 'data', volume_group: 'vg0', filesystem: { type: 'btrfs' } }), 'E_RPC_INVALID', /filesystem/);
    await rejectsWith(groups.read({ name: 'vg0' }), 'E_RPC_INVALID', /physical_volumes/);
  });
});

describe('thin-pool volume markers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsit-marker-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the marker beside the volume path names the device and filesystem; none means a directory volume', async () => {
    await writeFile(join(dir, 'cache.lv'), '{"device":"/dev/vg0/tsi-vol-cache","fs_type":"ext4"}\n');
    assert.deepEqual(await readThinVolumeMarker(join(dir, 'cache')), { device: '/dev/vg0/tsi-vol-cache', fs_type: 'ext4' });
    assert.equal(await readThinVolumeMarker(join(dir, 'plain')), undefined);
    await writeFile(join(dir, 'bad.lv'), '{"device":"vg0/x"}');
    await assert.rejects(readThinVolumeMarker(join(dir, 'bad')), (e: unknown) => isAgentFailure(e) && e.code === 'E_VOLUME_MARKER');
  });

  test('a volume handler without LVM refuses thin-pool volumes; with it, a size is required', async () => {
    const planned = { name: 'thin', size: null, thin_pool: 'vg0/pool', id: 'thin', path: '(known after apply)' };
    const plain: ResourceHandler = new VolumeDirectory(dir);
    await rejectsWith(
      plain.apply('create', null, planned, () => {}, 'volume.thin'),
      'E_UNSUPPORTED',
      /LVM/,
    );
    const runner = new NoCommands();
    const withLvm: ResourceHandler = new VolumeDirectory(dir, new ThinVolumes(new Lvm(runner), new Filesystems(runner), silentLog));
    await rejectsWith(
      withLvm.apply('create', null, planned, () => {}, 'volume.thin'),
      'E_RPC_INVALID',
      /needs a size/,
    );
    assert.deepEqual(runner.calls, []);
  });
});
