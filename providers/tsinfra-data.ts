// `tsinfra_data`: holds a value in state and does no host work, like Terraform's
// terraform_data. Useful to pass values through the graph, to force replacement of
// dependents (triggers_replace), and as the cheap resource of the plan benchmarks.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UNKNOWN, type Value } from '../plan-engine/values.js';
import type { ResourceProvider } from './provider.js';

export const tsinfraDataSchema = z.strictObject({
  input: z.unknown().optional(),
  triggers_replace: z.unknown().optional(),
});

export const tsinfraDataProvider: ResourceProvider = {
  type: 'tsinfra_data',
  nestedBlocks: {},
  schema: tsinfraDataSchema,
  // output follows input, so both change in place.
  updatable: ['input', 'output'],
  derivedSensitive: { output: 'input' },
  computed: ['id', 'output'],
  sensitive: [],
  usesAgent: false,

  plan(config, prior) {
    const input = (config['input'] ?? null) as Value;
    return {
      input,
      triggers_replace: (config['triggers_replace'] ?? null) as Value,
      output: input,
      id: prior?.['id'] ?? UNKNOWN,
    };
  },

  async apply(req) {
    if (req.action === 'delete') return null;
    const planned = req.planned!;
    return { ...planned, id: req.prior?.['id'] ?? randomUUID(), output: planned['input'] ?? null };
  },
};
