// The LVM pieces that need no device-mapper: name rules, sizes resolved at plan time, the
// plan-time capacity check, and lvm2's JSON reports (recorded from lvm2 2.03; when lvm2 is installed, its own
// report commands are run too, which checks that every field name is one lvm2 knows).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { logicalVolumeNameProblem, volumeGroupNameProblem } from '../../../agent/storage/lvm-names.js';
import { lvmReportArgv, parseLogicalVolumes, parsePhysicalVolumes, parseVolumeGroups } from '../../../agent/storage/lvm-report.js';
import { describeLvSize, formatBytes, parseLvSize, resolveLvSize } from '../../../agent/storage/lvm-size.js';
import { AgentFailure } from '../../../agent/rpc/failure.js';
import { capacityShortfalls, describeShortfall, overcommitWarning } from '../../../agent/storage/lvm-capacity.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('LVM names', () => {
  test('letters, digits and + _ . - are allowed; what lvm2 reserves is refused', () => {
    for (const ok of ['vg0', 'data', 'ubuntu-vg', 'pool_1', 'a+b', 'x.y']) {
      assert.equal(volumeGroupNameProblem(ok), undefined, ok);
      assert.equal(logicalVolumeNameProblem(ok), undefined, ok);
    }
    assert.match(volumeGroupNameProblem('..')!, /not a name/);
    assert.match(volumeGroupNameProblem('a/b')!, /letters, digits/);
    assert.match(logicalVolumeNameProblem('../etc')!, /letters, digits/);
    assert.match(logicalVolumeNameProblem('-rf')!, /may not start with "-"/);
    assert.match(logicalVolumeNameProblem('snapshot1')!, /reserved/);
    assert.match(logicalVolumeNameProblem('data_tmeta')!, /_tmeta/);
    assert.match(logicalVolumeNameProblem('x'.repeat(128))!, /longer than 127/);
    assert.match(logicalVolumeNameProblem('')!, /empty/);
    assert.match(volumeGroupNameProblem('snapshot')!, /reserved/);
  });
});

describe('LV sizes', () => {
  const vg = { sizeBytes: 10 * GiB - 4 * MiB, freeBytes: 6 * GiB + 2 * MiB, extentBytes: 4 * MiB };

  test('bytes, binary units and percentages of the group or of its free space', () => {
    assert.deepEqual(parseLvSize('10G'), { kind: 'bytes', bytes: 10 * GiB });
    assert.deepEqual(parseLvSize(1073741824), { kind: 'bytes', bytes: GiB });
    assert.deepEqual(parseLvSize('50%VG'), { kind: 'percent', percent: 50, of: 'VG' });
    assert.deepEqual(parseLvSize('100%free'), { kind: 'percent', percent: 100, of: 'FREE' });
    for (const bad of ['0', '0%VG', '101%FREE', '10%PVS', 'ten', '-1G', '1.5']) assert.equal(parseLvSize(bad), undefined, bad);
  });

  test('resolved as lvcreate allocates: bytes round up to an extent, percentages down', () => {
    assert.equal(resolveLvSize(parseLvSize('10M')!, vg), 12 * MiB);
    assert.equal(resolveLvSize(parseLvSize('8M')!, vg), 8 * MiB);
    // 2559 extents in the group: 50% is 1279 extents, not 1279.5.
    assert.equal(resolveLvSize(parseLvSize('50%VG')!, vg), 1279 * 4 * MiB);
    // Free space that is not a whole extent does not count.
    assert.equal(resolveLvSize(parseLvSize('100%FREE')!, vg), 6 * GiB);
  });

  test('shown both ways in a plan', () => {
    assert.equal(formatBytes(5 * GiB), '5 GiB');
    assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
    assert.equal(formatBytes(512), '512 B');
    assert.equal(describeLvSize('50%VG', 5 * GiB), '50%VG (5 GiB)');
    assert.equal(describeLvSize('10G', 10 * GiB), '10 GiB');
  });
});

