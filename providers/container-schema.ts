// The `container` configuration as zod sees it: every attribute and nested block of
// the SPEC, strict at every level (a misspelled name is an error with a suggestion).
// Only leaf forms are checked here, with refine rather than regex so that a message says
// what is expected instead of showing a pattern. Rules between attributes (memory_swap
// >= memory, ports need bridge networking...) and map keys are in container-check.ts:
// a rule on a whole object would also fire when one of its values is not known yet,
// and a bad map key would be reported without its reason.
import { z } from 'zod';
import type { ContainerArgs } from '../api/resource-types.js';
import {
  absolutePathSchema,
  cpusetSchema,
  durationSchema,
  hostnameSchema,
  ipSchema,
  ipv4Schema,
  signalSchema,
  sizeSchema,
  userSchema,
} from './container-values.js';

const port = z.number().int().min(1).max(65535);
/** HCL maps of strings often hold numbers (`PORT = 8080`): accepted, stored as strings. */
const scalarString = z.custom<string | number | boolean>((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean', {
  message: 'must be a string',
});

export const CONTAINER_STATES = ['running', 'stopped', 'paused'] as const;
export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export const MOUNT_TYPES = ['bind', 'volume', 'tmpfs', 'logical_volume'] as const;

export const resourcesSchema = z.strictObject({
  memory: sizeSchema.optional(),
  memory_swap: sizeSchema.optional(),
  memory_reservation: sizeSchema.optional(),
  cpu_shares: z.number().int().min(2).max(262144).optional(),
  cpus: z
    .number()
    .refine((n) => n > 0 && n <= 4096, { message: 'must be a number of CPUs more than 0, such as 0.5 or 2' })
    .optional(),
  cpuset: cpusetSchema.optional(),
  pids_limit: z.number().int().min(1).optional(),
  blkio_weight: z.number().int().min(10).max(1000).optional(),
  device_read_bps: z.record(z.string(), sizeSchema).optional(),
  device_write_bps: z.record(z.string(), sizeSchema).optional(),
  device_read_iops: z.record(z.string(), z.number().int().min(1)).optional(),
  device_write_iops: z.record(z.string(), z.number().int().min(1)).optional(),
});

export const mountSchema = z.strictObject({
  type: z.enum(MOUNT_TYPES),
  /** Not for tmpfs. */
  source: z.string().min(1).optional(),
  target: absolutePathSchema,
  read_only: z.boolean().optional(),
});

export const deviceSchema = z.strictObject({
  source: z.string().min(1),
  target: absolutePathSchema,
  permissions: z
    .string()
    .refine((s) => /^(?!.*(.).*\1)[rwm]{1,3}$/.test(s), { message: 'must be made of r, w and m, each at most once' })
    .optional(),
});

export const tmpfsSchema = z.strictObject({
  target: absolutePathSchema,
  size: sizeSchema.optional(),
});

export const networkAttachmentSchema = z.strictObject({
  id: z.string().min(1),
  ip: ipv4Schema.optional(),
  aliases: z.array(hostnameSchema).optional(),
});

export const portSchema = z.strictObject({
  host_port: port,
  container_port: port,
  protocol: z.enum(['tcp', 'udp']).optional(),
  host_ip: ipSchema.optional(),
});

export const restartSchema = z.strictObject({
  policy: z.enum(RESTART_POLICIES),
  max_retries: z.number().int().min(0).optional(),
});

export const capabilitiesSchema = z.strictObject({
  add: z.array(z.string()).optional(),
  drop: z.array(z.string()).optional(),
});

export const healthcheckSchema = z.strictObject({
  command: z.array(z.string()).min(1),
  interval: durationSchema.optional(),
  retries: z.number().int().min(1).optional(),
});

export const containerSchema = z.strictObject({
  image: z.string().min(1),
  command: z.array(z.string()).min(1).optional(),
  env: z.record(z.string(), scalarString).optional(),
  working_dir: absolutePathSchema.optional(),
  user: userSchema.optional(),
  hostname: hostnameSchema.optional(),
  extra_hosts: z.record(z.string(), ipSchema).optional(),
  localtime: z.boolean().optional(),
  rootfs_size: sizeSchema.optional(),
  rootfs_thin_pool: z.string().min(1).optional(),
  read_only_rootfs: z.boolean().optional(),
  state: z.enum(CONTAINER_STATES).optional(),
  resources: resourcesSchema.optional(),
  mount: z.array(mountSchema).optional(),
  device: z.array(deviceSchema).optional(),
  tmpfs: z.array(tmpfsSchema).optional(),
  network: z.array(networkAttachmentSchema).optional(),
  network_mode: z
    .string()
    .refine((s) => /^(bridge|none|host|container:.+)$/.test(s), { message: 'must be bridge, none, host or container:NAME' })
    .optional(),
  port: z.array(portSchema).optional(),
  restart: restartSchema.optional(),
  capabilities: capabilitiesSchema.optional(),
  privileged: z.boolean().optional(),
  no_new_privileges: z.boolean().optional(),
  seccomp_profile: z.string().min(1).optional(),
  healthcheck: healthcheckSchema.optional(),
  stop_signal: signalSchema.optional(),
  stop_timeout: durationSchema.optional(),
});
export type ContainerConfig = z.infer<typeof containerSchema>;

/** Nested blocks of a container and whether they repeat (as api/resource-types.ts declares them). */
export const CONTAINER_BLOCKS = {
  resources: 'single',
  mount: 'list',
  device: 'list',
  tmpfs: 'list',
  network: 'list',
  port: 'list',
  restart: 'single',
  capabilities: 'single',
  healthcheck: 'single',
} as const;

// The schema and the typed manifest API must name the same attributes: a compile error
// here means one of them changed without the other.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameAttributes: Same<keyof ContainerConfig, keyof ContainerArgs> = true;
void sameAttributes;
