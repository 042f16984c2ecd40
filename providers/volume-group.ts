// `volume_group`: an LVM volume group made of physical volumes (whole disks or
// partitions, by path or /dev/disk link). Its id is its name. Adding a device extends
// the group in place; removing one is refused unless `allow_remove_pv` (the agent then
// moves its extents away first); a new name means a new group.
//
// With the host's storage inventory the plan knows the group's size before it exists
// (from its devices, as lvm2 lays them out) and refuses devices that are missing, hold a
// filesystem or another signature, or belong to another group: tsinfra never wipes one.
import { z } from 'zod';
import type { VolumeGroupArgs } from '../api/resource-types.js';
import { DEFAULT_EXTENT_BYTES } from '../agent/storage/lvm-size.js';
import { UNKNOWN, valuesEqual, type Value, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { isCleanAbsolutePath } from './container-values.js';
import { defaultObjectName } from './names.js';
import type { PathDiagnostic, PlanContext, ResourceProvider } from './provider.js';
import { pvUsableBytes, type BlockDevice, type HostStorage, type StorageObject } from './storage-model.js';
import { checkGroupName, sizeNotes } from './storage-values.js';

const devicePath = z.string().refine((s) => isCleanAbsolutePath(s) && s.startsWith('/dev/'), {
  message: 'must be a device path such as /dev/vdb or /dev/disk/by-id/...',
});

export const volumeGroupSchema = z.strictObject({
  physical_volumes: z.array(devicePath).min(1),
  name: z.string().optional(),
  allow_remove_pv: z.boolean().optional(),
});

// The schema and the typed manifest API must name the same attributes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttributes: Same<keyof z.infer<typeof volumeGroupSchema>, keyof VolumeGroupArgs> = true;
void sameAttributes;

function groupName(config: ValueObject, ctx: PlanContext): Value {
  return config['name'] ?? defaultObjectName(ctx.name, ctx.instanceKey);
}

/** The configured devices when all are known strings. */
function knownDevices(v: Value | undefined): string[] | undefined {
  return Array.isArray(v) && v.every((d) => typeof d === 'string') ? (v as string[]) : undefined;
}

export const volumeGroupProvider: ResourceProvider = {
  type: 'volume_group',
  nestedBlocks: {},
  schema: volumeGroupSchema,
  updatable: ['physical_volumes', 'allow_remove_pv', 'size_bytes'],
  computed: ['id', 'size_bytes', 'free_bytes', 'extent_bytes'],
  observed: ['free_bytes'],
  sensitive: [],
  usesAgent: true,

  storage: {
    describe(state) {
      const id = state['id'];
      if (typeof id !== 'string') return undefined;
      const size = state['size_bytes'];
      const extent = state['extent_bytes'];
      const object: StorageObject = {
        kind: 'group',
        id,
        ...(typeof size === 'number' ? { sizeBytes: size } : {}),
        ...(typeof extent === 'number' ? { extentBytes: extent } : {}),
        devices: knownDevices(state['physical_volumes']) ?? [],
      };
      return object;
    },
  },

  check(config, ctx) {
    const out: PathDiagnostic[] = [];
    const name = groupName(config, ctx);
    out.push(...checkGroupName(name, 'name', config['name'] === undefined ? 'It defaults to the resource name: set name = "..." to another one.' : undefined));
    const devices = config['physical_volumes'];
    if (!Array.isArray(devices)) return out;
    const seen = new Map<string, number>();
    devices.forEach((d, i) => {
      if (typeof d !== 'string') return;
      const device = ctx.storage?.device(d);
      const key = device?.path ?? d;
      const first = seen.get(key);
      if (first !== undefined) {
        out.push({
          code: 'E_DUPLICATE_DEVICE',
          summary: `physical_volumes[${i}] (${d}) is the same device as physical_volumes[${first}] (${devices[first] as string})`,
          path: ['physical_volumes', i],
        });
      } else seen.set(key, i);
      if (ctx.storage) out.push(...checkDevice(d, i, device, typeof name === 'string' ? name : undefined, ctx.storage));
    });
    return out;
  },

  checkChange(prior, planned, ctx) {
    const before = knownDevices(prior['physical_volumes']);
    const after = knownDevices(planned['physical_volumes']);
    if (!before || !after || planned['allow_remove_pv'] === true) return [];
    // Spelled as configured on both sides; the same device under another name is no removal.
    const canonical = (p: string) => ctx.storage?.device(p)?.path ?? p;
    const kept = new Set(after.map(canonical));
    const removed = before.filter((p) => !kept.has(canonical(p)));
    if (!removed.length) return [];
    if (!ctx.storage) {
      // Without the host's devices a new spelling may be an old device: refuse only what is surely a removal.
      const known = new Set(before);
      if (after.filter((p) => !known.has(p)).length >= removed.length) return [];
    }
    return [
      {
        code: 'E_PV_REMOVAL_REFUSED',
        summary: `Removing ${removed.join(', ')} from volume group ${String(planned['id'])} is refused`,
        detail:
          'Set allow_remove_pv = true to remove it: its extents are moved to the other physical volumes first (pvmove), which needs room for them there. ' +
          'A physical volume added outside tsinfra shows up in physical_volumes too: add it to the configuration to keep it.',
        path: ['physical_volumes'],
      },
    ];
  },

  plan(config, prior, ctx) {
    const name = groupName(config, ctx);
    const devices = config['physical_volumes'] ?? UNKNOWN;
    // The same group as recorded (a new name is a new group).
    const same = prior !== null && valuesEqual(prior['id'], name) ? prior : null;
    const seen = typeof name === 'string' ? ctx.storage?.seenGroup(name) : undefined;
    const extent = same?.['extent_bytes'];
    return {
      name,
      physical_volumes: devices,
      allow_remove_pv: config['allow_remove_pv'] ?? false,
      id: name,
      size_bytes: groupSizeBytes(name, devices, same, ctx),
      free_bytes: same ? (same['free_bytes'] ?? UNKNOWN) : UNKNOWN,
      extent_bytes: typeof extent === 'number' ? extent : (seen?.extent_bytes ?? DEFAULT_EXTENT_BYTES),
    };
  },

  valueNotes(state) {
    return sizeNotes(state, []);
  },

  apply(req, session) {
    return applyThroughAgent('volume_group', req, session);
  },
};

function checkDevice(path: string, i: number, device: BlockDevice | undefined, group: string | undefined, storage: HostStorage): PathDiagnostic[] {
  const at = ['physical_volumes', i];
  if (!device) {
    return [
      {
        code: 'E_DEVICE_NOT_FOUND',
        summary: `Device ${path} does not exist on ${storage.host}`,
        detail: 'The host has no disk, partition or loop device at that path, nor a /dev/disk link of that name to one (lsblk).',
        path: at,
      },
    ];
  }
  const shown = device.path === path ? path : `${path} (${device.path})`;
  if (device.fs_type === 'LVM2_member') {
    // A PV of this group already, or one in no group: both fine.
    if (device.vg === null || device.vg === '' || device.vg === group) return [];
    return [
      {
        code: 'E_DEVICE_IN_USE',
        summary: `Device ${shown} on ${storage.host} is a physical volume of volume group ${device.vg}`,
        detail: `tsinfra never takes a device from another group. Remove it from ${device.vg} first (vgreduce, pvremove) if it is free to use.`,
        path: at,
      },
    ];
  }
  if (device.fs_type !== null) {
    return [
      {
        code: 'E_DEVICE_IN_USE',
        summary: `Device ${shown} on ${storage.host} holds a ${device.fs_type} signature`,
        detail: `tsinfra never wipes a device. If nothing on it is needed, wipe it yourself (wipefs -a ${device.path}) and plan again.`,
        path: at,
      },
    ];
  }
  return [];
}

/**
 * The group's size in bytes as lvm2 will lay it out: each PV's extents after its
 * header. For an existing group: its size, plus the devices added, minus those removed.
 */
function groupSizeBytes(name: Value, devices: Value, prior: ValueObject | null, ctx: PlanContext): Value {
  const wanted = knownDevices(devices);
  if (!wanted || typeof name !== 'string') return UNKNOWN;
  const recorded = (state: ValueObject | null | undefined) =>
    state && valuesEqual(state['physical_volumes'], devices) && typeof state['size_bytes'] === 'number' ? state['size_bytes'] : undefined;
  const planned = recorded(ctx.planned);
  if (planned !== undefined) return planned;
  const storage = ctx.storage;
  if (!storage) return recorded(prior) ?? UNKNOWN;
  const found = wanted.map((d) => storage.device(d));
  if (found.some((d) => d === undefined)) return UNKNOWN;
  const byPath = new Map((found as BlockDevice[]).map((d) => [d.path, d]));
  const seen = storage.seenGroup(name);
  if (!seen) return [...byPath.values()].reduce((sum, d) => sum + pvUsableBytes(d.size_bytes, DEFAULT_EXTENT_BYTES), 0);
  const members = new Set(seen.physical_volumes.map((p) => storage.device(p)?.path ?? p));
  let size = seen.size_bytes;
  for (const d of byPath.values()) if (!members.has(d.path)) size += pvUsableBytes(d.size_bytes, seen.extent_bytes);
  for (const p of members) {
    if (byPath.has(p)) continue;
    const gone = storage.device(p);
    if (!gone) return UNKNOWN;
    size -= pvUsableBytes(gone.size_bytes, seen.extent_bytes);
  }
  return size;
}
