// cgroup v1 on this machine's real hierarchies (hybrid layout: v1 controllers plus an
// empty unified mount). Pure v2 hosts run the same scenarios in test/vm/cgroups-v2.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_DEVICE_RULES, type CgroupLimits, type CgroupManager } from '../../../../agent/runtime/cgroups/cgroup-manager.js';
import { CgroupV1Manager } from '../../../../agent/runtime/cgroups/cgroup-v1.js';
import { cgroupFacts, detectCgroupManager } from '../../../../agent/runtime/cgroups/detect.js';
import { pageSize } from '../../../../agent/runtime/cgroups/page-size.js';
import { findV1Hierarchies } from '../../../../agent/runtime/cgroups/v1-hierarchies.js';
import { defineCgroupScenarios, diskOf, randomParent, readCgroupFile, type HandChange, type ScenarioHost } from './cgroup-scenarios.js';

const facts = cgroupFacts();
const isV1 = facts.version === 'v1' || facts.version === 'hybrid';
const skip = isV1 ? false : `this host runs cgroup ${facts.version}: the v1 tests need v1 controller hierarchies (v2 is tested in the VM tier)`;
const hierarchies = findV1Hierarchies('/sys/fs/cgroup');
const memoryRoot = hierarchies.get('memory');
const blkioRoot = hierarchies.get('blkio');
// What this kernel offers decides what is enforceable: the tests check the refusal otherwise.
const hasSwapAccounting = memoryRoot !== undefined && existsSync(join(memoryRoot, 'memory.memsw.limit_in_bytes'));
const MiB = 1 << 20;

