// VM tier: the cgroup scenarios under pure cgroup v2 (Debian 12 guest, systemd, all
// controllers), through the same CgroupManager interface as the v1 tests on the host.
// It runs only there; anywhere else it fails and says so, rather than skip quietly:
//
//   npx tsc -p tsconfig.json && SHARE_RW=1 ../shared/vm/run-in-vm.sh node --test dist/test/vm/cgroups-v2.test.js
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachedDeviceFilters } from '../../agent/runtime/cgroups/bpf.js';
import { DEFAULT_DEVICE_RULES, type CgroupLimits, type CgroupManager } from '../../agent/runtime/cgroups/cgroup-manager.js';
import { cgroupFacts, detectCgroupManager } from '../../agent/runtime/cgroups/detect.js';
import { pageSize } from '../../agent/runtime/cgroups/page-size.js';
import { defineCgroupScenarios, diskOf, randomParent, readCgroupFile, type HandChange, type ScenarioHost } from '../agent/runtime/cgroups/cgroup-scenarios.js';

const facts = cgroupFacts();
const notV2 = `this test runs only under pure cgroup v2, in the VM tier (SHARE_RW=1 ../shared/vm/run-in-vm.sh node --test dist/test/vm/cgroups-v2.test.js); this host has cgroup ${facts.version}`;
const MiB = 1 << 20;
// The VM's empty test disk; elsewhere the root disk.
const TEST_DISK = '/dev/vdb';

describe('cgroup v2 (VM tier)', () => {
  let host: ScenarioHost | undefined;
  const scenarioHost = () => host ?? assert.fail(notV2);

  before(async () => {
    assert.equal(facts.version, 'v2', notV2);
    const manager = detectCgroupManager({ parent: randomParent() });
    assert.equal(manager.version, 2);
    const disk = existsSync(TEST_DISK) ? await diskOf(TEST_DISK).catch(() => diskOf('/')) : await diskOf('/');
    const page = pageSize();
    const floor = (n: number) => Math.floor(n / page) * page;
    const limits: CgroupLimits = {
      memory: 100_000_000, // not a page multiple: the kernel rounds it down
      memorySwap: 200_000_000,
      memoryReservation: 50 * MiB,
      cpuShares: 512,
      cpus: 1.5,
      cpuset: '0',
      pidsLimit: 32,
      blkioWeight: 300,
      deviceReadBps: [{ path: disk.path, rate: MiB }],
      deviceWriteBps: [{ path: disk.path, rate: 2 * MiB }],
      deviceReadIops: [{ path: disk.path, rate: 100 }],
      deviceWriteIops: [{ path: disk.path, rate: 200 }],
    };
    const swap = floor(200_000_000 - 100_000_000);
    const handChanges: HandChange[] = [
      // memory_swap is memory + swap: a hand-changed memory.max moves both.
      { file: 'memory.max', value: String(50 * MiB), drift: { memory: 50 * MiB, memorySwap: 50 * MiB + swap } },
      { file: 'memory.swap.max', value: '0', drift: { memorySwap: floor(100_000_000) } },
      { file: 'cpu.max', value: '50000 100000', drift: { cpus: 0.5 } },
      { file: 'cpu.weight', value: '50', drift: { cpuShares: 1287 } },
      { file: 'pids.max', value: '77', drift: { pidsLimit: 77 } },
      { file: 'io.max', value: `${disk.dev} rbps=4096`, drift: { deviceReadBps: [{ path: disk.path, rate: 4096 }] } },
      ...(cpus().length > 1 ? [{ file: 'cpuset.cpus', value: '1', drift: { cpuset: '1' } }] : []),
    ];
    host = {
      manager,
      limits,
      handChanges,
      oomLimits: { memory: 32 * MiB, memorySwap: 32 * MiB },
      async expectedFiles(id) {
        const dir = manager.paths(id)[0]!;
        // BFQ's weight takes blkio's scale as is; io.weight gets runc's conversion.
        const weight = existsSync(join(dir, 'io.bfq.weight')) ? { 'io.bfq.weight': 'default 300' } : { 'io.weight': 'default 2930' };
        return {
          'memory.max': String(floor(100_000_000)),
          'memory.swap.max': String(swap),
          'memory.low': String(50 * MiB),
          'cpu.weight': '20',
          'cpu.max': '150000 100000',
          'cpuset.cpus': '0',
          'pids.max': '32',
          ...weight,
          'io.max': `${disk.dev} rbps=${MiB} wbps=${2 * MiB} riops=100 wiops=200`,
        };
      },
    };
  });

  defineCgroupScenarios('v2 scenarios', scenarioHost);

  describe('v2 specifics', () => {
    let manager: CgroupManager;
    const ids = new Set<string>();
    before(() => {
      manager = scenarioHost().manager;
    });
    after(async () => {
      for (const id of ids) await manager.destroy(id);
      await manager.destroyParent();
    });

    it('enables cpu, io, cpuset, memory and pids for the containers, as runc does', async () => {
      ids.add('controllers');
      await manager.create('controllers');
      const enabled = (await readFile(join(manager.paths('controllers')[0]!, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
      for (const controller of ['cpu', 'io', 'cpuset', 'memory', 'pids']) assert.ok(enabled.includes(controller), `${controller} in ${enabled.join(' ')}`);
    });

    it('keeps one eBPF device program attached across re-applies', async () => {
      ids.add('bpf');
      await manager.create('bpf');
      for (let i = 0; i < 3; i++) await manager.setDevices('bpf', DEFAULT_DEVICE_RULES);
      assert.equal(attachedDeviceFilters(manager.paths('bpf')[0]!).length, 1);
    });

    it('maps memory_swap to memory.swap.max as memory_swap minus memory', async () => {
      ids.add('swap');
      await manager.create('swap');
      await manager.set('swap', { memory: 64 * MiB, memorySwap: 96 * MiB });
      assert.equal(await readCgroupFile(manager, 'swap', 'memory.swap.max'), String(32 * MiB));
      await manager.set('swap', { memory: 64 * MiB, memorySwap: -1 });
      assert.equal(await readCgroupFile(manager, 'swap', 'memory.swap.max'), 'max');
      assert.deepEqual(await manager.observe('swap', { memory: 64 * MiB, memorySwap: -1 }), { memory: 64 * MiB, memorySwap: -1 });
    });
  });
});
