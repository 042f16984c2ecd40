// `container`: a process tree with its own namespaces, cgroup and root filesystem on
// one host, run by the agent's supervisor. Limits (`resources`), the restart policy and
// the desired `state` change in place; anything else means a new container.
//
//   container-schema.ts   attributes and nested blocks (zod, strict)
//   container-check.ts    rules between attributes, refusals, with attribute paths
//   container-plan.ts     defaults, canonical forms, computed attributes
import { applyThroughAgent } from './agent-operations.js';
import { checkContainer } from './container-check.js';
import { CONTAINER_COMPUTED, planContainer } from './container-plan.js';
import { CONTAINER_BLOCKS, containerSchema } from './container-schema.js';
import type { ResourceProvider } from './provider.js';

export const containerProvider: ResourceProvider = {
  type: 'container',
  nestedBlocks: CONTAINER_BLOCKS,
  schema: containerSchema,
  // `status` follows `state` (see container-plan.ts): changing one changes the other.
  updatable: ['resources', 'restart', 'state', 'status'],
  computed: CONTAINER_COMPUTED,
  sensitive: [],
  usesAgent: true,

  check(config, ctx) {
    return checkContainer(config, ctx);
  },

  plan(config, prior) {
    return planContainer(config, prior);
  },

  async prepareCreates(count, session) {
    await session.call('container.prewarm', { count });
  },

  apply(req, session) {
    return applyThroughAgent('container', req, session);
  },
};
