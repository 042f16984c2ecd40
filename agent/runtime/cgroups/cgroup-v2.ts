// cgroup v2: one directory in the unified tree, `<root>/<parent>/<id>`. Controllers
// must be enabled in every ancestor's cgroup.subtree_control before their files appear;
// the device allow-list is an eBPF program (device-filter-bpf.ts) instead of a file.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentFailure } from '../../rpc/failure.js';
import { resolveRates } from './block-devices.js';
import { replaceDeviceFilter } from './bpf.js';
import type { CgroupLimits, CgroupManager, CgroupStats, DeviceRule } from './cgroup-manager.js';
import { exists, isDirectory, parseKeyValues, readOptional, removeCgroupDir, waitUntil, writeValue } from './cgroup-fs.js';
import { checkCgroupId, checkCgroupParent } from './cgroup-names.js';
import { freezeAndKill, killUntilEmpty, pidsUnder } from './cgroup-processes.js';
import { deviceFilterInstructions, encodeInstructions } from './device-filter-bpf.js';
import {
  blkioToIoWeight,
  canonicalCpuList,
  CPU_PERIOD_US,
  cpusToQuota,
  ioWeightToBlkio,
  pageFloor,
  parseLimit,
  quotaToCpus,
  sharesToWeight,
  weightToShares,
} from './limit-mapping.js';
import { ATTRIBUTE_NAMES, validateLimits } from './limits-validation.js';
import { ObservedLimits, RATE_KEYS, type RateKey } from './observed-limits.js';
import { pageSize } from './page-size.js';

/** Enabled in every ancestor, as runc does. */
const CONTROLLERS = ['cpu', 'io', 'cpuset', 'memory', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];
const DEFAULT_WEIGHT = 100; // cpu.weight, io.weight and io.bfq.weight
const FREEZE_TIMEOUT_MS = 10_000;

const NEEDS: { [K in keyof CgroupLimits]-?: Controller } = {
  memory: 'memory',
  memorySwap: 'memory',
  memoryReservation: 'memory',
  cpuShares: 'cpu',
  cpus: 'cpu',
  cpuset: 'cpuset',
  pidsLimit: 'pids',
  blkioWeight: 'io',
  deviceReadBps: 'io',
  deviceWriteBps: 'io',
  deviceReadIops: 'io',
  deviceWriteIops: 'io',
};

/** io.max keys, in the order the kernel prints them. */
const IO_MAX_KEYS: Record<RateKey, string> = { deviceReadBps: 'rbps', deviceWriteBps: 'wbps', deviceReadIops: 'riops', deviceWriteIops: 'wiops' };

/** io.max lines ("8:16 rbps=2097152 wbps=max riops=max wiops=120") -> per attribute MAJ:MIN -> rate. */
function parseIoMax(text: string): Map<RateKey, Map<string, number>> {
  const out = new Map<RateKey, Map<string, number>>(RATE_KEYS.map((k) => [k, new Map()]));
  for (const line of text.split('\n')) {
    const [dev, ...fields] = line.trim().split(/\s+/);
    if (!dev || !/^\d+:\d+$/.test(dev)) continue;
    for (const field of fields) {
      const [name, value] = field.split('=');
      const key = RATE_KEYS.find((k) => IO_MAX_KEYS[k] === name);
      if (key && value && /^\d+$/.test(value)) out.get(key)!.set(dev, Number(value));
    }
  }
  return out;
}

/** The default weight in io.weight / io.bfq.weight ("default 100" then per-device lines). */
function parseDefaultWeight(text: string): number {
  const m = /^(?:default\s+)?(\d+)$/m.exec(text.trim().split('\n')[0] ?? '');
  return m ? Number(m[1]) : DEFAULT_WEIGHT;
}

async function words(file: string): Promise<Set<string>> {
  return new Set(((await readOptional(file)) ?? '').split(/\s+/).filter(Boolean));
}

export class CgroupV2Manager implements CgroupManager {
  readonly version = 2 as const;

  constructor(
    private readonly root: string,
    readonly parent: string,
  ) {
    checkCgroupParent(parent);
  }

  private what(id: string, attribute?: string): string {
    return `cgroup ${this.parent}/${id}${attribute ? `: ${attribute}` : ''}`;
  }

  private dir(id: string): string {
    checkCgroupId(id);
    return join(this.root, this.parent, id);
  }

  paths(id: string): string[] {
    return [this.dir(id)];
  }

  procsFiles(id: string): string[] {
    return [join(this.dir(id), 'cgroup.procs')];
  }

