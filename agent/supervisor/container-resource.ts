// The `container` resource type on the agent's side: turns the resource's attributes
// (providers/container-plan.ts gives their canonical shape) into a supervisor spec, and
// the supervisor's view of a container back into attributes. The supervisor does the
// work; this module only translates.
import { randomBytes } from 'node:crypto';
import { AgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { parseDuration } from '../runtime/durations.js';
import { formatSize, tryParseSize } from '../runtime/sizes.js';
import type { ContainerInfo, ContainerSpec } from './protocol.js';
import { lvDevicePath, type ContainerVolumes, type RootfsVolume } from '../storage/container-volumes.js';
import type { SupervisorClient } from './supervisor-client.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

function bytes(v: unknown, what: string): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = tryParseSize(v as string | number);
  if (n === undefined) throw new AgentFailure('E_RPC_INVALID', `invalid size for ${what}: ${JSON.stringify(v)}`);
  return n;
}

function rates(v: unknown, size: boolean, what: string): { path: string; rate: number }[] | undefined {
  const entries = Object.entries(obj(v));
  if (entries.length === 0) return undefined;
  // A logical volume's id (`vg0/raw`) names its device.
  return entries.map(([path, r]) => ({ path: lvDevicePath(path, what), rate: size ? bytes(r, what)! : Number(r) }));
}

