// The staged container init and its handshake with the supervisor.
//
// Node's process is multi-threaded, so namespaces that bind the whole process cannot be
// entered from it: a new pid namespace applies only to children, setns into a mount
// namespace fails while threads share the fs struct, and unshare(CLONE_NEWNS) would move
// only the calling thread. So the namespaces are made BEFORE Node starts, by util-linux's
// `unshare` (a small C program), and Node runs inside them:
//
//   supervisor ── spawn ──> unshare --pid --fork --kill-child --mount --uts --ipc --net
//                               └─ fork ─> node init-main.js   (pid 1 of the new pid ns)
//
// The init is started ahead of time (a warm pool), so no Node start sits on the
// per-container path. Then, over two FIFOs the supervisor makes and the init opens
// itself, close-on-exec (`in`: supervisor -> init, `out`: init -> supervisor), one JSON
// message per line:
//
//   supervisor                               init (main thread, synchronous syscalls only)
//       |                                      |  starts, loads koffi
//       | <──────────── ready {hostPid} ────── |  blocks reading `in`
//       | ── config {rootfs, mounts, ...} ──>  |
//       |                                      |  overlay, /proc, /sys, /dev, mounts,
//       |                                      |  masked paths, pivot_root, hostname
//       | <──────────── mounted ────────────── |  blocks reading `in`
//       |  cgroup <- hostPid, veth into        |
//       |  /proc/hostPid/ns/net, hosts file    |
//       | ── go ──────────────────────────────>|
//       |                                      |  unshare(cgroup ns), user lookup, groups,
//       |                                      |  uid/gid, capabilities, no_new_privs,
//       |                                      |  seccomp, every fd but 0-2 close-on-exec, execve
//       | <──── EOF on `out` (exec happened) ─ |  the command is now pid 1
//       | <──── error {stage, message} ─────── |  (instead, at any stage; then it exits)
//
// A supervisor that goes away (EOF on `in`) makes a waiting init exit: nothing is left.
//
// `tsinfra exec` uses the same init in exec mode: `nsenter --target PID --pid node
// init-main.js exec` forks into the container's pid namespace; the init's main thread
// then leaves the shared fs struct (unshare(CLONE_FS)), which is what lets it setns into
// the container's mount namespace, joins the other namespaces, applies the container's
// credentials, capabilities and seccomp filter, and execs the command.
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

export const mountSpec = z.discriminatedUnion('kind', [bindMount, tmpfsMount]);
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

/** Paths runc masks (bind /dev/null or an empty read-only tmpfs over them). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

/** Paths runc makes read-only. */
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The minimal /dev: null, zero, full, random, urandom, tty (pts, shm, ptmx are mounts and links). */
export const DEFAULT_DEVICES: DeviceNode[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, mode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, mode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, mode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, mode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, mode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, mode: 0o666 },
];