  async create(id: string): Promise<void> {
    let dir = this.root;
    for (const level of this.parent.split('/')) {
      await this.enableControllers(dir);
      dir = join(dir, level);
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
    await this.enableControllers(dir);
    await mkdir(this.dir(id), { recursive: true, mode: 0o700 });
  }

  /**
   * Enables in `dir`'s subtree_control the wanted controllers it has, one at a time: a
   * controller the kernel refuses (e.g. cpu while realtime tasks run outside the root)
   * stays off, and a limit that needs it is refused by set() with a message naming it.
   */
  private async enableControllers(dir: string): Promise<void> {
    const available = await words(join(dir, 'cgroup.controllers'));
    const enabled = await words(join(dir, 'cgroup.subtree_control'));
    for (const controller of CONTROLLERS) {
      if (!available.has(controller) || enabled.has(controller)) continue;
      try {
        await writeValue(join(dir, 'cgroup.subtree_control'), `+${controller}`, `cgroup ${dir}`);
      } catch {
        // reported by set() when a limit needs it
      }
    }
  }

  async exists(id: string): Promise<boolean> {
    return isDirectory(this.dir(id));
  }

  async set(id: string, limits: CgroupLimits): Promise<void> {
    const dir = this.dir(id);
    validateLimits(this.what(id), limits);
    if (!(await isDirectory(dir))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${this.what(id)} does not exist (create it first)`);
    const enabled = await words(join(dir, 'cgroup.controllers'));
    for (const key of Object.keys(limits) as (keyof CgroupLimits)[]) {
      const controller = NEEDS[key];
      if (limits[key] !== undefined && !enabled.has(controller)) {
        throw new AgentFailure(
          'E_CGROUP_UNSUPPORTED',
          `${this.what(id, ATTRIBUTE_NAMES[key])} needs the cgroup v2 ${controller} controller, which is not enabled in ${join(this.root, this.parent)}/cgroup.subtree_control (enabled: ${[...enabled].join(' ') || 'none'})`,
        );
      }
    }
    const hasSwapFile = await exists(join(dir, 'memory.swap.max'));
    if (limits.memorySwap !== undefined && limits.memorySwap !== -1 && !hasSwapFile) {
      throw new AgentFailure(
        'E_CGROUP_UNSUPPORTED',
        `${this.what(id, 'memory_swap')}: this kernel does not account swap (no memory.swap.max), so memory_swap cannot be enforced: remove it`,
      );
    }
    const weightFile = await this.weightFile(dir);
    if (limits.blkioWeight !== undefined && weightFile === undefined) {
      throw new AgentFailure(
        'E_CGROUP_UNSUPPORTED',
        `${this.what(id, 'blkio_weight')}: this kernel has neither io.bfq.weight nor io.weight (no BFQ scheduler or io cost model)`,
      );
    }
    const rates = new Map<RateKey, Map<string, number>>();
    for (const key of RATE_KEYS) rates.set(key, await resolveRates(limits[key], ATTRIBUTE_NAMES[key]));

    const write = (file: string, value: string, attribute: string) => writeValue(join(dir, file), value, this.what(id, attribute));
    if (enabled.has('memory')) {
      await write('memory.max', limits.memory === undefined ? 'max' : String(limits.memory), 'memory');
      // memory_swap counts memory + swap; memory.swap.max is the swap alone.
      const swap = limits.memorySwap === undefined || limits.memorySwap === -1 ? 'max' : String(limits.memorySwap - limits.memory!);
      if (hasSwapFile) await write('memory.swap.max', swap, 'memory_swap');
      await write('memory.low', String(limits.memoryReservation ?? 0), 'memory_reservation');
    }
    if (enabled.has('cpu')) {
      await write('cpu.weight', String(limits.cpuShares === undefined ? DEFAULT_WEIGHT : sharesToWeight(limits.cpuShares)), 'cpu_shares');
      await write('cpu.max', `${limits.cpus === undefined ? 'max' : cpusToQuota(limits.cpus)} ${CPU_PERIOD_US}`, 'cpus');
    }
    // An empty cpuset.cpus means "the parent's CPUs" on v2 (the kernel strips the newline).
    if (enabled.has('cpuset')) await write('cpuset.cpus', limits.cpuset ?? '\n', 'cpuset');
    if (enabled.has('pids')) await write('pids.max', limits.pidsLimit === undefined ? 'max' : String(limits.pidsLimit), 'pids_limit');
    if (enabled.has('io')) {
      if (weightFile) {
        const weight =
          limits.blkioWeight === undefined ? DEFAULT_WEIGHT : weightFile === 'io.bfq.weight' ? limits.blkioWeight : blkioToIoWeight(limits.blkioWeight);
        await write(weightFile, String(weight), 'blkio_weight');
      }
      await this.setIoMax(id, dir, rates);
    }
  }

  /** BFQ takes blkio's 1..1000 scale as is; io.weight (1..10000) needs runc's conversion. */
  private async weightFile(dir: string): Promise<'io.bfq.weight' | 'io.weight' | undefined> {
    if (await exists(join(dir, 'io.bfq.weight'))) return 'io.bfq.weight';
    if (await exists(join(dir, 'io.weight'))) return 'io.weight';
    return undefined;
  }

  /** One io.max line per device: the wanted limits, "max" elsewhere (which also resets a device no longer listed). */
  private async setIoMax(id: string, dir: string, rates: ReadonlyMap<RateKey, ReadonlyMap<string, number>>): Promise<void> {
    const file = join(dir, 'io.max');
    const current = parseIoMax((await readOptional(file)) ?? '');
    const devices = new Set<string>();
    for (const key of RATE_KEYS) for (const dev of [...current.get(key)!.keys(), ...rates.get(key)!.keys()]) devices.add(dev);
    for (const dev of devices) {
      const fields = RATE_KEYS.map((key) => `${IO_MAX_KEYS[key]}=${rates.get(key)!.get(dev) ?? 'max'}`);
      await writeValue(file, `${dev} ${fields.join(' ')}`, this.what(id, 'device limits'));
    }
  }

  async observe(id: string, recorded: CgroupLimits): Promise<CgroupLimits> {
    const dir = this.dir(id);
    if (!(await isDirectory(dir))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${this.what(id)} does not exist`);
    const seen = new ObservedLimits(recorded);
    const page = pageSize();
    const expectedBytes = (v: number | undefined) => (v === undefined || v === -1 ? null : pageFloor(v, page));
    const read = (file: string) => readOptional(join(dir, file));
    const memoryMax = await read('memory.max');
    if (memoryMax !== undefined) {
      const memory = parseLimit(memoryMax);
      seen.keep('memory', memory === expectedBytes(recorded.memory), memory ?? undefined);
      const swapText = await read('memory.swap.max');
      if (swapText !== undefined) {
        const swap = parseLimit(swapText);
        const { memorySwap: recordedSwap, memory: recordedMemory } = recorded;
        const expected = recordedSwap === undefined || recordedSwap === -1 ? null : pageFloor(recordedSwap - (recordedMemory ?? 0), page);
        // memory_swap cannot say "limited swap, unlimited memory": that shows as absent.
        const kernel = swap === null || memory === null ? undefined : memory + swap;
        // memory_swap counts memory too: a hand-changed memory.max moves it as well.
        seen.keep('memorySwap', swap === expected && (swap === null || memory === expectedBytes(recordedMemory)), kernel);
      } else {
        seen.keep('memorySwap', recorded.memorySwap === -1, undefined);
      }
      const low = parseLimit((await read('memory.low')) ?? '0');
      seen.keep('memoryReservation', (low || null) === expectedBytes(recorded.memoryReservation), low || undefined);
    }
    const cpuWeight = await read('cpu.weight');
    if (cpuWeight !== undefined) {
      const weight = Number(cpuWeight);
      const expected = recorded.cpuShares === undefined ? DEFAULT_WEIGHT : sharesToWeight(recorded.cpuShares);
      seen.keep('cpuShares', weight === expected, weight === DEFAULT_WEIGHT ? undefined : weightToShares(weight));
    }
    const cpuMax = await read('cpu.max');
    if (cpuMax !== undefined) {
      const [quota = 'max', period = String(CPU_PERIOD_US)] = cpuMax.split(/\s+/);
      const same = recorded.cpus === undefined ? quota === 'max' : quota === String(cpusToQuota(recorded.cpus)) && period === String(CPU_PERIOD_US);
      seen.keep('cpus', same, quota === 'max' ? undefined : quotaToCpus(Number(quota), Number(period)));
    }
    const cpusetText = await read('cpuset.cpus');
    if (cpusetText !== undefined) {
      const cpus = canonicalCpuList(cpusetText);
      seen.keep('cpuset', cpus === canonicalCpuList(recorded.cpuset ?? ''), cpus || undefined);
    }
    const pidsMax = await read('pids.max');
    if (pidsMax !== undefined) {
      const max = parseLimit(pidsMax);
      seen.keep('pidsLimit', max === (recorded.pidsLimit ?? null), max ?? undefined);
    }
    const weightFile = await this.weightFile(dir);
    if (weightFile) {
      const weight = parseDefaultWeight((await read(weightFile)) ?? '');
      const toKernel = (w: number) => (weightFile === 'io.bfq.weight' ? w : blkioToIoWeight(w));
      const expected = recorded.blkioWeight === undefined ? DEFAULT_WEIGHT : toKernel(recorded.blkioWeight);
      const kernel = weight === DEFAULT_WEIGHT ? undefined : weightFile === 'io.bfq.weight' ? weight : ioWeightToBlkio(weight);
      seen.keep('blkioWeight', weight === expected, kernel);
    }
    const ioMax = await read('io.max');
    if (ioMax !== undefined) {
      const kernel = parseIoMax(ioMax);
      for (const key of RATE_KEYS) await seen.keepRates(key, kernel.get(key)!);
    }
    return seen.result();
  }

  async setDevices(id: string, rules: readonly DeviceRule[]): Promise<void> {
    const program = encodeInstructions(deviceFilterInstructions(rules));
    replaceDeviceFilter(this.dir(id), program, this.what(id, 'devices'));
  }

  async addProcess(id: string, pid: number): Promise<void> {
    for (const file of this.procsFiles(id)) await writeValue(file, String(pid), this.what(id, `adding process ${pid}`));
  }

  pids(id: string): Promise<number[]> {
    return pidsUnder(this.paths(id));
  }

  private async freezeFile(id: string, attribute: string): Promise<string> {
    const file = join(this.dir(id), 'cgroup.freeze');
    if (!(await exists(file))) {
      if (!(await isDirectory(this.dir(id)))) throw new AgentFailure('E_CGROUP_NOT_FOUND', `${this.what(id, attribute)}: the cgroup does not exist`);
      throw new AgentFailure('E_CGROUP_UNSUPPORTED', `${this.what(id, attribute)} needs cgroup.freeze (Linux 5.2 or later)`);
    }
    return file;
  }

  /** cgroup.events "frozen" once every task has stopped. */
  private async frozenEvent(id: string): Promise<boolean> {
    return parseKeyValues((await readOptional(join(this.dir(id), 'cgroup.events'))) ?? '').get('frozen') === 1;
  }

  async freeze(id: string): Promise<void> {
    const file = await this.freezeFile(id, 'pause');
    await writeValue(file, '1', this.what(id, 'pause'));
    if (!(await waitUntil(() => this.frozenEvent(id), FREEZE_TIMEOUT_MS))) {
      await writeValue(file, '0', this.what(id, 'pause'));
      throw new AgentFailure('E_CGROUP_FREEZE_TIMEOUT', `${this.what(id)}: processes did not freeze within ${FREEZE_TIMEOUT_MS / 1000} s; left running`);
    }
  }

  async thaw(id: string): Promise<void> {
    const file = await this.freezeFile(id, 'unpause');
    await writeValue(file, '0', this.what(id, 'unpause'));
    await waitUntil(async () => !(await this.frozenEvent(id)), FREEZE_TIMEOUT_MS);
  }

  async isFrozen(id: string): Promise<boolean> {
    return this.frozenEvent(id);
  }

  async stats(id: string): Promise<CgroupStats> {
    const dir = this.dir(id);
    const read = async (file: string) => readOptional(join(dir, file));
    const number = (text: string | undefined) => (text === undefined ? 0 : Number(text) || 0);
    const memoryMax = await read('memory.max');
    const pidsCurrent = await read('pids.current');
    let blockReadBytes = 0;
    let blockWriteBytes = 0;
    for (const line of ((await read('io.stat')) ?? '').split('\n')) {
      blockReadBytes += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
      blockWriteBytes += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
    return {
      cpuUsageNs: (parseKeyValues((await read('cpu.stat')) ?? '').get('usage_usec') ?? 0) * 1000,
      memoryUsage: number(await read('memory.current')),
      memoryLimit: memoryMax === undefined ? null : parseLimit(memoryMax),
      pids: pidsCurrent === undefined ? (await this.pids(id)).length : number(pidsCurrent),
      blockReadBytes,
      blockWriteBytes,
      oomKills: parseKeyValues((await read('memory.events')) ?? '').get('oom_kill') ?? 0,
    };
  }

  async killAll(id: string): Promise<void> {
    const dir = this.dir(id);
    if (!(await isDirectory(dir))) return;
    const killFile = join(dir, 'cgroup.kill');
    if (await exists(killFile)) {
      // Linux 5.14+: the kernel kills the whole subtree, forks included.
      await writeValue(killFile, '1', this.what(id, 'kill'));
    } else {
      await freezeAndKill(this, id);
    }
    await killUntilEmpty(this.what(id), () => this.pids(id));
  }

  async destroy(id: string): Promise<void> {
    const code = await removeCgroupDir(this.dir(id));
    if (!code) return;
    const pids = await this.pids(id);
    if (pids.length > 0) throw new AgentFailure('E_CGROUP_BUSY', `${this.what(id)} still has processes (${pids.join(', ')}): kill them first`);
    throw new AgentFailure('E_CGROUP_BUSY', `${this.what(id)} could not be removed: ${code}`);
  }

  async destroyParent(): Promise<void> {
    const dir = join(this.root, this.parent);
    const code = await removeCgroupDir(dir);
    if (code) throw new AgentFailure('E_CGROUP_BUSY', `cgroup parent ${dir} could not be removed: ${code}`);
  }
}
