// `logical_volume`: an LVM logical volume, optionally with a filesystem made once at
// creation. Three kinds, by what the configuration sets:
//
//   linear     volume_group + size ("10G", "50%VG", "100%FREE")
//   thin       thin_pool + virtual_size (its group is the pool's)
//   snapshot   snapshot_of: of a thin volume without size (a thin snapshot), of a
//              linear one with size (its copy-on-write space); in the origin's group
//
// Its id is `VG/NAME`, its path `/dev/VG/NAME`, both known at plan time. Sizes are
// resolved to bytes at plan time (`size_bytes`); growing one grows the volume and its
// filesystem in place; shrinking is refused unless `allow_shrink`, and for xfs always.
// A filesystem's type, or adding or removing the filesystem block, replaces the volume;
// its label and mount options change in place. On a snapshot the filesystem block
// describes the origin's filesystem (for mounting and its label): none is ever made.
import { z } from 'zod';
import type { LogicalVolumeArgs } from '../api/resource-types.js';
import { formatBytes } from '../agent/storage/lvm-size.js';
import { isObject, isUnknown, UNKNOWN, valuesEqual, type Value, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { canonicalSize, sizeSchema } from './container-values.js';
import { defaultObjectName } from './names.js';
import type { PathDiagnostic, PlanContext, ResourceProvider } from './provider.js';
import type { HostStorage, StorageObject } from './storage-model.js';
import { checkGroupName, checkLvmId, checkVolumeName, groupOf, lvSizeSchema, requireResolvedSize, resolvePlannedBytes, sizeNotes } from './storage-values.js';

const filesystemSchema = z.strictObject({
  type: z.enum(['ext4', 'xfs']),
  label: z.string().optional(),
  mount_options: z.array(z.string()).optional(),
});

export const logicalVolumeSchema = z.strictObject({
  volume_group: z.string().optional(),
  size: lvSizeSchema.optional(),
  thin_pool: z.string().optional(),
  virtual_size: sizeSchema.optional(),
  name: z.string().optional(),
  filesystem: filesystemSchema.optional(),
  snapshot_of: z.string().optional(),
  allow_shrink: z.boolean().optional(),
});

// The schema and the typed manifest API must name the same attributes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttributes: Same<keyof z.infer<typeof logicalVolumeSchema>, keyof LogicalVolumeArgs> = true;
void sameAttributes;

/** Longest label mkfs takes (e2label: 16 bytes, xfs: 12). */
const LABEL_MAX = { ext4: 16, xfs: 12 } as const;
/** A mount option as mount(8) takes it in a comma-separated list. */
const MOUNT_OPTION = /^[A-Za-z0-9_.=:/+-]+$/;

function set(v: Value | undefined): boolean {
  return v !== undefined && v !== null;
}

function volumeName(config: ValueObject, ctx: PlanContext): Value {
  return config['name'] ?? defaultObjectName(ctx.name, ctx.instanceKey);
}

type Kind = 'linear' | 'thin' | 'thin-snapshot' | 'snapshot';

/** The kind a configuration or state describes. */
function kindOf(v: ValueObject): Kind {
  if (set(v['thin_pool'])) return 'thin';
  if (set(v['snapshot_of'])) return set(v['size']) ? 'snapshot' : 'thin-snapshot';
  return 'linear';
}

export const logicalVolumeProvider: ResourceProvider = {
  type: 'logical_volume',
  nestedBlocks: { filesystem: 'single' },
  schema: logicalVolumeSchema,
  updatable: ['size', 'virtual_size', 'size_bytes', 'allow_shrink', 'filesystem'],
  replaceOnChange: ['filesystem.type'],
  computed: ['id', 'path', 'size_bytes'],
  sensitive: [],
  usesAgent: true,

  storage: {
    describe(state, storage) {
      return describeVolume(state, storage);
    },
  },

  check(config, ctx) {
    const out: PathDiagnostic[] = [];
    out.push(...checkVolumeName(volumeName(config, ctx), config['name'] !== undefined, 'logical volume'));
    out.push(...checkGroupName(config['volume_group'], 'volume_group'));
    out.push(...checkLvmId(config['thin_pool'], 'thin_pool'), ...checkLvmId(config['snapshot_of'], 'snapshot_of'));
    out.push(...checkShape(config, ctx.storage));
    out.push(...checkFilesystem(config['filesystem']));
    return out;
  },

  checkChange(prior, planned) {
    const from = prior['size_bytes'];
    const to = planned['size_bytes'];
    if (typeof from !== 'number' || typeof to !== 'number' || to >= from) return [];
    const path = [kindOf(planned) === 'thin' ? 'virtual_size' : 'size'];
    const what = `Shrinking logical volume ${String(planned['id'])} from ${formatBytes(from)} to ${formatBytes(to)}`;
    const fs = isObject(planned['filesystem']) ? planned['filesystem']['type'] : null;
    if (planned['allow_shrink'] !== true) {
      return [
        {
          code: 'E_SHRINK_REFUSED',
          summary: `${what} is refused`,
          detail:
            'Shrinking loses whatever lies past the new end. Set allow_shrink = true to shrink it' +
            (fs ? ' (its filesystem is shrunk first, only while nothing mounts it, and never below what it uses)' : '') +
            `, or set the size back to ${formatBytes(from)}.`,
          path,
        },
      ];
    }
    if (fs === 'xfs') {
      return [
        {
          code: 'E_SHRINK_UNSUPPORTED',
          summary: `${what} is refused: xfs filesystems cannot shrink`,
          detail: `Set the size back to ${formatBytes(from)}.`,
          path,
        },
      ];
    }
    return [];
  },

  plan(config, prior, ctx) {
    const kind = kindOf(config);
    const snapshotOf = config['snapshot_of'] ?? null;
    // A thin snapshot's pool is its origin's: what the host reported for it is kept, not a change.
    const reportedPool = kind === 'thin-snapshot' && prior && valuesEqual(prior['snapshot_of'], snapshotOf) ? prior['thin_pool'] : null;
    const thinPool = config['thin_pool'] ?? reportedPool ?? null;
    const vg = kind === 'thin' ? groupOf(thinPool) : kind === 'linear' ? (config['volume_group'] ?? UNKNOWN) : groupOf(snapshotOf);
    const name = volumeName(config, ctx);
    const known = typeof vg === 'string' && typeof name === 'string';
    const planned: ValueObject = {
      volume_group: vg,
      thin_pool: thinPool,
      name,
      size: config['size'] ?? null,
      virtual_size: canonicalSize(config['virtual_size']),
      size_bytes: UNKNOWN,
      filesystem: planFilesystem(config['filesystem']),
      snapshot_of: snapshotOf,
      allow_shrink: config['allow_shrink'] ?? false,
      id: known ? `${vg}/${name}` : UNKNOWN,
      path: known ? `/dev/${vg}/${name}` : UNKNOWN,
    };
    planned['size_bytes'] =
      kind === 'thin'
        ? resolvePlannedBytes({ attribute: 'virtual_size', written: planned['virtual_size'], vg, prior, ctx })
        : kind === 'thin-snapshot'
          ? snapshotBytes(snapshotOf, prior, ctx)
          : resolvePlannedBytes({ attribute: 'size', written: config['size'], vg, prior, ctx });
    return planned;
  },

  valueNotes(state) {
    return sizeNotes(state, ['size']);
  },

  async apply(req, session) {
    requireResolvedSize(req);
    return applyThroughAgent('logical_volume', req, session);
  },
};

/** Which attributes go together: one of the three kinds, nothing of another. */
function checkShape(c: ValueObject, storage: HostStorage | undefined): PathDiagnostic[] {
  const out: PathDiagnostic[] = [];
  const conflict = (attr: string, summary: string) => out.push({ code: 'E_CONFLICT', summary, path: [attr] });
  const missing = (attr: string, summary: string, detail?: string) =>
    out.push({ code: 'E_MISSING_ATTRIBUTE', summary, ...(detail ? { detail } : {}), path: [attr] });
  const kind = kindOf(c);
  if (kind === 'thin') {
    if (!set(c['virtual_size'])) missing('virtual_size', 'A thin volume (thin_pool) needs a virtual_size');
    if (set(c['size'])) conflict('size', 'A thin volume has a virtual_size, not a size');
    if (set(c['snapshot_of'])) conflict('snapshot_of', "A snapshot lives in its origin's pool: set snapshot_of without thin_pool");
    const poolGroup = groupOf(c['thin_pool']);
    if (typeof c['volume_group'] === 'string' && typeof poolGroup === 'string' && c['volume_group'] !== poolGroup) {
      conflict('volume_group', `volume_group "${c['volume_group']}" is not the group of thin pool ${String(c['thin_pool'])}; leave it out, the pool decides`);
    }
    return out;
  }
  if (set(c['virtual_size'])) conflict('virtual_size', 'virtual_size is for thin volumes: set thin_pool too, or use size');
  if (kind === 'linear') {
    if (!set(c['volume_group'])) missing('volume_group', 'A logical volume needs a volume_group (or a thin_pool, or snapshot_of)');
    if (!set(c['size'])) missing('size', 'A logical volume in a volume group needs a size', 'Such as size = "10G", "50%VG" or "100%FREE".');
    return out;
  }
  // Snapshots.
  const origin = c['snapshot_of'];
  const originGroup = groupOf(origin);
  if (typeof c['volume_group'] === 'string' && typeof originGroup === 'string' && c['volume_group'] !== originGroup) {
    conflict('volume_group', `volume_group "${c['volume_group']}" is not the group of ${String(origin)}: a snapshot lives in its origin's group`);
  }
  const seen = typeof origin === 'string' ? storage?.volume(origin) : undefined;
  if (kind === 'thin-snapshot' && seen && seen.kind !== 'thin') {
    missing('size', `${String(origin)} is not a thin volume: a snapshot of it needs a size, the space for its copy-on-write data`);
  }
  return out;
}

function checkFilesystem(fs: Value | undefined): PathDiagnostic[] {
  if (!isObject(fs)) return [];
  const out: PathDiagnostic[] = [];
  const type = fs['type'];
  const label = fs['label'];
  if (typeof label === 'string' && (type === 'ext4' || type === 'xfs') && Buffer.byteLength(label) > LABEL_MAX[type]) {
    out.push({
      code: 'E_INVALID_VALUE',
      summary: `The ${type} label ${JSON.stringify(label)} is longer than ${LABEL_MAX[type]} bytes`,
      path: ['filesystem', 'label'],
    });
  }
  const options = fs['mount_options'];
  if (Array.isArray(options)) {
    options.forEach((o, i) => {
      if (typeof o === 'string' && !MOUNT_OPTION.test(o)) {
        out.push({
          code: 'E_INVALID_VALUE',
          summary: `Mount option ${JSON.stringify(o)} is not one option (such as "noatime" or "commit=60")`,
          path: ['filesystem', 'mount_options', i],
        });
      }
    });
  }
  return out;
}

function planFilesystem(fs: Value | undefined): Value {
  if (isUnknown(fs)) return UNKNOWN;
  if (!isObject(fs)) return null;
  return { type: fs['type'] ?? null, label: fs['label'] ?? null, mount_options: fs['mount_options'] ?? [] };
}

/** A thin snapshot is as large as its origin. */
function snapshotBytes(origin: Value, prior: ValueObject | null, ctx: PlanContext): Value {
  const recorded = (state: ValueObject | null | undefined) =>
    state && valuesEqual(state['snapshot_of'], origin) && typeof state['size_bytes'] === 'number' ? state['size_bytes'] : undefined;
  const planned = recorded(ctx.planned);
  if (planned !== undefined) return planned;
  if (typeof origin === 'string') {
    const size = ctx.storage?.volume(origin)?.sizeBytes;
    if (size !== undefined) return size;
  }
  return recorded(prior) ?? UNKNOWN;
}

function describeVolume(state: ValueObject, storage: HostStorage | undefined): StorageObject | undefined {
  const id = state['id'];
  if (typeof id !== 'string') return undefined;
  const size = state['size_bytes'];
  const sized = typeof size === 'number' ? { sizeBytes: size } : {};
  const pool = state['thin_pool'];
  const origin = state['snapshot_of'];
  const originRequired = typeof origin === 'string' ? [{ kind: 'volume' as const, id: origin, path: ['snapshot_of'] }] : [];
  switch (kindOf(state)) {
    case 'thin':
      if (typeof pool !== 'string') return undefined;
      return { kind: 'volume', id, thin: true, pool, ...sized, sizePath: ['virtual_size'], requires: [{ kind: 'pool', id: pool, path: ['thin_pool'] }] };
    case 'thin-snapshot': {
      // Its blocks are shared with the origin until written; its virtual size counts in the origin's pool.
      const originPool = typeof origin === 'string' ? storage?.volume(origin)?.pool : null;
      return { kind: 'volume', id, thin: true, ...(originPool ? { pool: originPool } : {}), ...sized, requires: originRequired };
    }
    default: {
      const vg = state['volume_group'];
      if (typeof vg !== 'string') return undefined;
      return {
        kind: 'volume',
        id,
        vg,
        ...sized,
        ...(typeof size === 'number' ? { takesBytes: size } : {}),
        sizePath: ['size'],
        requires: originRequired.length ? originRequired : [{ kind: 'group', id: vg, path: ['volume_group'] }],
      };
    }
  }
}