describe('lvm2 JSON reports', () => {
  // lvm2 2.03.16 (Debian 12): every field a string, a "log" section beside the report.
  const VGS = `  {
      "report": [
          {
              "vg": [
                  {"vg_name":"vg0", "vg_uuid":"Xq8B-1", "vg_size":"10733223936", "vg_free":"6442450944", "vg_extent_size":"4194304", "pv_count":"1", "lv_count":"3"}
              ]
          }
      ]
      ,
      "log": [
      ]
  }
`;
  const LVS = `{"report":[{"lv":[
    {"lv_name":"pool", "vg_name":"vg0", "lv_uuid":"u1", "lv_size":"1073741824", "lv_attr":"twi-aotz--", "pool_lv":"", "origin":"", "data_percent":"12.50", "metadata_percent":"10.94", "lv_kernel_major":"254", "lv_kernel_minor":"2"},
    {"lv_name":"data", "vg_name":"vg0", "lv_uuid":"u2", "lv_size":"2147483648", "lv_attr":"Vwi-aotz--", "pool_lv":"pool", "origin":"", "data_percent":"6.25", "metadata_percent":"", "lv_kernel_major":"254", "lv_kernel_minor":"4"},
    {"lv_name":"snap", "vg_name":"vg0", "lv_uuid":"u3", "lv_size":"2147483648", "lv_attr":"Vwi---tz-k", "pool_lv":"pool", "origin":"data", "data_percent":"", "metadata_percent":"", "lv_kernel_major":"-1", "lv_kernel_minor":"-1"},
    {"lv_name":"root", "vg_name":"vg0", "lv_uuid":"u4", "lv_size":"4294967296", "lv_attr":"-wi-ao----", "pool_lv":"", "origin":"", "data_percent":"", "metadata_percent":"", "lv_kernel_major":"254", "lv_kernel_minor":"0"}
  ]}]}`;

  test('volume groups with sizes, free space and extent size in bytes', () => {
    assert.deepEqual(parseVolumeGroups(VGS), [
      { name: 'vg0', uuid: 'Xq8B-1', sizeBytes: 10733223936, freeBytes: 6442450944, extentBytes: 4194304, pvCount: 1, lvCount: 3 },
    ]);
  });

  test('logical volumes: kind, state, pool, origin, usage and device numbers', () => {
    const [pool, data, snap, root] = parseLogicalVolumes(LVS);
    assert.deepEqual(pool, {
      name: 'pool',
      vg: 'vg0',
      uuid: 'u1',
      sizeBytes: GiB,
      kind: 'thin-pool',
      active: true,
      open: true,
      dataPercent: 12.5,
      metadataPercent: 10.94,
      device: '254:2',
    });
    assert.deepEqual(data, {
      name: 'data',
      vg: 'vg0',
      uuid: 'u2',
      sizeBytes: 2 * GiB,
      kind: 'thin',
      active: true,
      open: true,
      pool: 'pool',
      dataPercent: 6.25,
      device: '254:4',
    });
    assert.equal(snap!.origin, 'data');
    assert.equal(snap!.active, false);
    assert.equal(snap!.device, undefined, 'an inactive volume has no device');
    assert.equal(root!.kind, 'linear');
  });

  test('numbers as json_std prints them, and physical volumes outside any group', () => {
    assert.deepEqual(
      parsePhysicalVolumes('{"report":[{"pv":[{"pv_name":"/dev/vdb","vg_name":"","pv_uuid":"p1","pv_size":8589934592,"pv_free":8589934592}]}]}'),
      [{ name: '/dev/vdb', vg: '', uuid: 'p1', sizeBytes: 8 * GiB, freeBytes: 8 * GiB }],
    );
  });

  test('output that is not a report is an E_LVM_REPORT failure naming the command', () => {
    assert.throws(
      () => parseVolumeGroups('  WARNING: locking failed'),
      (e: unknown) => e instanceof AgentFailure && e.code === 'E_LVM_REPORT' && /vgs/.test(e.message),
    );
    const row = '"vg_name":"v","vg_uuid":"u","vg_free":"0","vg_extent_size":"4194304","pv_count":"1","lv_count":"0"';
    assert.throws(() => parseVolumeGroups(`{"report":[{"vg":[{${row},"vg_size":"1.5g"}]}]}`), /vg_size = "1\.5g", not a whole number/);
  });

  // lvm2 is installed by scripts/install-system-packages.sh; this kernel has no device-mapper, so the reports are empty.
  test('lvm2 accepts the report commands and their output parses', () => {
    for (const kind of ['vg', 'lv', 'pv'] as const) {
      const [cmd, ...args] = lvmReportArgv(kind);
      const out = execFileSync(cmd!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      assert.ok(Array.isArray(kind === 'vg' ? parseVolumeGroups(out) : kind === 'lv' ? parseLogicalVolumes(out) : parsePhysicalVolumes(out)));
    }
  });
});

describe('plan-time capacity', () => {
  const groups = new Map([
    ['vg0', { sizeBytes: 10 * GiB, freeBytes: 2 * GiB, extentBytes: 4 * MiB }],
    ['vg1', { sizeBytes: 10 * GiB, freeBytes: 10 * GiB, extentBytes: 4 * MiB }],
  ]);

  test('a group that cannot hold what the plan takes is named with the numbers', () => {
    const short = capacityShortfalls(
      [
        { address: 'logical_volume.a', vg: 'vg0', bytes: 2 * GiB },
        { address: 'logical_volume.b', vg: 'vg0', bytes: GiB },
        { address: 'logical_volume.c', vg: 'vg1', bytes: 9 * GiB },
        { address: 'logical_volume.d', vg: 'unseen', bytes: 99 * GiB },
      ],
      groups,
    );
    assert.equal(short.length, 1);
    assert.equal(describeShortfall(short[0]!), 'volume group vg0 has 2 GiB free; this plan needs 3 GiB there: logical_volume.a 2 GiB, logical_volume.b 1 GiB');
    assert.deepEqual(capacityShortfalls([{ address: 'logical_volume.a', vg: 'vg0', bytes: 2 * GiB }], groups), [], 'exactly full fits');
  });

  test('a thin pool promised more than twice its size earns a warning', () => {
    assert.equal(overcommitWarning('vg0/pool', GiB, [GiB, GiB]), undefined);
    assert.match(overcommitWarning('vg0/pool', GiB, [2 * GiB, GiB])!, /promised 3 GiB by its thin volumes, 3\.0 times its size \(more than 2\)/);
    assert.equal(overcommitWarning('vg0/pool', GiB, [3 * GiB], 4), undefined);
  });
});
