// cgroup v1: one directory per controller hierarchy, `<mount>/<parent>/<id>`.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentFailure } from '../../rpc/failure.js';
import { resolveRates } from './block-devices.js';
import type { CgroupLimits, CgroupManager, CgroupStats, DeviceRule } from './cgroup-manager.js';
import { exists, isDirectory, parseKeyValues, readOptional, readText, removeCgroupDir, waitUntil, writeValue } from './cgroup-fs.js';
import { checkCgroupId, checkCgroupParent } from './cgroup-names.js';
import { freezeAndKill, killUntilEmpty, pidsUnder } from './cgroup-processes.js';
import { canonicalRuleLines, formatDeviceRule, validateDeviceRule } from './device-rules.js';
import { canonicalCpuList, CPU_PERIOD_US, cpusToQuota, pageFloor, parseLimit, quotaToCpus } from './limit-mapping.js';
import { ATTRIBUTE_NAMES, validateLimits } from './limits-validation.js';
import { ObservedLimits, RATE_KEYS, type RateKey } from './observed-limits.js';
import { pageSize } from './page-size.js';
import type { V1Controller } from './v1-hierarchies.js';

const DEFAULT_SHARES = 1024;
const FREEZE_TIMEOUT_MS = 10_000;

const THROTTLE_FILES: Record<RateKey, string> = {
  deviceReadBps: 'blkio.throttle.read_bps_device',
  deviceWriteBps: 'blkio.throttle.write_bps_device',
  deviceReadIops: 'blkio.throttle.read_iops_device',
  deviceWriteIops: 'blkio.throttle.write_iops_device',
};

/** The weight files v1 may have: cfq's (before Linux 5.0), then bfq's; and their defaults. */
const WEIGHT_FILES = [
  { file: 'blkio.weight', defaultWeight: 500 },
  { file: 'blkio.bfq.weight', defaultWeight: 100 },
] as const;

/** The attribute -> controller each limit needs (for E_CGROUP_UNSUPPORTED). */
const NEEDS: { [K in keyof CgroupLimits]-?: V1Controller } = {
  memory: 'memory',
  memorySwap: 'memory',
  memoryReservation: 'memory',
  cpuShares: 'cpu',
  cpus: 'cpu',
  cpuset: 'cpuset',
  pidsLimit: 'pids',
  blkioWeight: 'blkio',
  deviceReadBps: 'blkio',
  deviceWriteBps: 'blkio',
  deviceReadIops: 'blkio',
  deviceWriteIops: 'blkio',
};

