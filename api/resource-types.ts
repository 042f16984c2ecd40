// The arguments and read-only attributes of every resource type, as the SPEC defines
// them. These interfaces describe evaluated values (what a provider receives, in
// snake_case, exactly as in HCL); the manifest API derives its input types from them
// (every leaf may also be a reference) and its reference objects (camelCase getters).
// Providers type-check their zod schemas against `ResourceTypes`, so a change here is
// a change of the product contract.
//
// Nested blocks (`mount { ... }`) are listed in `NESTED_BLOCKS`: a repeatable block is
// an array here, a single block an object. Everything else is an attribute.

/** A size in bytes, or with a binary unit: `512K`, `200M`, `10G`, `1T`. */
export type Size = number | `${number}${'K' | 'M' | 'G' | 'T'}`;

/** An LVM size: a `Size`, or a share of the volume group: `20%VG`, `100%FREE`. */
export type LvmSize = Size | `${number}%${'VG' | 'FREE'}`;

/** A duration: `500ms`, `10s`, `5m`, `1h`. */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h'}`;

/** A string with suggested values: editors complete the suggestions, any string is accepted. */
export type Suggest<T extends string> = T | (string & {});

// ---------------------------------------------------------------------------------
// LVM

export interface VolumeGroupArgs {
  /** Device paths of the physical volumes (`/dev/vdb`, `/dev/disk/by-id/...`). Adding one extends the group in place; removing one is refused unless `allow_remove_pv = true`. A device holding a filesystem or belonging to another group is refused, never wiped. */
  physical_volumes: string[];
  /** The volume group's name on the host. Default: the resource name. Changing it forces replacement. */
  name?: string;
  /** Allow removing a physical volume from the group (its extents are moved to the others first, with pvmove). Default: false. */
  allow_remove_pv?: boolean;
}

export interface VolumeGroupAttributes {
  /** The volume group's name on the host. */
  id: string;
  /** Total size in bytes. */
  size_bytes: number;
  /** Unallocated space in bytes, as the last refresh saw it. */
  free_bytes: number;
  /** Size of the group's extents in bytes: volumes are allocated in whole extents. */
  extent_bytes: number;
}

export interface ThinPoolArgs {
  /** The volume group the pool is carved from (`volume_group.data.id`). */
  volume_group: string;
  /** Pool size; growing it updates in place, shrinking is refused. */
  size: LvmSize;
  /** The pool's LV name. Default: the resource name. */
  name?: string;
  /** Thin chunk size (`64K`). */
  chunk_size?: Size;
  /** Size of the pool's metadata LV. */
  metadata_size?: Size;
  /** The plan warns when the thin volumes' virtual sizes add up to more than the pool's size times this. Default: 2. */
  overcommit_ratio?: number;
}

export interface ThinPoolAttributes {
  /** `VG/POOL`. */
  id: string;
  /** The pool's size in bytes, resolved at plan time. */
  size_bytes: number;
  /** How full the pool's data is, in percent, as the last refresh saw it. */
  data_percent: number;
  /** How full the pool's metadata is, in percent, as the last refresh saw it. */
  metadata_percent: number;
}

export interface LogicalVolumeFilesystem {
  /** Filesystem created on the volume. Changing it forces replacement. */
  type: 'ext4' | 'xfs';
  /** Filesystem label. */
  label?: string;
  /** Mount options used when a container mounts the volume (`noatime`). */
  mount_options?: string[];
}

export interface LogicalVolumeArgs {
  /** The volume group (`volume_group.data.id`). Required unless `thin_pool` is set. */
  volume_group?: string;
  /** Size of a linear volume, or the copy-on-write space of a snapshot of one. Growing it updates in place (the filesystem is grown online); shrinking is refused unless `allow_shrink = true`. */
  size?: LvmSize;
  /** Make a thin volume in this pool (`thin_pool.pool.id`); use with `virtual_size`. */
  thin_pool?: string;
  /** Virtual size of a thin volume; it grows in place like `size`. */
  virtual_size?: Size;
  /** The LV name. Default: the resource name. */
  name?: string;
  /** Create a filesystem on the volume (once, at creation; on a snapshot it describes the origin's, never made again). Changing its type, or adding or removing the block, replaces the volume. */
  filesystem?: LogicalVolumeFilesystem;
  /** Create the volume as a snapshot of another (`logical_volume.data.id`): of a thin volume without `size`, of a linear one with `size` for its copy-on-write space. */
  snapshot_of?: string;
  /** Allow shrinking the volume in place: ext4 only, while nothing mounts it, never below the filesystem's usage. Default: false. */
  allow_shrink?: boolean;
}

