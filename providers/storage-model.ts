// The plan's view of one host's storage: what `storage.inventory` reported when the
// plan refreshed (LVM groups and volumes, block devices), overlaid with what this plan
// has planned there so far. Storage providers resolve sizes against it ("50%VG" of a
// group this plan creates or grows) and refuse unusable devices; the engine checks the
// plan's capacity and over-commit from the objects recorded in it.
import type { StorageInventory } from '../agent/rpc/protocol.js';
import { DEFAULT_EXTENT_BYTES, type VolumeGroupSpace } from '../agent/storage/lvm-size.js';
import type { AttrPath } from '../plan-engine/values.js';

export type BlockDevice = StorageInventory['block_devices'][number];
export type InventoryVolume = StorageInventory['logical_volumes'][number];

/** What the start of a PV holds before its first extent (lvm2's default data alignment). */
export const PV_HEADER_BYTES = 1024 * 1024;

/** Something a storage object needs to exist on the host (or to be created by the plan). */
export interface StorageRequirement {
  readonly kind: 'group' | 'pool' | 'volume';
  /** `vg0`, `vg0/pool`, `vg0/data` */
  readonly id: string;
  /** The attribute that names it: the error points there. */
  readonly path: AttrPath;
}

/** One LVM object as a plan describes it (from a planned or a recorded state). */
export interface StorageObject {
  readonly kind: 'group' | 'pool' | 'volume';
  /** `vg0` (group), `vg0/pool`, `vg0/data` */
  readonly id: string;
  /** Group: its size; pool: its data size; volume: its size (thin volumes: virtual). Absent while unknown. */
  readonly sizeBytes?: number;
  /** Groups: extent size. */
  readonly extentBytes?: number;
  /** Groups: the devices as configured. */
  readonly devices?: readonly string[];
  /** The group whose extents it takes (pools, linear volumes, copy-on-write snapshots). */
  readonly vg?: string;
  /** Bytes it takes in `vg` (a pool's data plus its metadata volumes). Absent while unknown. */
  readonly takesBytes?: number;
  /** The attribute that sets its size: capacity errors point there. */
  readonly sizePath?: AttrPath;
  /** Thin volumes: their pool (`vg0/pool`). */
  readonly pool?: string;
  /** Pools: how far thin volumes' virtual sizes may exceed the pool's size before the plan warns. */
  readonly overcommitRatio?: number;
  /** Volumes: thin (in a pool) or not. */
  readonly thin?: boolean;
  readonly requires?: readonly StorageRequirement[];
}

/** A volume as this plan knows it: from the inventory or planned. */
export interface KnownVolume {
  readonly kind: 'linear' | 'thin-pool' | 'thin' | 'snapshot' | 'other';
  readonly sizeBytes: number | undefined;
  /** Thin volumes: `vg/pool`. */
  readonly pool: string | null;
}

/** Bytes of a PV on a device of `deviceBytes` that hold extents. */
export function pvUsableBytes(deviceBytes: number, extentBytes: number): number {
  return Math.max(0, Math.floor((deviceBytes - PV_HEADER_BYTES) / extentBytes) * extentBytes);
}

export class HostStorage {
  /** Planned objects by resource instance address. */
  private readonly planned = new Map<string, StorageObject>();

  constructor(
    /** `host.web` */
    readonly host: string,
    readonly inventory: StorageInventory,
  ) {}

  get lvm(): StorageInventory['lvm'] {
    return this.inventory.lvm;
  }

  /** The host's network interfaces, when its agent reported them. */
  get links(): readonly string[] | undefined {
    return this.inventory.links;
  }

  /** The disk, partition or loop device at `path` or behind a /dev/disk link of that name. */
  device(path: string): BlockDevice | undefined {
    return this.inventory.block_devices.find((d) => d.path === path) ?? this.inventory.block_devices.find((d) => d.aliases.includes(path));
  }

  /** The group as refresh saw it. */
  seenGroup(name: string): StorageInventory['volume_groups'][number] | undefined {
    return this.inventory.volume_groups.find((g) => g.name === name);
  }

  /**
   * The group's space once this plan's changes to the group itself are made: a group the
   * plan creates has its devices' size, all free; one it grows has the added space free.
   * Undefined when the group is neither on the host nor planned with a known size.
   */
  group(name: string): VolumeGroupSpace | undefined {
    const seen = this.seenGroup(name);
    const planned = this.plannedObject('group', name);
    if (!planned) return seen ? { sizeBytes: seen.size_bytes, freeBytes: seen.free_bytes, extentBytes: seen.extent_bytes } : undefined;
    if (planned.sizeBytes === undefined) return undefined;
    if (!seen) return { sizeBytes: planned.sizeBytes, freeBytes: planned.sizeBytes, extentBytes: planned.extentBytes ?? DEFAULT_EXTENT_BYTES };
    return {
      sizeBytes: planned.sizeBytes,
      freeBytes: seen.free_bytes + planned.sizeBytes - seen.size_bytes,
      extentBytes: seen.extent_bytes,
    };
  }

  /** A volume on the host, or planned by this plan (`vg0/data`). */
  volume(id: string): KnownVolume | undefined {
    const planned = this.plannedObject('volume', id) ?? this.plannedObject('pool', id);
    if (planned) {
      const kind = planned.kind === 'pool' ? 'thin-pool' : planned.thin ? 'thin' : 'linear';
      return { kind, sizeBytes: planned.sizeBytes, pool: planned.pool ?? null };
    }
    const seen = this.seenVolume(id);
    if (!seen) return undefined;
    return { kind: seen.kind, sizeBytes: seen.size_bytes, pool: seen.pool === null ? null : `${seen.vg}/${seen.pool}` };
  }

  /** A volume as refresh saw it. */
  seenVolume(id: string): InventoryVolume | undefined {
    return this.inventory.logical_volumes.find((lv) => `${lv.vg}/${lv.name}` === id);
  }

  /** Records what a resource instance plans here (undefined: nothing, or no longer). */
  record(address: string, object: StorageObject | undefined): void {
    if (object) this.planned.set(address, object);
    else this.planned.delete(address);
  }

  plannedObjects(): ReadonlyMap<string, StorageObject> {
    return this.planned;
  }

  /** The last object planned with this kind and id. */
  plannedObject(kind: StorageObject['kind'], id: string): StorageObject | undefined {
    let found: StorageObject | undefined;
    for (const o of this.planned.values()) if (o.kind === kind && o.id === id) found = o;
    return found;
  }
}
