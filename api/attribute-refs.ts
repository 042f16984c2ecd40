// The read-only attributes of each resource type as camelCase reference properties
// (`web.ipAddress` is `container.web.ip_address`). Written out by hand rather than
// mapped from `resource-types.ts` because editors drop JSDoc through renamed mapped
// keys; a compile-time test checks the two stay in step.
import type { Ref } from './ref.js';
import type { ResourceAttributes as A } from './resource-types.js';

export interface VolumeGroupRefs {
  /** The volume group's name on the host. */
  readonly id: Ref<A['volume_group']['id']>;
  /** Total size in bytes (`size_bytes`). */
  readonly sizeBytes: Ref<A['volume_group']['size_bytes']>;
  /** Unallocated space in bytes, as the last refresh saw it (`free_bytes`). */
  readonly freeBytes: Ref<A['volume_group']['free_bytes']>;
  /** Size of the group's extents in bytes (`extent_bytes`). */
  readonly extentBytes: Ref<A['volume_group']['extent_bytes']>;
}

export interface ThinPoolRefs {
  /** `VG/POOL`. */
  readonly id: Ref<A['thin_pool']['id']>;
  /** The pool's size in bytes, resolved at plan time (`size_bytes`). */
  readonly sizeBytes: Ref<A['thin_pool']['size_bytes']>;
  /** How full the pool's data is, in percent, as the last refresh saw it (`data_percent`). */
  readonly dataPercent: Ref<A['thin_pool']['data_percent']>;
  /** How full the pool's metadata is, in percent, as the last refresh saw it (`metadata_percent`). */
  readonly metadataPercent: Ref<A['thin_pool']['metadata_percent']>;
}

export interface LogicalVolumeRefs {
  /** `VG/LV`. */
  readonly id: Ref<A['logical_volume']['id']>;
  /** Device path (`/dev/VG/LV`). */
  readonly path: Ref<A['logical_volume']['path']>;
  /** The volume's size in bytes, resolved at plan time (`size_bytes`). */
  readonly sizeBytes: Ref<A['logical_volume']['size_bytes']>;
}

export interface VolumeRefs {
  readonly id: Ref<A['volume']['id']>;
  /** Where the volume's data lives on the host. */
  readonly path: Ref<A['volume']['path']>;
}

export interface NetworkRefs {
  readonly id: Ref<A['network']['id']>;
  /** Name of the bridge interface on the host (bridge networks). */
  readonly bridge: Ref<A['network']['bridge']>;
}

export interface OverlayNetworkRefs {
  readonly id: Ref<A['overlay_network']['id']>;
  /** The bridge on every member host. */
  readonly bridge: Ref<A['overlay_network']['bridge']>;
  /** The VXLAN device on every member host. */
  readonly vxlan: Ref<A['overlay_network']['vxlan']>;
}

export interface ImageRefs {
  /** The image's id on the host. */
  readonly id: Ref<A['image']['id']>;
  /** The resolved manifest digest (`sha256:...`). */
  readonly digest: Ref<A['image']['digest']>;
}

export interface ContainerRefs {
  /** The container's id on the host. */
  readonly id: Ref<A['container']['id']>;
  /** PID of the container's init process on the host. */
  readonly pid: Ref<A['container']['pid']>;
  /** IPv4 address on the first network (`ip_address`). */
  readonly ipAddress: Ref<A['container']['ip_address']>;
  /** IPv4 address per network: network id -> address (`ip_addresses`). */
  readonly ipAddresses: Ref<A['container']['ip_addresses']>;
  /** `running`, `stopped`, `paused` or `exited`. */
  readonly status: Ref<A['container']['status']>;
  /** When the current process started, RFC 3339 (`started_at`). */
  readonly startedAt: Ref<A['container']['started_at']>;
  /** How many times the restart policy restarted the process (`restart_count`). */
  readonly restartCount: Ref<A['container']['restart_count']>;
}

export interface TsinfraDataRefs {
  readonly id: Ref<A['tsinfra_data']['id']>;
  /** The value of `input` as of the last apply. */
  readonly output: Ref<A['tsinfra_data']['output']>;
}

export interface AttributeRefMap {
  volume_group: VolumeGroupRefs;
  thin_pool: ThinPoolRefs;
  logical_volume: LogicalVolumeRefs;
  volume: VolumeRefs;
  network: NetworkRefs;
  overlay_network: OverlayNetworkRefs;
  image: ImageRefs;
  container: ContainerRefs;
  tsinfra_data: TsinfraDataRefs;
}