export interface LogicalVolumeAttributes {
  /** `VG/LV`. */
  id: string;
  /** Device path (`/dev/VG/LV`). */
  path: string;
  /** The volume's size in bytes, resolved at plan time. */
  size_bytes: number;
}

export interface VolumeArgs {
  /** The volume's name. Default: the resource name. */
  name?: string;
  /** Size quota. A thin LV when `thin_pool` is set, else a directory. */
  size?: Size;
  /** Back the volume with a thin LV of this pool (`thin_pool.pool.id`). */
  thin_pool?: string;
}

export interface VolumeAttributes {
  id: string;
  /** Where the volume's data lives on the host. */
  path: string;
}

// ---------------------------------------------------------------------------------
// Networks

export interface NetworkArgs {
  /** `bridge` (a Linux bridge, NAT to the outside by default) or `macvlan` (on a parent interface). Changing it forces replacement. */
  driver: 'bridge' | 'macvlan';
  /** The network's name. Default: the resource name. */
  name?: string;
  /** IPv4 subnet in CIDR form (`10.1.0.0/24`). Changing it forces replacement. */
  subnet?: string;
  /** Gateway address. Default: the first host address of the subnet. */
  gateway?: string;
  /** Allocate container addresses from this sub-range (CIDR) only. */
  ip_range?: string;
  /** Masquerade traffic leaving the host (bridge only). Default: true. Updates in place. */
  nat?: boolean;
  /** Parent interface (macvlan). May be a VLAN sub-interface such as `eth0.10` with `vlan = 10`. Forces replacement. */
  parent?: string;
  /** Create the parent as a VLAN sub-interface with this VLAN id. Forces replacement. */
  vlan?: number;
  /** macvlan mode. Default: bridge. */
  mode?: 'bridge' | 'private' | 'vepa' | 'passthru';
  /** macvlan: put the parent in promiscuous mode (virtual switches that drop unknown MACs); restored on destroy. Default: false. */
  promiscuous?: boolean;
  /** MTU of the network's interfaces. Updates in place. */
  mtu?: number;
  /** No route to the outside. */
  internal?: boolean;
}

export interface NetworkAttributes {
  id: string;
  /** Name of the bridge interface on the host (bridge networks). */
  bridge: string;
}

export interface OverlayNetworkArgs {
  /** The hosts the overlay spans (`[host.a, host.b]`). Adding or removing hosts updates in place. */
  hosts: unknown[];
  /** IPv4 subnet in CIDR form. Forces replacement. */
  subnet: string;
  /** The network's name. Default: the resource name. */
  name?: string;
  /** VXLAN network identifier. Default: derived from the name. Forces replacement. */
  vni?: number;
  /** MTU of the overlay interfaces. Default: the underlay's less the 50 bytes of VXLAN. */
  mtu?: number;
  /** VXLAN UDP port. Default: 4789. Forces replacement. */
  port?: number;
  /** Masquerade traffic leaving a host other than over the overlay. Default: true. */
  nat?: boolean;
  /** Prefix length of each host's slice of the subnet (its containers' addresses). Default: subnet prefix + 4, at least 24. */
  host_prefix?: number;
  /** Underlay addresses by host name, where a host's address is a DNS name or not the one the others reach. */
  underlay_addresses?: Record<string, string>;
}

export interface OverlayNetworkAttributes {
  id: string;
  /** The bridge on every member host. */
  bridge: string;
  /** The VXLAN device on every member host. */
  vxlan: string;
}

// ---------------------------------------------------------------------------------
// Images and containers

export interface ImageArgs {
  /**
   * Where the image comes from: `REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:...`,
   * `oci-archive:PATH`, `docker-archive:PATH` or `rootfs:PATH`. Forces replacement.
   */
  source: string;
  /** Allow a plain-HTTP or self-signed registry. */
  insecure?: boolean;
  /** Registry user name. */
  username?: string;
  /** Registry password (sensitive). */
  password?: string;
  /** Platform to pull (`linux/amd64`). Default: the host's. */
  platform?: string;
}

export interface ImageAttributes {
  /** The image's id on the host. */
  id: string;
  /** The resolved manifest digest (`sha256:...`). */
  digest: string;
}

