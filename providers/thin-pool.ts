// `thin_pool`: an LVM thin pool in a volume group, which thin volumes (`logical_volume`
// with `thin_pool`, `volume` with `thin_pool`, containers' rootfs volumes) take their
// blocks from as they write. Its id is `VG/POOL`. Its size is resolved to bytes at plan
// time ("50%VG" of the group as the plan leaves it), grows in place and never shrinks
// (lvm2 cannot). Its usage (`data_percent`, `metadata_percent`) is what refresh saw.
import { z } from 'zod';
import type { ThinPoolArgs } from '../api/resource-types.js';
import { DEFAULT_OVERCOMMIT_RATIO } from '../agent/storage/lvm-capacity.js';
import { DEFAULT_EXTENT_BYTES, formatBytes } from '../agent/storage/lvm-size.js';
import { UNKNOWN, type Value, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { canonicalSize, sizeSchema } from './container-values.js';
import { defaultObjectName } from './names.js';
import type { PathDiagnostic, PlanContext, ResourceProvider } from './provider.js';
import type { HostStorage, StorageObject } from './storage-model.js';
import {
  bytesOf,
  checkGroupName,
  checkVolumeName,
  lvSizeSchema,
  requireResolvedSize,
  resolvePlannedBytes,
  sizeNotes,
  THIN_CHUNK_MAX,
  THIN_CHUNK_MIN,
  THIN_METADATA_MAX,
  THIN_METADATA_MIN,
  thinPoolOverheadBytes,
} from './storage-values.js';

export const thinPoolSchema = z.strictObject({
  volume_group: z.string(),
  // Required: checked in check(), so that a missing size reads as missing rather than malformed.
  size: lvSizeSchema.optional(),
  name: z.string().optional(),
  chunk_size: sizeSchema.optional(),
  metadata_size: sizeSchema.optional(),
  overcommit_ratio: z.number().min(1).optional(),
});

// The schema and the typed manifest API must name the same attributes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttributes: Same<keyof z.infer<typeof thinPoolSchema>, keyof ThinPoolArgs> = true;
void sameAttributes;

function poolName(config: ValueObject, ctx: PlanContext): Value {
  return config['name'] ?? defaultObjectName(ctx.name, ctx.instanceKey);
}

/** Bytes the pool's metadata volumes take beside `dataBytes`. */
function overheadOf(state: ValueObject): (dataBytes: number, extentBytes: number) => number {
  return (data, extent) => thinPoolOverheadBytes(data, extent, bytesOf(state['chunk_size']), bytesOf(state['metadata_size']));
}

export const thinPoolProvider: ResourceProvider = {
  type: 'thin_pool',
  nestedBlocks: {},
  schema: thinPoolSchema,
  updatable: ['size', 'size_bytes', 'overcommit_ratio'],
  computed: ['id', 'size_bytes', 'data_percent', 'metadata_percent'],
  observed: ['data_percent', 'metadata_percent'],
  sensitive: [],
  usesAgent: true,

  storage: {
    describe(state, storage) {
      return describePool(state, storage);
    },
  },

  check(config, ctx) {
    const out: PathDiagnostic[] = [];
    if (config['size'] === undefined || config['size'] === null) {
      out.push({
        code: 'E_MISSING_ATTRIBUTE',
        summary: 'Missing required attribute "size"',
        detail: 'Add size = "10G", "50%VG" or "100%FREE".',
        path: ['size'],
      });
    }
    out.push(...checkVolumeName(poolName(config, ctx), config['name'] !== undefined, 'thin pool'));
    out.push(...checkGroupName(config['volume_group'], 'volume_group'));
    const chunk = bytesOf(config['chunk_size']);
    if (chunk !== undefined && (chunk < THIN_CHUNK_MIN || chunk > THIN_CHUNK_MAX || chunk % THIN_CHUNK_MIN !== 0)) {
      out.push({
        code: 'E_INVALID_SIZE',
        summary: `chunk_size ${String(config['chunk_size'])} is not a thin-pool chunk size`,
        detail: 'lvm2 takes a multiple of 64K between 64K and 1G.',
        path: ['chunk_size'],
      });
    }
    const meta = bytesOf(config['metadata_size']);
    if (meta !== undefined && (meta < THIN_METADATA_MIN || meta > THIN_METADATA_MAX)) {
      out.push({
        code: 'E_INVALID_SIZE',
        summary: `metadata_size ${String(config['metadata_size'])} is outside lvm2's range for thin-pool metadata (2M to 16G)`,
        path: ['metadata_size'],
      });
    }
    return out;
  },

  checkChange(prior, planned) {
    const from = prior['size_bytes'];
    const to = planned['size_bytes'];
    if (typeof from !== 'number' || typeof to !== 'number' || to >= from) return [];
    return [
      {
        code: 'E_SHRINK_REFUSED',
        summary: `Shrinking thin pool ${String(planned['id'])} from ${formatBytes(from)} to ${formatBytes(to)} is refused: lvm2 cannot shrink thin pools`,
        detail: `Set size back to at least ${formatBytes(from)}. To make it smaller, create a smaller pool and move the thin volumes to it.`,
        path: ['size'],
      },
    ];
  },

  plan(config, prior, ctx) {
    const vg = config['volume_group'] ?? UNKNOWN;
    const name = poolName(config, ctx);
    const planned: ValueObject = {
      volume_group: vg,
      name,
      size: config['size'] ?? UNKNOWN,
      size_bytes: UNKNOWN,
      // Unset means "what lvm2 chose": an imported pool's real sizes are kept, not replaced.
      chunk_size: canonicalSize(config['chunk_size']) ?? prior?.['chunk_size'] ?? null,
      metadata_size: canonicalSize(config['metadata_size']) ?? prior?.['metadata_size'] ?? null,
      overcommit_ratio: config['overcommit_ratio'] ?? DEFAULT_OVERCOMMIT_RATIO,
      id: typeof vg === 'string' && typeof name === 'string' ? `${vg}/${name}` : UNKNOWN,
      // Usage is what the host reports; a new pool's is known once it exists.
      data_percent: prior ? (prior['data_percent'] ?? null) : UNKNOWN,
      metadata_percent: prior ? (prior['metadata_percent'] ?? null) : UNKNOWN,
    };
    planned['size_bytes'] = resolvePlannedBytes({ attribute: 'size', written: config['size'], vg, prior, ctx, overhead: overheadOf(planned) });
    return planned;
  },

  valueNotes(state) {
    return sizeNotes(state, ['size']);
  },

  async apply(req, session) {
    requireResolvedSize(req);
    return applyThroughAgent('thin_pool', req, session);
  },
};

function describePool(state: ValueObject, storage: HostStorage | undefined): StorageObject | undefined {
  const id = state['id'];
  const vg = state['volume_group'];
  if (typeof id !== 'string' || typeof vg !== 'string') return undefined;
  const size = state['size_bytes'];
  const ratio = state['overcommit_ratio'];
  const extent = storage?.group(vg)?.extentBytes ?? DEFAULT_EXTENT_BYTES;
  return {
    kind: 'pool',
    id,
    vg,
    ...(typeof size === 'number' ? { sizeBytes: size, takesBytes: size + overheadOf(state)(size, extent) } : {}),
    overcommitRatio: typeof ratio === 'number' ? ratio : DEFAULT_OVERCOMMIT_RATIO,
    sizePath: ['size'],
    requires: [{ kind: 'group', id: vg, path: ['volume_group'] }],
  };
}