/** "MAJ:MIN VALUE" lines of a throttle file. */
function parseDeviceLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\d+:\d+)\s+(\d+)$/.exec(line.trim());
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export class CgroupV1Manager implements CgroupManager {
  readonly version = 1 as const;

  constructor(
    private readonly mounts: ReadonlyMap<V1Controller, string>,
    readonly parent: string,
  ) {
    checkCgroupParent(parent);
  }

  private what(id: string, attribute?: string): string {
    return `cgroup ${this.parent}/${id}${attribute ? `: ${attribute}` : ''}`;
  }

  private dir(controller: V1Controller, id: string): string | undefined {
    const mount = this.mounts.get(controller);
    return mount === undefined ? undefined : join(mount, this.parent, id);
  }

  /** The controller's directory, or E_CGROUP_UNSUPPORTED naming the attribute. */
  private need(controller: V1Controller, id: string, attribute: string): string {
    const dir = this.dir(controller, id);
    if (dir === undefined) {
      throw new AgentFailure(
        'E_CGROUP_UNSUPPORTED',
        `${this.what(id, attribute)} needs the cgroup v1 ${controller} controller, which this host has not mounted`,
      );
    }
    return dir;
  }

  private mountPoints(): string[] {
    return [...new Set(this.mounts.values())];
  }

  paths(id: string): string[] {
    checkCgroupId(id);
    return this.mountPoints().map((m) => join(m, this.parent, id));
  }

  procsFiles(id: string): string[] {
    return this.paths(id).map((d) => join(d, 'cgroup.procs'));
  }

  async create(id: string): Promise<void> {
    checkCgroupId(id);
    const cpusetMount = this.mounts.get('cpuset');
    for (const mount of this.mountPoints()) {
      if (mount === cpusetMount) await this.createCpuset(mount, id);
      else await mkdir(join(mount, this.parent, id), { recursive: true, mode: 0o700 });
    }
  }

  /** A new cpuset cgroup starts with no CPUs and no memory nodes: copy the parent's, level by level. */
  private async createCpuset(mount: string, id: string): Promise<void> {
    let above = mount;
    for (const level of [...this.parent.split('/'), id]) {
      const dir = join(above, level);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        if ((await readText(join(dir, file))) === '') await writeValue(join(dir, file), await readText(join(above, file)), this.what(id, 'cpuset'));
      }
      above = dir;
    }
  }

  async exists(id: string): Promise<boolean> {
    for (const dir of this.paths(id)) if (!(await isDirectory(dir))) return false;
    return true;
  }

  async set(id: string, limits: CgroupLimits): Promise<void> {
    checkCgroupId(id);
    validateLimits(this.what(id), limits);
    if (!(await this.exists(id))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${this.what(id)} does not exist (create it first)`);
    // Everything that can be refused is checked before the first write.
    for (const key of Object.keys(limits) as (keyof CgroupLimits)[]) {
      if (limits[key] !== undefined) this.need(NEEDS[key], id, ATTRIBUTE_NAMES[key]);
    }
    const memory = this.dir('memory', id);
    const swapFile = memory && join(memory, 'memory.memsw.limit_in_bytes');
    const hasSwapFile = swapFile !== undefined && (await exists(swapFile));
    if (limits.memorySwap !== undefined && limits.memorySwap !== -1 && !hasSwapFile) {
      throw new AgentFailure(
        'E_CGROUP_UNSUPPORTED',
        `${this.what(id, 'memory_swap')}: this kernel does not account swap (no memory.memsw.limit_in_bytes; boot with swapaccount=1), so memory_swap cannot be enforced: remove it`,
      );
    }
    const blkio = this.dir('blkio', id);
    const weightFile = blkio && (await this.weightFile(blkio));
    if (limits.blkioWeight !== undefined && weightFile === undefined) {
      throw new AgentFailure(
        'E_CGROUP_UNSUPPORTED',
        `${this.what(id, 'blkio_weight')}: this kernel has neither blkio.weight nor blkio.bfq.weight (no CFQ or BFQ I/O scheduler)`,
      );
    }
    const rates = new Map<RateKey, Map<string, number>>();
    for (const key of RATE_KEYS) rates.set(key, await resolveRates(limits[key], ATTRIBUTE_NAMES[key]));

    if (memory) await this.setMemory(id, memory, limits, hasSwapFile);
    const cpu = this.dir('cpu', id);
    if (cpu) {
      await writeValue(join(cpu, 'cpu.shares'), String(limits.cpuShares ?? DEFAULT_SHARES), this.what(id, 'cpu_shares'));
      await writeValue(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_US), this.what(id, 'cpus'));
      await writeValue(join(cpu, 'cpu.cfs_quota_us'), limits.cpus === undefined ? '-1' : String(cpusToQuota(limits.cpus)), this.what(id, 'cpus'));
    }
    const cpuset = this.dir('cpuset', id);
    if (cpuset) await writeValue(join(cpuset, 'cpuset.cpus'), limits.cpuset ?? (await readText(join(cpuset, '..', 'cpuset.cpus'))), this.what(id, 'cpuset'));
    const pids = this.dir('pids', id);
    if (pids) await writeValue(join(pids, 'pids.max'), limits.pidsLimit === undefined ? 'max' : String(limits.pidsLimit), this.what(id, 'pids_limit'));
    if (blkio) {
      if (weightFile) await writeValue(join(blkio, weightFile.file), String(limits.blkioWeight ?? weightFile.defaultWeight), this.what(id, 'blkio_weight'));
      for (const key of RATE_KEYS) await this.setThrottle(id, join(blkio, THROTTLE_FILES[key]), rates.get(key)!, ATTRIBUTE_NAMES[key]);
    }
  }

  /**
   * The kernel keeps memory.limit_in_bytes <= memory.memsw.limit_in_bytes at every write:
   * when the new memsw is at least the current limit, memsw goes first, else the limit.
   * Absent values are -1 (unlimited).
   */
  private async setMemory(id: string, dir: string, limits: CgroupLimits, hasSwapFile: boolean): Promise<void> {
    const limitFile = join(dir, 'memory.limit_in_bytes');
    const swapFile = join(dir, 'memory.memsw.limit_in_bytes');
    const memory = String(limits.memory ?? -1);
    const swap = limits.memorySwap ?? -1;
    const writeMemory = () => writeValue(limitFile, memory, this.what(id, 'memory'));
    const writeSwap = () => writeValue(swapFile, String(swap), this.what(id, 'memory_swap'));
    if (!hasSwapFile) {
      await writeMemory();
    } else {
      const current = parseLimit(await readText(limitFile));
      if (swap === -1 || (current !== null && swap >= current)) {
        await writeSwap();
        await writeMemory();
      } else {
        await writeMemory();
        await writeSwap();
      }
    }
    await writeValue(join(dir, 'memory.soft_limit_in_bytes'), String(limits.memoryReservation ?? -1), this.what(id, 'memory_reservation'));
  }

  private async weightFile(blkio: string): Promise<(typeof WEIGHT_FILES)[number] | undefined> {
    for (const candidate of WEIGHT_FILES) if (await exists(join(blkio, candidate.file))) return candidate;
    return undefined;
  }

  /** Writes the wanted rates and resets (rate 0) devices that are no longer wanted. */
  private async setThrottle(id: string, file: string, wanted: ReadonlyMap<string, number>, attribute: string): Promise<void> {
    const current = parseDeviceLines((await readOptional(file)) ?? '');
    if (current.size === 0 && wanted.size === 0) return;
    for (const dev of current.keys()) if (!wanted.has(dev)) await writeValue(file, `${dev} 0`, this.what(id, attribute));
    for (const [dev, rate] of wanted) await writeValue(file, `${dev} ${rate}`, this.what(id, attribute));
  }

  async observe(id: string, recorded: CgroupLimits): Promise<CgroupLimits> {
    if (!(await this.exists(id))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${this.what(id)} does not exist`);
    const seen = new ObservedLimits(recorded);
    const page = pageSize();
    const expectedBytes = (v: number | undefined) => (v === undefined || v === -1 ? null : pageFloor(v, page));
    const memory = this.dir('memory', id);
    if (memory) {
      const limit = parseLimit(await readText(join(memory, 'memory.limit_in_bytes')));
      seen.keep('memory', limit === expectedBytes(recorded.memory), limit ?? undefined);
      const swapText = await readOptional(join(memory, 'memory.memsw.limit_in_bytes'));
      if (swapText !== undefined) {
        const swap = parseLimit(swapText);
        seen.keep('memorySwap', swap === expectedBytes(recorded.memorySwap), swap ?? undefined);
      } else {
        seen.keep('memorySwap', recorded.memorySwap === -1, undefined);
      }
      const soft = parseLimit(await readText(join(memory, 'memory.soft_limit_in_bytes')));
      seen.keep('memoryReservation', soft === expectedBytes(recorded.memoryReservation), soft ?? undefined);
    }
    const cpu = this.dir('cpu', id);
    if (cpu) {
      const shares = Number(await readText(join(cpu, 'cpu.shares')));
      seen.keep('cpuShares', shares === (recorded.cpuShares ?? DEFAULT_SHARES), shares === DEFAULT_SHARES ? undefined : shares);
      const quota = Number(await readText(join(cpu, 'cpu.cfs_quota_us')));
      const period = Number(await readText(join(cpu, 'cpu.cfs_period_us')));
      const same = recorded.cpus === undefined ? quota === -1 : quota === cpusToQuota(recorded.cpus) && period === CPU_PERIOD_US;
      seen.keep('cpus', same, quota === -1 ? undefined : quotaToCpus(quota, period));
    }
    const cpuset = this.dir('cpuset', id);
    if (cpuset) {
      const cpus = canonicalCpuList(await readText(join(cpuset, 'cpuset.cpus')));
      const inherited = canonicalCpuList(await readText(join(cpuset, '..', 'cpuset.cpus')));
      seen.keep(
        'cpuset',
        cpus === canonicalCpuList(recorded.cpuset ?? '') || (recorded.cpuset === undefined && cpus === inherited),
        cpus === inherited ? undefined : cpus,
      );
    }
    const pids = this.dir('pids', id);
    if (pids) {
      const max = parseLimit(await readText(join(pids, 'pids.max')));
      seen.keep('pidsLimit', max === (recorded.pidsLimit ?? null), max ?? undefined);
    }
    const blkio = this.dir('blkio', id);
    if (blkio) {
      const weightFile = await this.weightFile(blkio);
      if (weightFile) {
        const weight = Number(await readText(join(blkio, weightFile.file)));
        seen.keep('blkioWeight', weight === (recorded.blkioWeight ?? weightFile.defaultWeight), weight === weightFile.defaultWeight ? undefined : weight);
      }
      for (const key of RATE_KEYS) await seen.keepRates(key, parseDeviceLines((await readOptional(join(blkio, THROTTLE_FILES[key]))) ?? ''));
    }
    return seen.result();
  }

  async setDevices(id: string, rules: readonly DeviceRule[]): Promise<void> {
    checkCgroupId(id);
    for (const rule of rules) validateDeviceRule(rule);
    const dir = this.need('devices', id, 'devices');
    // Rewriting an identical list is skipped: "deny all" is refused once the cgroup has children.
    const current = (await readText(join(dir, 'devices.list'))).split('\n').filter(Boolean).sort();
    const wanted = canonicalRuleLines(rules);
    if (current.join('\n') === wanted.join('\n')) return;
    await writeValue(join(dir, 'devices.deny'), 'a', this.what(id, 'devices'));
    for (const rule of rules) {
      await writeValue(join(dir, 'devices.allow'), rule.type === 'a' ? 'a' : formatDeviceRule(rule), this.what(id, 'devices'));
    }
  }

  async addProcess(id: string, pid: number): Promise<void> {
    for (const file of this.procsFiles(id)) await writeValue(file, String(pid), this.what(id, `adding process ${pid}`));
  }

  pids(id: string): Promise<number[]> {
    return pidsUnder(this.paths(id));
  }

  async freeze(id: string): Promise<void> {
    const file = join(this.need('freezer', id, 'pause'), 'freezer.state');
    // A task that is busy in the kernel can keep the cgroup FREEZING: write FROZEN again
    // while waiting (the kernel retries the stragglers), as runc does.
    const frozen = await waitUntil(
      async () => {
        await writeValue(file, 'FROZEN', this.what(id, 'pause'));
        return (await readText(file)) === 'FROZEN';
      },
      FREEZE_TIMEOUT_MS,
      10,
    );
    if (!frozen) {
      await writeValue(file, 'THAWED', this.what(id, 'pause'));
      throw new AgentFailure('E_CGROUP_FREEZE_TIMEOUT', `${this.what(id)}: processes did not freeze within ${FREEZE_TIMEOUT_MS / 1000} s; left running`);
    }
  }

  async thaw(id: string): Promise<void> {
    const file = join(this.need('freezer', id, 'unpause'), 'freezer.state');
    await writeValue(file, 'THAWED', this.what(id, 'unpause'));
    await waitUntil(async () => (await readText(file)) === 'THAWED', FREEZE_TIMEOUT_MS);
  }

  async isFrozen(id: string): Promise<boolean> {
    const dir = this.dir('freezer', id);
    return dir !== undefined && (await readOptional(join(dir, 'freezer.state'))) === 'FROZEN';
  }

  async stats(id: string): Promise<CgroupStats> {
    checkCgroupId(id);
    const read = async (controller: V1Controller, file: string) => {
      const dir = this.dir(controller, id);
      return dir === undefined ? undefined : readOptional(join(dir, file));
    };
    const number = (text: string | undefined) => (text === undefined ? 0 : Number(text) || 0);
    const limit = await read('memory', 'memory.limit_in_bytes');
    const pidsCurrent = await read('pids', 'pids.current');
    const block = { Read: 0, Write: 0 };
    const io =
      (await read('blkio', 'blkio.throttle.io_service_bytes_recursive')) ??
      (await read('blkio', 'blkio.io_service_bytes_recursive')) ??
      (await read('blkio', 'blkio.bfq.io_service_bytes_recursive'));
    for (const line of (io ?? '').split('\n')) {
      const m = /^\d+:\d+ (Read|Write) (\d+)$/.exec(line.trim());
      if (m) block[m[1] as 'Read' | 'Write'] += Number(m[2]);
    }
    return {
      cpuUsageNs: number(await read('cpuacct', 'cpuacct.usage')),
      memoryUsage: number(await read('memory', 'memory.usage_in_bytes')),
      memoryLimit: limit === undefined ? null : parseLimit(limit),
      pids: pidsCurrent === undefined ? (await this.pids(id)).length : number(pidsCurrent),
      blockReadBytes: block.Read,
      blockWriteBytes: block.Write,
      oomKills: parseKeyValues((await read('memory', 'memory.oom_control')) ?? '').get('oom_kill') ?? 0,
    };
  }

  async killAll(id: string): Promise<void> {
    checkCgroupId(id);
    // Frozen, nothing can fork between the listing and the signal; SIGKILL lands on thaw.
    const freezer = this.dir('freezer', id);
    if (freezer && (await isDirectory(freezer))) {
      await freezeAndKill(this, id);
    }
    await killUntilEmpty(this.what(id), () => this.pids(id));
  }

  async destroy(id: string): Promise<void> {
    checkCgroupId(id);
    const failures: string[] = [];
    for (const dir of this.paths(id)) {
      const code = await removeCgroupDir(dir);
      if (code) failures.push(`${dir}: ${code}`);
    }
    if (failures.length === 0) return;
    const pids = await this.pids(id);
    if (pids.length > 0) throw new AgentFailure('E_CGROUP_BUSY', `${this.what(id)} still has processes (${pids.join(', ')}): kill them first`);
    throw new AgentFailure('E_CGROUP_BUSY', `${this.what(id)} could not be removed: ${failures.join('; ')}`);
  }

  async destroyParent(): Promise<void> {
    const failures: string[] = [];
    for (const mount of this.mountPoints()) {
      const code = await removeCgroupDir(join(mount, this.parent));
      if (code) failures.push(`${join(mount, this.parent)}: ${code}`);
    }
    if (failures.length > 0) throw new AgentFailure('E_CGROUP_BUSY', `cgroup parent ${this.parent} could not be removed: ${failures.join('; ')}`);
  }
}