export interface ContainerResources {
  /** Hard memory limit. */
  memory?: Size;
  /** Memory plus swap, as docker's `--memory-swap`. */
  memory_swap?: Size;
  /** Soft memory limit. */
  memory_reservation?: Size;
  /** Relative CPU weight (cgroup v1 `cpu.shares`; mapped to `cpu.weight` on v2). */
  cpu_shares?: number;
  /** CPU quota in CPUs (`1.5`). */
  cpus?: number;
  /** CPUs the container may run on (`0,1`, `0-3`). */
  cpuset?: string;
  /** Maximum number of processes. */
  pids_limit?: number;
  /** Relative block I/O weight. */
  blkio_weight?: number;
  /** Read bandwidth limit per device (`{ "/dev/vdb" = "1M" }`). */
  device_read_bps?: Record<string, Size>;
  /** Write bandwidth limit per device. */
  device_write_bps?: Record<string, Size>;
  /** Read operations per second limit per device. */
  device_read_iops?: Record<string, number>;
  /** Write operations per second limit per device. */
  device_write_iops?: Record<string, number>;
}

export interface ContainerMount {
  /** `bind` (a host path), `volume` (`volume.X.id`), `tmpfs` (memory; no source) or `logical_volume` (the LV's mounted filesystem). */
  type: 'bind' | 'volume' | 'tmpfs' | 'logical_volume';
  /** Host path, or the volume's / logical volume's id; none for tmpfs. */
  source?: string;
  /** Path inside the container. */
  target: string;
  /** Mount read-only. */
  read_only?: boolean;
}

export interface ContainerDevice {
  /** Host device, or a logical volume's id (`logical_volume.raw.id`) for a raw block device. */
  source: string;
  /** Device path inside the container (`/dev/sde`). */
  target: string;
  /** cgroup device permissions: any of `r`, `w`, `m`. Default: `rwm`. */
  permissions?: string;
}

export interface ContainerTmpfs {
  /** Mount point inside the container. */
  target: string;
  /** Size limit (`64M`). */
  size?: Size;
}

export interface ContainerNetwork {
  /** The network (`network.front.id` or `overlay_network.x.id`). */
  id: string;
  /** Static IPv4 address. Default: allocated. */
  ip?: string;
  /** Extra DNS names of the container on this network. */
  aliases?: string[];
}

export interface ContainerPort {
  /** Port on the host. */
  host_port: number;
  /** Port inside the container. */
  container_port: number;
  /** Default: tcp. */
  protocol?: 'tcp' | 'udp';
  /** Host address to listen on. Default: all (`0.0.0.0`). */
  host_ip?: string;
}

export interface ContainerRestart {
  /** When to restart the container's process. Back-off 100 ms doubling, capped at 1 min, reset after 10 s up. */
  policy: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  /** Give up after this many restarts (on-failure). */
  max_retries?: number;
}

export interface ContainerCapabilities {
  /** Capabilities to add (`NET_BIND_SERVICE`). */
  add?: string[];
  /** Capabilities to drop (`ALL`). */
  drop?: string[];
}

export interface ContainerHealthcheck {
  /** Command run inside the container; exit status 0 means healthy. */
  command: string[];
  /** Time between checks (`10s`). */
  interval?: Duration;
  /** Consecutive failures before the container is unhealthy. */
  retries?: number;
}

export interface ContainerArgs {
  /** The image to run (`image.nginx.id`). */
  image: string;
  /** Command and arguments. Default: the image's entrypoint + cmd. */
  command?: string[];
  /** Environment variables. */
  env?: Record<string, string>;
  /** Working directory. Default: the image's, else `/`. */
  working_dir?: string;
  /** User (and group) to run as: `1000:1000`, `nginx`. */
  user?: string;
  /** Hostname inside the container. */
  hostname?: string;
  /** Extra `/etc/hosts` entries: name -> address. */
  extra_hosts?: Record<string, string>;
  /** Bind the host's `/etc/localtime` read-only. */
  localtime?: boolean;
  /** Put the writable layer on its own dm-thin volume of this size: a hard per-container disk quota. */
  rootfs_size?: Size;
  /** Thin pool (`thin_pool.x.id`) for the per-container rootfs LV; default: the host's `rootfs_thin_pool`. */
  rootfs_thin_pool?: string;
  /** Mount the root filesystem read-only. */
  read_only_rootfs?: boolean;
  /** Desired state. Updates in place. Default: running. */
  state?: 'running' | 'stopped' | 'paused';
  /** cgroup limits. Updates in place. */
  resources?: ContainerResources;
  /** Filesystem mounts (repeatable). */
  mount?: ContainerMount[];
  /** Block devices (repeatable). */
  device?: ContainerDevice[];
  /** tmpfs mounts (repeatable). */
  tmpfs?: ContainerTmpfs[];
  /** Network attachments (repeatable). */
  network?: ContainerNetwork[];
  /** `bridge` (default when a network block exists), `none`, `host` or `container:NAME`. */
  network_mode?: 'bridge' | 'none' | 'host' | `container:${string}`;
  /** Published ports (repeatable). */
  port?: ContainerPort[];
  /** Restart policy. Updates in place. */
  restart?: ContainerRestart;
  /** Capabilities added to / dropped from the default set. */
  capabilities?: ContainerCapabilities;
  /** Run with all capabilities and devices. Refused unless the host sets `allow_privileged = true`. */
  privileged?: boolean;
  /** Set no_new_privs. */
  no_new_privileges?: boolean;
  /** `default`, `unconfined`, or the path of a seccomp profile on the host. */
  seccomp_profile?: Suggest<'default' | 'unconfined'>;
  /** Health check. */
  healthcheck?: ContainerHealthcheck;
  /** Signal sent to stop the container. Default: SIGTERM. */
  stop_signal?: string;
  /** Time to wait after the stop signal before SIGKILL. Default: 10s. */
  stop_timeout?: Duration;
}

