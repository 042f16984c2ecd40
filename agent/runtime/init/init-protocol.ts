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
export type { DeviceNode, ExecConfig, FromInit, InitConfig, InitStage, MountSpec, ProcessSpec, ToInit } from './init-messages.js';
import type { DeviceNode } from './init-messages.js';

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
