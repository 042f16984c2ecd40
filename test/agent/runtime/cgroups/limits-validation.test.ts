import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateLimits } from '../../../../agent/runtime/cgroups/limits-validation.js';
import type { CgroupLimits } from '../../../../agent/runtime/cgroups/cgroup-manager.js';

const refused = (limits: CgroupLimits, fragment: string) =>
  assert.throws(
    () => validateLimits('cgroup t/x', limits),
    (e: unknown) => (e as { code?: string }).code === 'E_CGROUP_INVALID' && (e as Error).message.includes(fragment),
    JSON.stringify(limits),
  );

describe('cgroup limits validation', () => {
  it('accepts every attribute at sensible values', () => {
    validateLimits('cgroup t/x', {
      memory: 64 << 20,
      memorySwap: 128 << 20,
      memoryReservation: 32 << 20,
      cpuShares: 512,
      cpus: 1.5,
      cpuset: '0,1',
      pidsLimit: 32,
      blkioWeight: 300,
      deviceReadBps: [{ path: '/dev/vdb', rate: 1 << 20 }],
    });
    validateLimits('cgroup t/x', { memory: 1 << 20, memorySwap: -1 });
    validateLimits('cgroup t/x', {});
  });

  it('refuses values the kernel would refuse or read differently', () => {
    refused({ memorySwap: 1 << 20 }, 'needs memory');
    refused({ memory: 2 << 20, memorySwap: 1 << 20 }, 'at least memory');
    refused({ memory: 1 << 20, memoryReservation: 2 << 20 }, 'must not exceed memory');
    refused({ memory: 0 }, 'memory must be a positive');
    refused({ cpuShares: 1 }, 'cpu_shares');
    refused({ cpus: 0.001 }, 'cpus must be at least 0.01');
    refused({ cpuset: '1-0' }, 'cpuset');
    refused({ cpuset: '' }, 'cpuset');
    refused({ blkioWeight: 5 }, 'blkio_weight');
    refused({ pidsLimit: -1 }, 'pids_limit');
    refused({ deviceWriteIops: [{ path: 'vdb', rate: 1 }] }, 'absolute path');
    refused({ deviceWriteIops: [{ path: '/dev/vdb', rate: 0 }] }, 'positive whole number');
    refused(
      {
        deviceReadBps: [
          { path: '/dev/vdb', rate: 1 },
          { path: '/dev/vdb', rate: 2 },
        ],
      },
      'twice',
    );
  });
});