export interface ContainerAttributes {
  /** The container's id on the host. */
  id: string;
  /** PID of the container's init process on the host. */
  pid: number;
  /** IPv4 address on the first network. */
  ip_address: string;
  /** IPv4 address per network: network id -> address. */
  ip_addresses: Record<string, string>;
  /** What the host reports: `running`, `stopped` or `paused`. */
  status: string;
  /** When the current process started (RFC 3339). */
  started_at: string;
  /** How many times the restart policy restarted the process. */
  restart_count: number;
}

// ---------------------------------------------------------------------------------
// tsinfra_data

export interface TsinfraDataArgs {
  /** Any value; copied to `output` on apply. */
  input?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- any value, as in HCL
  /** Any value; when it changes, the resource is replaced. */
  triggers_replace?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- any value, as in HCL
}

export interface TsinfraDataAttributes {
  id: string;
  /** The value of `input` as of the last apply. */
  output: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- any value, as in HCL
}

// ---------------------------------------------------------------------------------
// Maps by type name

/** Arguments of each resource type (meta-arguments such as `host` and `count` excluded). */
export interface ResourceTypes {
  volume_group: VolumeGroupArgs;
  thin_pool: ThinPoolArgs;
  logical_volume: LogicalVolumeArgs;
  volume: VolumeArgs;
  network: NetworkArgs;
  overlay_network: OverlayNetworkArgs;
  image: ImageArgs;
  container: ContainerArgs;
  tsinfra_data: TsinfraDataArgs;
}

/** Read-only attributes each resource type exposes once applied. */
export interface ResourceAttributes {
  volume_group: VolumeGroupAttributes;
  thin_pool: ThinPoolAttributes;
  logical_volume: LogicalVolumeAttributes;
  volume: VolumeAttributes;
  network: NetworkAttributes;
  overlay_network: OverlayNetworkAttributes;
  image: ImageAttributes;
  container: ContainerAttributes;
  tsinfra_data: TsinfraDataAttributes;
}

export type ResourceType = keyof ResourceTypes;

/** Which arguments of each type are nested blocks (`mount { ... }`) rather than attributes. */
export const NESTED_BLOCKS = {
  volume_group: [],
  thin_pool: [],
  logical_volume: ['filesystem'],
  volume: [],
  network: [],
  overlay_network: [],
  image: [],
  container: ['resources', 'mount', 'device', 'tmpfs', 'network', 'port', 'restart', 'capabilities', 'healthcheck'],
  tsinfra_data: [],
} as const satisfies { readonly [T in ResourceType]: readonly (keyof ResourceTypes[T])[] };

/** Which nested blocks may appear more than once (their argument is an array). */
export const REPEATABLE_BLOCKS = {
  container: ['mount', 'device', 'tmpfs', 'network', 'port'],
} as const satisfies { readonly [T in ResourceType]?: readonly (typeof NESTED_BLOCKS)[T][number][] };

/** The read-only attribute names of each type, as data (the reference objects' getters come from it). */
export const READ_ONLY_ATTRIBUTES = {
  volume_group: ['id', 'size_bytes', 'free_bytes', 'extent_bytes'],
  thin_pool: ['id', 'size_bytes', 'data_percent', 'metadata_percent'],
  logical_volume: ['id', 'path', 'size_bytes'],
  volume: ['id', 'path'],
  network: ['id', 'bridge'],
  overlay_network: ['id', 'bridge', 'vxlan'],
  image: ['id', 'digest'],
  container: ['id', 'pid', 'ip_address', 'ip_addresses', 'status', 'started_at', 'restart_count'],
  tsinfra_data: ['id', 'output'],
} as const satisfies { readonly [T in ResourceType]: readonly (keyof ResourceAttributes[T])[] };

export type NestedBlockName<T extends ResourceType> = (typeof NESTED_BLOCKS)[T][number];
