// The `host` block's settings after evaluation.
import { z } from 'zod';

export const hostSchema = z.strictObject({
  transport: z.enum(['ssh', 'local']).optional(),
  address: z.string().min(1).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  user: z.string().min(1).optional(),
  private_key_file: z.string().optional(),
  agent: z.boolean().optional(),
  known_hosts_file: z.string().optional(),
  host_key: z.string().optional(),
  jump_host: z.unknown().optional(),
  sudo: z.boolean().optional(),
  allow_privileged: z.boolean().optional(),
  /** local transport: run the agent inside this network namespace (tests, labs). */
  netns: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
});
export type HostSettings = z.infer<typeof hostSchema>;
