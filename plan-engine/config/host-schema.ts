// The `host` block's settings after evaluation.
import { z } from 'zod';
import { parseDuration } from '../../agent/runtime/durations.js';

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
  /** tsinfra may install the tools its resources need here (lvm2, thin-provisioning-tools) with the host's package manager. */
  install_packages: z.boolean().optional(),
  /** The thin pool (`VG/POOL`) that holds containers' rootfs volumes (`rootfs_size`) unless a container names its own. */
  rootfs_thin_pool: z
    .string()
    .regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*\/[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, { message: 'must be a thin pool id such as "vg0/pool0"' })
    .optional(),
  /** How long the agent stays on the host after a run to serve the next ones ("0s": it exits with the run). */
  agent_idle_timeout: z
    .string()
    .refine((d) => parseDuration(d) !== undefined, { message: 'must be a duration such as "10m", "30s" or "0s"' })
    .optional(),
  /** local transport: run the agent inside this network namespace (tests, labs). */
  netns: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
});
export type HostSettings = z.infer<typeof hostSchema>;