describe('cgroup v1', { skip }, () => {
  let host: ScenarioHost;
  const parent = randomParent();

  before(async () => {
    const manager = detectCgroupManager({ parent });
    assert.equal(manager.version, 1);
    const disk = await diskOf('/');
    // bfq's weight file exists only in child cgroups: look in a probe cgroup.
    await manager.create('probe');
    const weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((f) => manager.paths('probe').some((d) => existsSync(join(d, f))));
    await manager.destroy('probe');
    const page = pageSize();
    const floor = (n: number) => String(Math.floor(n / page) * page);
    const limits: CgroupLimits = {
      memory: 100_000_000, // not a page multiple: the kernel rounds it down
      ...(hasSwapAccounting ? { memorySwap: 200_000_000 } : {}),
      memoryReservation: 50 * MiB,
      cpuShares: 512,
      cpus: 1.5,
      cpuset: '0',
      pidsLimit: 32,
      ...(weightFile ? { blkioWeight: 300 } : {}),
      deviceReadBps: [{ path: disk.path, rate: MiB }],
      deviceWriteBps: [{ path: disk.path, rate: 2 * MiB }],
      deviceReadIops: [{ path: disk.path, rate: 100 }],
      deviceWriteIops: [{ path: disk.path, rate: 200 }],
    };
    const handChanges: HandChange[] = [
      { file: 'memory.limit_in_bytes', value: String(50 * MiB), drift: { memory: 50 * MiB } },
      { file: 'pids.max', value: '77', drift: { pidsLimit: 77 } },
      { file: 'cpu.cfs_quota_us', value: '50000', drift: { cpus: 0.5 } },
      { file: 'cpu.shares', value: '2048', drift: { cpuShares: 2048 } },
      { file: 'blkio.throttle.read_bps_device', value: `${disk.dev} 4096`, drift: { deviceReadBps: [{ path: disk.path, rate: 4096 }] } },
      ...(cpus().length > 1 ? [{ file: 'cpuset.cpus', value: '1', drift: { cpuset: '1' } }] : []),
    ];
    host = {
      manager,
      limits,
      handChanges,
      oomLimits: { memory: 32 * MiB, ...(hasSwapAccounting ? { memorySwap: 32 * MiB } : {}) },
      async expectedFiles() {
        return {
          'memory.limit_in_bytes': floor(100_000_000),
          ...(hasSwapAccounting ? { 'memory.memsw.limit_in_bytes': floor(200_000_000) } : {}),
          'memory.soft_limit_in_bytes': String(50 * MiB),
          'cpu.shares': '512',
          'cpu.cfs_quota_us': '150000',
          'cpu.cfs_period_us': '100000',
          'cpuset.cpus': '0',
          'pids.max': '32',
          ...(weightFile ? { [weightFile]: '300' } : {}),
          'blkio.throttle.read_bps_device': `${disk.dev} ${MiB}`,
          'blkio.throttle.write_bps_device': `${disk.dev} ${2 * MiB}`,
          'blkio.throttle.read_iops_device': `${disk.dev} 100`,
          'blkio.throttle.write_iops_device': `${disk.dev} 200`,
        };
      },
    };
  });

  defineCgroupScenarios('v1 scenarios', () => host);

  describe('v1 specifics', () => {
    let manager: CgroupManager;
    const ids = new Set<string>();
    const create = async (id: string) => {
      ids.add(id);
      await manager.create(id);
    };
    before(() => {
      manager = detectCgroupManager({ parent: randomParent() });
    });
    after(async () => {
      for (const id of ids) await manager.destroy(id);
      await manager.destroyParent();
    });

    it('is what detection picks on this host', () => {
      assert.equal(manager.version, 1);
      assert.ok(manager.paths('x').some((p) => p.startsWith('/sys/fs/cgroup/memory/tsit-')));
      assert.ok(facts.controllers.includes('memory'));
    });

    it('copies cpus and mems from the parent into a new cpuset cgroup', async () => {
      await create('cpuset');
      assert.notEqual(await readCgroupFile(manager, 'cpuset', 'cpuset.cpus'), '');
      assert.notEqual(await readCgroupFile(manager, 'cpuset', 'cpuset.mems'), '');
    });

    it(
      'writes memory and memory+swap in an order the kernel accepts, raising and lowering',
      { skip: hasSwapAccounting ? false : 'no swap accounting on this kernel' },
      async () => {
        await create('swap');
        const steps: CgroupLimits[] = [
          { memory: 64 * MiB, memorySwap: 64 * MiB },
          { memory: 256 * MiB, memorySwap: 512 * MiB },
          { memory: 32 * MiB, memorySwap: 48 * MiB },
          { memory: 32 * MiB, memorySwap: -1 },
          { memory: 16 * MiB, memorySwap: 16 * MiB },
          { memory: 1024 * MiB, memorySwap: 1024 * MiB },
          {},
        ];
        for (const limits of steps) {
          await manager.set('swap', limits);
          assert.deepEqual(await manager.observe('swap', limits), limits, JSON.stringify(limits));
        }
      },
    );

    it('refuses memory_swap without swap accounting, before writing anything', async () => {
      // A kernel booted without swapaccount=1 has no memory.memsw.* files. This one has them,
      // so the memory hierarchy here is a plain directory holding what such a kernel shows.
      const fake = mkdtempSync(join(tmpdir(), 'tsit-noswap-'));
      try {
        const noSwap = new CgroupV1Manager(new Map([['memory', fake]]), manager.parent);
        mkdirSync(join(fake, manager.parent, 'noswap'), { recursive: true });
        writeFileSync(join(fake, manager.parent, 'noswap', 'memory.limit_in_bytes'), '9223372036854771712\n');
        await assert.rejects(noSwap.set('noswap', { memory: 32 * MiB, memorySwap: 64 * MiB }), (e: Error & { code?: string }) => {
          return e.code === 'E_CGROUP_UNSUPPORTED' && /memory_swap/.test(e.message) && /swapaccount=1/.test(e.message);
        });
        assert.equal(readFileSync(join(fake, manager.parent, 'noswap', 'memory.limit_in_bytes'), 'utf8'), '9223372036854771712\n', 'nothing was written');
      } finally {
        rmSync(fake, { recursive: true, force: true });
      }
    });

    it('writes the device allow-list to devices.list', async () => {
      await create('devices');
      await manager.setDevices('devices', DEFAULT_DEVICE_RULES);
      const list = (await readCgroupFile(manager, 'devices', 'devices.list')).split('\n').sort();
      assert.equal(list.length, 12);
      assert.ok(list.includes('c 136:* rwm') && list.includes('b *:* m') && !list.includes('a *:* rwm'), list.join(', '));
    });

    it('names the attribute and the missing controller when the host lacks it', async () => {
      const withoutPids = new Map([...hierarchies].filter(([c]) => c !== 'pids'));
      const partial = new CgroupV1Manager(withoutPids, manager.parent);
      await create('partial');
      await assert.rejects(
        partial.set('partial', { memory: 64 * MiB, pidsLimit: 5 }),
        (e: Error & { code?: string }) => e.code === 'E_CGROUP_UNSUPPORTED' && /pids_limit/.test(e.message) && /pids controller/.test(e.message),
      );
      assert.equal(await readCgroupFile(manager, 'partial', 'memory.limit_in_bytes'), '9223372036854771712', 'nothing was written');
    });

    it('refuses bad values and devices before writing anything', async () => {
      await create('invalid');
      await assert.rejects(manager.set('invalid', { memory: 64 * MiB, memorySwap: 32 * MiB }), { code: 'E_CGROUP_INVALID' });
      await assert.rejects(manager.set('invalid', { pidsLimit: 5, deviceReadBps: [{ path: '/dev/null', rate: 1 }] }), (e: Error & { code?: string }) => {
        return e.code === 'E_CGROUP_DEVICE' && e.message.includes('/dev/null is not a block device');
      });
      await assert.rejects(manager.set('invalid', { deviceReadBps: [{ path: '/dev/tsit-none', rate: 1 }] }), { code: 'E_CGROUP_DEVICE' });
      assert.equal(await readCgroupFile(manager, 'invalid', 'pids.max'), 'max');
      await assert.rejects(manager.set('absent', { pidsLimit: 5 }), { code: 'E_CGROUP_NOT_FOUND' });
      await assert.rejects(manager.observe('absent', {}), { code: 'E_CGROUP_NOT_FOUND' });
    });

    it('reports blkio weight as unsupported when the kernel has no weight file', { skip: blkioRoot ? false : 'no blkio hierarchy' }, async () => {
      await create('weight');
      const hasWeight = manager.paths('weight').some((d) => existsSync(join(d, 'blkio.weight')) || existsSync(join(d, 'blkio.bfq.weight')));
      if (hasWeight) {
        await manager.set('weight', { blkioWeight: 10 });
        assert.deepEqual(await manager.observe('weight', {}), { blkioWeight: 10 });
      } else {
        await assert.rejects(manager.set('weight', { blkioWeight: 10 }), { code: 'E_CGROUP_UNSUPPORTED' });
      }
    });
  });
});
