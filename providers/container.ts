// `container`: a process tree with its own namespaces, cgroup and root filesystem on
// one host, run by the agent's supervisor. Limits (`resources`), the restart policy and
// the desired `state` change in place; anything else means a new container.
//
//   container-schema.ts   attributes and nested blocks (zod, strict)
//   container-check.ts    rules between attributes, refusals, with attribute paths
//   container-plan.ts     defaults, canonical forms, computed attributes
import type { ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { checkContainer } from './container-check.js';
import { CONTAINER_COMPUTED, planContainer } from './container-plan.js';
import { CONTAINER_BLOCKS, containerSchema } from './container-schema.js';
import type { ResourceProvider } from './provider.js';
import { DEFAULT_EXTENT_BYTES } from '../agent/storage/lvm-size.js';
import type { HostStorage, StorageObject } from './storage-model.js';
import { bytesOf, groupOf } from './storage-values.js';

export const containerProvider: ResourceProvider = {
  type: 'container',
  nestedBlocks: CONTAINER_BLOCKS,
  schema: containerSchema,
  // `status` follows `state` (see container-plan.ts): changing one changes the other.
  updatable: ['resources', 'restart', 'state', 'status'],
  computed: CONTAINER_COMPUTED,
  sensitive: [],
  usesAgent: true,

  // rootfs_size: the container's thin volume, in the plan's pool checks and over-commit warning.
  storage: {
    when: ['rootfs_size'],
    describe(state, storage) {
      return describeRootfsVolume(state, storage);
    },
  },

  check(config, ctx) {
    return checkContainer(config, ctx);
  },

  plan(config, prior, ctx) {
    return planContainer(config, prior, ctx.hostSettings);
  },

  async prepareCreates(count, session) {
    await session.call('container.prewarm', { count });
  },

  apply(req, session) {
    return applyThroughAgent('container', req, session);
  },
};

/** The thin volume `rootfs_size` gives a container (`VG/tsi-rootfs-<id>`; before it has an id, a name no LV has). */
function describeRootfsVolume(state: ValueObject, storage: HostStorage | undefined): StorageObject | undefined {
  const pool = state['rootfs_thin_pool'];
  const vg = groupOf(pool);
  const bytes = bytesOf(state['rootfs_size']);
  if (typeof pool !== 'string' || typeof vg !== 'string' || bytes === undefined) return undefined;
  const id = typeof state['id'] === 'string' ? state['id'] : 'new';
  const extent = storage?.group(vg)?.extentBytes ?? DEFAULT_EXTENT_BYTES;
  return {
    kind: 'volume',
    id: `${vg}/tsi-rootfs-${id}`,
    thin: true,
    pool,
    sizeBytes: Math.ceil(bytes / extent) * extent,
    sizePath: ['rootfs_size'],
    requires: [{ kind: 'pool', id: pool, path: ['rootfs_thin_pool'] }],
  };
}
