// The init's messages as zod schemas: the supervisor validates what it sends and what
// it receives with them. The init itself does not load zod (it would cost a third of its
// start-up); it trusts its supervisor's messages, which were validated before sending.
import { z } from 'zod';

export const bindMount = z.object({
  kind: z.literal('bind'),
  source: z.string(),
  target: z.string(),
  readOnly: z.boolean(),
  /** A file rather than a directory (hosts, localtime): the target is created as a file. */
  file: z.boolean().optional(),
});

export const tmpfsMount = z.object({
  kind: z.literal('tmpfs'),
  target: z.string(),
  /** Bytes; 0 = the kernel's default (half of RAM). */
  sizeBytes: z.number().int().nonnegative(),
  mode: z.number().int().optional(),
});

/**
 * A block device's filesystem (a logical volume), mounted by the init itself: a mount the
 * supervisor made after this warm init unshared its namespace would not be visible here.
 * The kernel shares the superblock with the host's staging mount of the same device, so a
 * filesystem grown there is grown here.
 */
export const deviceMount = z.object({
  kind: z.literal('device'),
  /** The device node on the host (`/dev/dm-3`): mounted before pivot_root, then moved onto the target. */
  source: z.string(),
  target: z.string(),
  fsType: z.string(),
  /** mount(2) flags and filesystem data, from the volume's mount options. */
  flags: z.number().int().nonnegative(),
  data: z.string().nullable(),
  readOnly: z.boolean(),
});

export const mountSpec = z.discriminatedUnion('kind', [bindMount, tmpfsMount, deviceMount]);
export type MountSpec = z.infer<typeof mountSpec>;

export const deviceNode = z.object({
  path: z.string(),
  type: z.enum(['c', 'b']),
  major: z.number().int(),
  minor: z.number().int(),
  mode: z.number().int(),
});
export type DeviceNode = z.infer<typeof deviceNode>;

/** What the process runs as and with: applied last, just before execve. */
export const processSpec = z.object({
  args: z.array(z.string()).min(1),
  env: z.array(z.string()),
  cwd: z.string(),
  /** `uid`, `uid:gid`, `name`, `name:group`, resolved against the container's /etc/passwd and /etc/group. */
  user: z.string(),
  noNewPrivileges: z.boolean(),
  /** Capability mask, hex. */
  capabilities: z.string(),
  /** struct sock_filter program, base64; null = unconfined. */
  seccomp: z.string().nullable(),
});
export type ProcessSpec = z.infer<typeof processSpec>;

export const initConfig = z.object({
  id: z.string(),
  rootfs: z.object({
    /** Image layers, lowest first. */
    lower: z.array(z.string()).min(1),
    upper: z.string(),
    work: z.string(),
    /** An empty directory the overlay is mounted on (then pivot_root'ed into). */
    target: z.string(),
    readOnly: z.boolean(),
    /**
     * `rootfs_size`: the writable layer's filesystem (a thin LV), mounted on `dir` first;
     * `upper` and `work` are directories inside it.
     */
    layer: z.object({ device: z.string(), fsType: z.string(), dir: z.string() }).nullable(),
  }),
  hostname: z.string(),
  /** Another network namespace to join instead of the new one (`network_mode` host or container:NAME). */
  netns: z.string().nullable(),
  /** FIFOs the supervisor reads; opened read-write so a write never fails while the supervisor is away. */
  stdio: z.object({ stdout: z.string(), stderr: z.string() }),
  mounts: z.array(mountSpec),
  devices: z.array(deviceNode),
  maskedPaths: z.array(z.string()),
  readonlyPaths: z.array(z.string()),
  process: processSpec,
});
export type InitConfig = z.infer<typeof initConfig>;

export const execConfig = z.object({
  /** Host pid of the container's pid 1, whose namespaces are joined. */
  targetPid: z.number().int().positive(),
  process: processSpec,
});
export type ExecConfig = z.infer<typeof execConfig>;

/** Supervisor -> init. */
export const toInit = z.discriminatedUnion('type', [
  z.object({ type: z.literal('config'), config: initConfig }),
  z.object({ type: z.literal('exec-config'), config: execConfig }),
  z.object({ type: z.literal('go') }),
]);
export type ToInit = z.infer<typeof toInit>;

export const INIT_STAGES = ['start', 'config', 'rootfs', 'mounts', 'devices', 'pivot', 'namespaces', 'user', 'credentials', 'security', 'exec'] as const;
export type InitStage = (typeof INIT_STAGES)[number];

/** Init -> supervisor. */
export const fromInit = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), hostPid: z.number().int() }),
  z.object({ type: z.literal('mounted') }),
  z.object({ type: z.literal('error'), stage: z.enum(INIT_STAGES), message: z.string() }),
]);
export type FromInit = z.infer<typeof fromInit>;
