// Storage inventories written by hand, in the shape `storage.inventory` answers, for
// unit tests of plan-time storage logic (size resolution, capacity, refusals). They
// stand for what a host reports; nothing here imitates lvm2 itself.
import type { StorageInventory } from '../../agent/rpc/protocol.js';
import { HostStorage } from '../../providers/storage-model.js';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const EXTENT = 4 * MiB;

type Group = StorageInventory['volume_groups'][number];
type Volume = StorageInventory['logical_volumes'][number];
type Device = StorageInventory['block_devices'][number];

export function group(name: string, sizeBytes: number, freeBytes: number, physicalVolumes: string[] = []): Group {
  return { name, size_bytes: sizeBytes, free_bytes: freeBytes, extent_bytes: EXTENT, physical_volumes: physicalVolumes };
}

export function volume(id: string, kind: Volume['kind'], sizeBytes: number, pool: string | null = null): Volume {
  const [vg, name] = id.split('/') as [string, string];
  return { vg, name, kind, size_bytes: sizeBytes, pool, origin: null, data_percent: null, open: false };
}

export function device(path: string, sizeBytes: number, extra: Partial<Device> = {}): Device {
  return { path, size_bytes: sizeBytes, fs_type: null, vg: null, aliases: [], ...extra };
}

export function inventory(parts: Partial<StorageInventory> = {}): StorageInventory {
  return {
    lvm: { present: true, thin: true },
    volume_groups: [],
    logical_volumes: [],
    block_devices: [],
    ...parts,
  };
}

export function hostStorage(parts: Partial<StorageInventory> = {}, host = 'host.local'): HostStorage {
  return new HostStorage(host, inventory(parts));
}

/** Bytes lvm2 lays out as extents on a PV of a device this large. */
export function pvBytes(deviceBytes: number): number {
  return Math.floor((deviceBytes - MiB) / EXTENT) * EXTENT;
}
