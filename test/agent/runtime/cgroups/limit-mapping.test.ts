import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  blkioToIoWeight,
  canonicalCpuList,
  cpusToQuota,
  ioWeightToBlkio,
  pageFloor,
  parseCpuList,
  parseLimit,
  quotaToCpus,
  sharesToWeight,
  weightToShares,
} from '../../../../agent/runtime/cgroups/limit-mapping.js';

describe('cgroup limit mapping', () => {
  it('maps cpu shares to cpu.weight as runc does', () => {
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(262144), 10000);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(512), 20);
  });

  it('maps a cpu.weight back to shares that map to it again', () => {
    for (let w = 1; w <= 10000; w += 7) assert.equal(sharesToWeight(weightToShares(w)), w, `weight ${w}`);
    for (const shares of [2, 512, 1024, 262144]) assert.equal(weightToShares(sharesToWeight(shares)) <= shares, true);
  });

  it('maps blkio weight to io.weight and back', () => {
    assert.equal(blkioToIoWeight(10), 1);
    assert.equal(blkioToIoWeight(1000), 10000);
    assert.equal(blkioToIoWeight(500), 4950);
    for (let w = 10; w <= 1000; w++) assert.equal(ioWeightToBlkio(blkioToIoWeight(w)), w, `weight ${w}`);
  });

  it('maps cpus to a CFS quota per 100 ms and back', () => {
    assert.equal(cpusToQuota(1.5), 150000);
    assert.equal(cpusToQuota(0.01), 1000);
    assert.equal(cpusToQuota(0.1), 10000);
    assert.equal(quotaToCpus(150000, 100000), 1.5);
    assert.equal(quotaToCpus(33333, 100000), 0.33333);
  });

  it('rounds memory down to pages as the kernel does', () => {
    assert.equal(pageFloor(100_000_000, 4096), 99_999_744);
    assert.equal(pageFloor(64 * 1024 ** 2, 4096), 64 * 1024 ** 2);
  });

  it('parses and normalises CPU lists', () => {
    assert.deepEqual(parseCpuList('0-2,4'), [0, 1, 2, 4]);
    assert.deepEqual(parseCpuList(''), []);
    assert.equal(parseCpuList('2-1'), undefined);
    assert.equal(parseCpuList('a'), undefined);
    assert.equal(canonicalCpuList('0,1,2,5'), '0-2,5');
    assert.equal(canonicalCpuList('3,1'), '1,3');
    assert.equal(canonicalCpuList(''), '');
  });

  it('reads limits, with max and v1 unlimited as null', () => {
    assert.equal(parseLimit('max\n'), null);
    assert.equal(parseLimit('9223372036854771712'), null);
    assert.equal(parseLimit('-1'), null);
    assert.equal(parseLimit('67108864'), 67108864);
  });
});
