// One interface over cgroup v1 (a hierarchy per controller) and v2 (the unified tree),
// as runc and youki do: the runtime asks for limits in user units, each implementation
// maps them to its own files. detect.ts picks the implementation the host runs.
//
// Layout: every container's cgroup is `<root>/<parent>/<id>` (v1: under each controller's
// mount point; v2: under the unified root). `parent` is "tsinfra" on a host.

export interface DeviceRate {
  /** A block device such as /dev/vdb, resolved to major:minor with stat. */
  readonly path: string;
  /** Bytes per second (bps) or operations per second (iops). */
  readonly rate: number;
}

/** Every attribute absent means "unlimited" (or the kernel's default). */
export interface CgroupLimits {
  /** Hard memory limit, bytes. */
  readonly memory?: number;
  /** Memory + swap, bytes, as docker's --memory-swap; -1 = unlimited swap. Needs `memory`. */
  readonly memorySwap?: number;
  /** Soft limit, bytes (v1 soft_limit_in_bytes, v2 memory.low). */
  readonly memoryReservation?: number;
  /** Relative CPU weight, 2..262144 (v1 cpu.shares; mapped to cpu.weight on v2). */
  readonly cpuShares?: number;
  /** CPUs worth of time per period, e.g. 1.5 (at least 0.01). */
  readonly cpus?: number;
  /** CPU list as the kernel writes it, e.g. "0,1" or "0-3". */
  readonly cpuset?: string;
  readonly pidsLimit?: number;
  /** Block I/O weight, 10..1000. */
  readonly blkioWeight?: number;
  readonly deviceReadBps?: readonly DeviceRate[];
  readonly deviceWriteBps?: readonly DeviceRate[];
  readonly deviceReadIops?: readonly DeviceRate[];
  readonly deviceWriteIops?: readonly DeviceRate[];
}

export interface DeviceRule {
  readonly type: 'a' | 'b' | 'c';
  readonly major: number | '*';
  readonly minor: number | '*';
  /** A non-empty subset of "rwm". */
  readonly access: string;
}

export interface CgroupStats {
  readonly cpuUsageNs: number;
  readonly memoryUsage: number;
  /** null: unlimited. */
  readonly memoryLimit: number | null;
  readonly pids: number;
  readonly blockReadBytes: number;
  readonly blockWriteBytes: number;
  readonly oomKills: number;
}

export interface CgroupManager {
  readonly version: 1 | 2;
  /** The parent below the root that holds every cgroup of this manager ("tsinfra"). */
  readonly parent: string;

  /**
   * Idempotent. v1: a directory in every controller hierarchy (cpuset: cpus and mems
   * copied from the parent, or no task could join); v2: enables +cpu +io +cpuset +memory
   * +pids in the subtree_control of every ancestor, as runc does.
   */
  create(id: string): Promise<void>;
  exists(id: string): Promise<boolean>;
  /** In place on a live cgroup; an attribute absent goes back to unlimited/default. */
  set(id: string, limits: CgroupLimits): Promise<void>;
  /**
   * What the kernel has, in user units. An attribute whose kernel value is what
   * `recorded` maps to comes back as recorded (rounding never looks like drift);
   * anything else is the kernel's value (drift), absent when the kernel has the default.
   */
  observe(id: string, recorded: CgroupLimits): Promise<CgroupLimits>;
  /** Allow-list: everything else is denied. Re-applying replaces the previous list. */
  setDevices(id: string, rules: readonly DeviceRule[]): Promise<void>;
  addProcess(id: string, pid: number): Promise<void>;
  /** The cgroup.procs files a process writes its own pid into to join (exec). */
  procsFiles(id: string): string[];
  /** The cgroup's directories (v1: one per hierarchy). */
  paths(id: string): string[];
  pids(id: string): Promise<number[]>;
  /** Resolves once every process is frozen. */
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  isFrozen(id: string): Promise<boolean>;
  stats(id: string): Promise<CgroupStats>;
  /** SIGKILL every process and wait until the cgroup is empty. */
  killAll(id: string): Promise<void>;
  /** Removes the cgroup (and any sub-cgroups) everywhere; absent is fine; E_CGROUP_BUSY while processes remain. */
  destroy(id: string): Promise<void>;
  /** Removes the parent and the cgroups left in it (uninstall, tests); absent is fine; E_CGROUP_BUSY while processes remain. */
  destroyParent(): Promise<void>;
}

export { DEFAULT_DEVICE_RULES } from './device-rules.js';
