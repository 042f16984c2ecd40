// Checks limits before anything is written, so that a bad value never leaves a cgroup
// half-updated. The ranges are the kernel's (and Docker's) own.
import { AgentFailure } from '../../rpc/failure.js';
import type { CgroupLimits, DeviceRate } from './cgroup-manager.js';
import { parseCpuList } from './limit-mapping.js';

/** The configuration's names of the attributes, for messages. */
export const ATTRIBUTE_NAMES: { readonly [K in keyof CgroupLimits]-?: string } = {
  memory: 'memory',
  memorySwap: 'memory_swap',
  memoryReservation: 'memory_reservation',
  cpuShares: 'cpu_shares',
  cpus: 'cpus',
  cpuset: 'cpuset',
  pidsLimit: 'pids_limit',
  blkioWeight: 'blkio_weight',
  deviceReadBps: 'device_read_bps',
  deviceWriteBps: 'device_write_bps',
  deviceReadIops: 'device_read_iops',
  deviceWriteIops: 'device_write_iops',
};

const MIN_SHARES = 2;
const MAX_SHARES = 262144;
const MIN_CPUS = 0.01; // the kernel's smallest CFS quota: 1 ms per 100 ms period

export function validateLimits(cgroup: string, limits: CgroupLimits): void {
  const bad = (attribute: string, why: string) => new AgentFailure('E_CGROUP_INVALID', `cgroup ${cgroup}: ${attribute} ${why}`);
  const positive = (attribute: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) throw bad(attribute, `must be a positive whole number, got ${v}`);
  };
  positive('memory', limits.memory);
  positive('memory_reservation', limits.memoryReservation);
  positive('pids_limit', limits.pidsLimit);
  const { memory, memorySwap, memoryReservation } = limits;
  if (memorySwap !== undefined && memorySwap !== -1) {
    positive('memory_swap', memorySwap);
    if (memory === undefined) throw bad('memory_swap', 'needs memory: set memory as well (memory_swap is memory + swap)');
    if (memorySwap < memory) throw bad('memory_swap', `(${memorySwap}) must be at least memory (${memory}): it counts memory + swap`);
  }
  if (memory !== undefined && memoryReservation !== undefined && memoryReservation > memory) {
    throw bad('memory_reservation', `(${memoryReservation}) must not exceed memory (${memory})`);
  }
  const { cpuShares, cpus, cpuset, blkioWeight } = limits;
  if (cpuShares !== undefined && !(Number.isInteger(cpuShares) && cpuShares >= MIN_SHARES && cpuShares <= MAX_SHARES)) {
    throw bad('cpu_shares', `must be a whole number from ${MIN_SHARES} to ${MAX_SHARES}, got ${cpuShares}`);
  }
  if (cpus !== undefined && !(Number.isFinite(cpus) && cpus >= MIN_CPUS)) throw bad('cpus', `must be at least ${MIN_CPUS}, got ${cpus}`);
  if (cpuset !== undefined && (cpuset.trim() === '' || parseCpuList(cpuset) === undefined)) {
    throw bad('cpuset', `must be a CPU list such as "0,1" or "0-3", got ${JSON.stringify(cpuset)}`);
  }
  if (blkioWeight !== undefined && !(Number.isInteger(blkioWeight) && blkioWeight >= 10 && blkioWeight <= 1000)) {
    throw bad('blkio_weight', `must be a whole number from 10 to 1000, got ${blkioWeight}`);
  }
  for (const key of ['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'] as const) {
    const attribute = ATTRIBUTE_NAMES[key];
    const list: readonly DeviceRate[] | undefined = limits[key];
    const seen = new Set<string>();
    for (const { path, rate } of list ?? []) {
      if (!path.startsWith('/')) throw bad(attribute, `device ${JSON.stringify(path)} must be an absolute path such as /dev/vdb`);
      if (seen.has(path)) throw bad(attribute, `names ${path} twice`);
      seen.add(path);
      if (!(Number.isSafeInteger(rate) && rate > 0)) throw bad(attribute, `rate for ${path} must be a positive whole number, got ${rate}`);
    }
  }
}