/** The cgroup limits of a `resources` block, in bytes and numbers. */
export function limitsOf(resources: unknown): ContainerSpec['limits'] {
  const r = obj(resources);
  const out: Record<string, unknown> = {
    memory: bytes(r['memory'], 'resources.memory'),
    memorySwap: bytes(r['memory_swap'], 'resources.memory_swap'),
    memoryReservation: bytes(r['memory_reservation'], 'resources.memory_reservation'),
    cpuShares: num(r['cpu_shares']),
    cpus: num(r['cpus']),
    cpuset: str(r['cpuset']) ?? undefined,
    pidsLimit: num(r['pids_limit']),
    blkioWeight: num(r['blkio_weight']),
    deviceReadBps: rates(r['device_read_bps'], true, 'resources.device_read_bps'),
    deviceWriteBps: rates(r['device_write_bps'], true, 'resources.device_write_bps'),
    deviceReadIops: rates(r['device_read_iops'], false, 'resources.device_read_iops'),
    deviceWriteIops: rates(r['device_write_iops'], false, 'resources.device_write_iops'),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out as ContainerSpec['limits'];
}

/** The `resources` attribute as the kernel has it: recorded strings kept where the bytes match. */
function resourcesFrom(recorded: unknown, limits: ContainerSpec['limits']): Obj {
  const r = { ...obj(recorded) };
  const size = (key: string, value: number | undefined) => {
    const was = r[key];
    const wasBytes = was === null || was === undefined ? undefined : tryParseSize(was as string | number);
    if (wasBytes !== value) r[key] = value === undefined ? null : formatSize(value);
  };
  size('memory', limits.memory);
  size('memory_swap', limits.memorySwap);
  size('memory_reservation', limits.memoryReservation);
  const plain = (key: string, value: unknown) => {
    if ((r[key] ?? null) !== (value ?? null)) r[key] = value ?? null;
  };
  plain('cpu_shares', limits.cpuShares);
  plain('cpus', limits.cpus);
  plain('cpuset', limits.cpuset);
  plain('pids_limit', limits.pidsLimit);
  plain('blkio_weight', limits.blkioWeight);
  return r;
}

function restartOf(v: unknown): ContainerSpec['restart'] {
  const r = obj(v);
  const policy = (str(r['policy']) ?? 'no') as ContainerSpec['restart']['policy'];
  const max = num(r['max_retries']);
  return max === undefined ? { policy } : { policy, maxRetries: max };
}

function stateOf(v: unknown): ContainerSpec['state'] {
  return v === 'stopped' || v === 'paused' ? v : 'running';
}

/** The resource's short name (`web` of `container.web[0]`): what peers resolve it by. */
function dnsName(address: string): string {
  // `container.web`, `container.web[0]`, `container.web["a.b"]`: the name follows the type.
  return /^[^.]+\.([^.[]+)/.exec(address)?.[1] ?? address;
}

/** What an apply looked up on the host for the spec: the filesystems of mounted LVs, the rootfs LV. */
export interface HostLookups {
  readonly lvFilesystems: ReadonlyMap<string, { device: string; fsType: string; options: string[] }>;
  readonly rootfsVolume?: RootfsVolume;
}

const NO_LOOKUPS: HostLookups = { lvFilesystems: new Map() };

export function specOf(id: string, address: string, a: ResourceState, lookups: HostLookups = NO_LOOKUPS): ContainerSpec {
  const image = str(a['image']);
  if (!image) throw new AgentFailure('E_RPC_INVALID', `${address}: attribute "image" is missing`);
  const name = dnsName(address);
  return {
    id,
    name: address,
    dnsName: name,
    imageId: image,
    command: Array.isArray(a['command']) ? (a['command'] as string[]) : null,
    env: Object.fromEntries(Object.entries(obj(a['env'])).map(([k, v]) => [k, String(v)])),
    workingDir: str(a['working_dir']),
    user: str(a['user']),
    hostname: str(a['hostname']) ?? name.replace(/_/g, '-'),
    extraHosts: Object.fromEntries(Object.entries(obj(a['extra_hosts'])).map(([k, v]) => [k, String(v)])),
    localtime: a['localtime'] === true,
    readOnlyRootfs: a['read_only_rootfs'] === true,
    mounts: [
      ...list(a['mount']).map((m) => {
        const type = str(m['type']);
        const source = str(m['source']) ?? '';
        const common = { target: str(m['target']) ?? '', readOnly: m['read_only'] === true, sizeBytes: 0 };
        if (type === 'logical_volume') {
          const fs = lookups.lvFilesystems.get(source);
          if (!fs) throw new Error(`bug: the filesystem of ${source} was not looked up`);
          return { type: 'logical_volume' as const, source: fs.device, fsType: fs.fsType, options: fs.options, ...common };
        }
        if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
          throw new AgentFailure('E_UNSUPPORTED', `${address}: mounts of type ${JSON.stringify(type)} are not supported by this agent`);
        }
        return { type: type as 'bind' | 'volume' | 'tmpfs', source, ...common };
      }),
      ...list(a['tmpfs']).map((t) => ({
        type: 'tmpfs' as const,
        source: '',
        target: str(t['target']) ?? '',
        readOnly: false,
        sizeBytes: bytes(t['size'], 'tmpfs.size') ?? 0,
      })),
    ],
    devices: list(a['device']).map((d, i) => ({
      source: lvDevicePath(str(d['source']) ?? '', `device[${i}].source`),
      target: str(d['target']) ?? '',
      permissions: str(d['permissions']) ?? 'rwm',
    })),
    networkMode: str(a['network_mode']) ?? 'none',
    networks: list(a['network']).map((n) => ({
      bridge: str(n['id']) ?? '',
      ip: str(n['ip']),
      aliases: Array.isArray(n['aliases']) ? (n['aliases'] as string[]) : [],
    })),
    ports: list(a['port']).map((p) => ({
      hostPort: Number(p['host_port']),
      containerPort: Number(p['container_port']),
      protocol: p['protocol'] === 'udp' ? 'udp' : 'tcp',
      hostIp: str(p['host_ip']),
    })),
    limits: limitsOf(a['resources']),
    restart: restartOf(a['restart']),
    capabilities: {
      add: Array.isArray(obj(a['capabilities'])['add']) ? (obj(a['capabilities'])['add'] as string[]) : [],
      drop: Array.isArray(obj(a['capabilities'])['drop']) ? (obj(a['capabilities'])['drop'] as string[]) : [],
    },
    privileged: a['privileged'] === true,
    noNewPrivileges: a['no_new_privileges'] !== false,
    seccompProfile: str(a['seccomp_profile']) ?? 'default',
    stopSignal: str(a['stop_signal']) ?? 'SIGTERM',
    stopTimeoutMs: parseDuration(str(a['stop_timeout']) ?? '10s') ?? 10_000,
    state: stateOf(a['state']),
    ...(lookups.rootfsVolume ? { rootfsVolume: lookups.rootfsVolume } : {}),
  };
}

/** The resource's attributes as the host has them now. */
export function stateFrom(recorded: ResourceState, info: ContainerInfo): ResourceState {
  const networks = list(recorded['network']).map((n) => str(n['id']) ?? '');
  const ipAddresses = Object.fromEntries(networks.filter((b) => info.ipAddresses[b]).map((b) => [b, info.ipAddresses[b]!]));
  const actual = info.status === 'paused' ? 'paused' : info.status === 'stopped' ? 'stopped' : 'running';
  return {
    ...recorded,
    id: info.id,
    state: actual,
    status: actual,
    pid: info.pid,
    started_at: info.startedAt,
    restart_count: info.restartCount,
    ip_address: networks.length ? (ipAddresses[networks[0]!] ?? null) : null,
    ip_addresses: ipAddresses,
    resources: resourcesFrom(recorded['resources'], info.limits as ContainerSpec['limits']),
  };
}

/** Where containers register as users of their image, so it stays while they need it. */
export interface ImageUsers {
  acquire(id: string, user: string): Promise<boolean>;
  release(id: string, user: string): Promise<unknown>;
}

export class ContainerResource implements ResourceHandler {
  constructor(
    private readonly supervisor: SupervisorClient,
    private readonly images: ImageUsers,
    private readonly volumes: ContainerVolumes,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const id = str(state['id']);
    if (!id) return null;
    const r = await this.supervisor.call('container.inspect', { ids: [id] });
    const info = r.items[0]?.info;
    return info ? stateFrom(state, info) : null;
  }

  async apply(
    action: ApplyAction,
    prior: ResourceState | null,
    planned: ResourceState | null,
    progress: Progress,
    address: string,
  ): Promise<ResourceState | null> {
    if (action === 'delete') {
      const id = str(prior?.['id']);
      if (id) await this.supervisor.call('container.delete', { id });
      const pool = str(prior?.['rootfs_thin_pool']);
      if (id && pool && prior?.['rootfs_size'] != null) await this.volumes.removeRootfs(id, pool);
      const image = str(prior?.['image']);
      if (id && image) await this.images.release(image, `container:${id}`);
      return null;
    }
    if (action === 'create') return this.create(planned!, progress, address);
    const id = str(prior?.['id']);
    if (!id) throw new AgentFailure('E_RPC_INVALID', 'prior.id: required for update');
    const spec = specOf(id, address, planned!, { lvFilesystems: await this.lvFilesystems(planned!) });
    const info = await this.supervisor.call('container.update', { id, limits: spec.limits, restart: spec.restart, state: spec.state });
    return stateFrom({ ...planned!, id }, info);
  }

  private async create(planned: ResourceState, progress: Progress, address: string): Promise<ResourceState> {
    const id = randomBytes(8).toString('hex');
    const lvFilesystems = await this.lvFilesystems(planned);
    const imageId = str(planned['image']);
    // The image is held for the container first: deleting the image resource then leaves it in place.
    if (imageId && !(await this.images.acquire(imageId, `container:${id}`))) {
      throw new AgentFailure('E_IMAGE_MISSING', `${address}: image ${imageId} is not on this host (apply its image resource first)`);
    }
    const quota = bytes(planned['rootfs_size'], 'rootfs_size');
    const pool = str(planned['rootfs_thin_pool']);
    if (quota !== undefined && !pool) throw new AgentFailure('E_RPC_INVALID', `${address}: rootfs_size needs rootfs_thin_pool`);
    let rootfsVolume: RootfsVolume | undefined;
    try {
      if (quota !== undefined) {
        progress(`creating its ${formatSize(quota)} rootfs volume in thin pool ${pool}`);
        rootfsVolume = await this.volumes.createRootfs(id, pool!, quota);
      }
      const spec = specOf(id, address, planned, { lvFilesystems, ...(rootfsVolume ? { rootfsVolume } : {}) });
      progress(`starting container ${id}`);
      return stateFrom(planned, await this.supervisor.call('container.create', { spec }));
    } catch (e) {
      if (rootfsVolume) await this.volumes.removeRootfs(id, pool!).catch(() => undefined);
      if (imageId) await this.images.release(imageId, `container:${id}`);
      throw e;
    }
  }

  /** The filesystems of the logical volumes the container mounts, by LV id. */
  private async lvFilesystems(a: ResourceState): Promise<HostLookups['lvFilesystems']> {
    const out = new Map<string, { device: string; fsType: string; options: string[] }>();
    for (const [i, m] of list(a['mount']).entries()) {
      const source = str(m['source']);
      if (m['type'] === 'logical_volume' && source && !out.has(source)) out.set(source, await this.volumes.filesystemOf(source, `mount[${i}].source`));
    }
    return out;
  }

  async import(id: string): Promise<ResourceState | null> {
    const r = await this.supervisor.call('container.inspect', { ids: [id] });
    const info = r.items[0]?.info;
    return info ? stateFrom({}, info) : null;
  }
}
