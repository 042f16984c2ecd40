// `volume`: named storage for containers. Without `thin_pool` it is a directory the
// agent manages under its state directory (`<state>/volumes/<name>`); with `thin_pool`
// it is a thin LV `tsi-vol-<name>` of that size in the pool, with an ext4 filesystem
// the agent mounts at that same directory, so containers use both kinds alike. Its id
// is its name, known at plan time, so `mount { type = "volume" source = volume.x.id }`
// plans without waiting. Nothing updates in place.
import { z } from 'zod';
import type { VolumeArgs } from '../api/resource-types.js';
import { UNKNOWN, isUnknown, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { defaultObjectName, isSafeName } from './names.js';
import type { PathDiagnostic, ResourceProvider } from './provider.js';
import { canonicalSize, sizeSchema } from './container-values.js';
import { DEFAULT_EXTENT_BYTES } from '../agent/storage/lvm-size.js';
import { logicalVolumeNameProblem } from '../agent/storage/lvm-names.js';
import type { HostStorage, StorageObject } from './storage-model.js';
import { bytesOf, checkLvmId, groupOf, volumeLvName } from './storage-values.js';

export const volumeSchema = z.strictObject({
  name: z.string().refine(isSafeName, { message: 'may contain letters, digits, ".", "_" and "-" only (no "..", at most 63 characters)' }).optional(),
  size: sizeSchema.optional(),
  thin_pool: z.string().optional(),
});

// The schema and the typed manifest API must name the same attributes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttributes: Same<keyof z.infer<typeof volumeSchema>, keyof VolumeArgs> = true;
void sameAttributes;

export const volumeProvider: ResourceProvider = {
  type: 'volume',
  nestedBlocks: {},
  schema: volumeSchema,
  updatable: [],
  computed: ['id', 'path'],
  sensitive: [],
  usesAgent: true,

  storage: {
    when: ['thin_pool'],
    describe(state, storage) {
      return describeThinVolume(state, storage);
    },
  },

  check(raw, ctx) {
    const out: PathDiagnostic[] = [];
    const thin = raw['thin_pool'] !== undefined && raw['thin_pool'] !== null;
    if (thin) {
      out.push(...checkLvmId(raw['thin_pool'], 'thin_pool'));
      if (raw['size'] === undefined || raw['size'] === null) {
        out.push({
          code: 'E_MISSING_ATTRIBUTE',
          summary: 'A thin-pool volume needs a size',
          detail: 'Its size is the quota: the most its thin volume can hold, such as size = "10G".',
          path: ['size'],
        });
      }
      const name = raw['name'] ?? defaultObjectName(ctx.name, ctx.instanceKey);
      const problem = typeof name === 'string' && isSafeName(name) ? logicalVolumeNameProblem(volumeLvName(name)) : undefined;
      if (problem) {
        out.push({ code: 'E_INVALID_NAME', summary: `The thin volume name ${JSON.stringify(volumeLvName(name as string))} ${problem}`, path: ['name'] });
      }
    }
    // A directory has no quota: refuse a size rather than ignore it.
    if (!thin && raw['size'] !== undefined && raw['size'] !== null && !isUnknown(raw['size'])) {
      out.push({
        code: 'E_UNSUPPORTED',
        summary: 'A size quota needs a thin-pool volume; directory volumes have no size limit',
        detail: 'Remove size, or set thin_pool to make it a thin volume of that size.',
        path: ['size'],
      });
    }
    if (raw['name'] === undefined && !isSafeName(defaultObjectName(ctx.name, ctx.instanceKey))) {
      out.push({
        code: 'E_INVALID_NAME',
        summary: `The default volume name ${JSON.stringify(defaultObjectName(ctx.name, ctx.instanceKey))} is not a safe name`,
        detail: 'Set name = "..." with letters, digits, ".", "_" and "-" only.',
        path: ['name'],
      });
    }
    return out;
  },

  plan(raw, prior, ctx) {
    const name = raw['name'] ?? defaultObjectName(ctx.name, ctx.instanceKey);
    const planned: ValueObject = {
      name,
      size: canonicalSize(raw['size']),
      thin_pool: raw['thin_pool'] ?? null,
      // The id is the name: known at plan time, so references to it need not wait.
      id: name,
      // Where it lives depends on the host's state directory: the agent says.
      path: prior && prior['id'] === name ? (prior['path'] ?? UNKNOWN) : UNKNOWN,
    };
    return planned;
  },

  apply(req, session) {
    return applyThroughAgent('volume', req, session);
  },
};

/** A thin-pool volume: a thin LV whose virtual size is the volume's size. */
function describeThinVolume(state: ValueObject, storage: HostStorage | undefined): StorageObject | undefined {
  const pool = state['thin_pool'];
  const name = state['name'];
  const vg = groupOf(pool);
  if (typeof pool !== 'string' || typeof name !== 'string' || typeof vg !== 'string') return undefined;
  const bytes = bytesOf(state['size']);
  const extent = storage?.group(vg)?.extentBytes ?? DEFAULT_EXTENT_BYTES;
  return {
    kind: 'volume',
    id: `${vg}/${volumeLvName(name)}`,
    thin: true,
    pool,
    ...(bytes !== undefined ? { sizeBytes: Math.ceil(bytes / extent) * extent } : {}),
    sizePath: ['size'],
    requires: [{ kind: 'pool', id: pool, path: ['thin_pool'] }],
  };
}
