// `volume`: named storage for containers. Without `thin_pool` it is a directory the
// agent manages under its state directory (`<state>/volumes/<name>`); its id is its
// name, known at plan time, so `mount { type = "volume" source = volume.x.id }` plans
// without waiting. Thin-LV volumes come with LVM support. Nothing updates in place.
import { z } from 'zod';
import type { VolumeArgs } from '../api/resource-types.js';
import { UNKNOWN, isUnknown, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { defaultObjectName, isSafeName } from './names.js';
import type { PathDiagnostic, ResourceProvider } from './provider.js';
import { canonicalSize, sizeSchema } from './container-values.js';

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

  check(raw, ctx) {
    const out: PathDiagnostic[] = [];
    const thin = raw['thin_pool'] !== undefined && raw['thin_pool'] !== null;
    if (thin) {
      out.push({
        code: 'E_UNSUPPORTED',
        summary: 'thin-pool volumes come with LVM support, which this version of tsinfra does not have yet',
        path: ['thin_pool'],
      });
    }
    // A directory has no quota: refuse a size rather than ignore it.
    if (!thin && raw['size'] !== undefined && raw['size'] !== null && !isUnknown(raw['size'])) {
      out.push({
        code: 'E_UNSUPPORTED',
        summary: 'A size quota needs a thin-pool volume; directory volumes have no size limit',
        detail: 'Remove size, or wait for thin-pool volumes (LVM support).',
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
