// The C library calls the runtime needs and Node does not offer, through koffi.
// Every call here is synchronous and acts on the calling thread (namespaces,
// credentials, capabilities and seccomp are per thread in Linux): call them from the
// main thread of a process that will execve next, or that is single-purpose.
//
// Wrappers return nothing on success and throw SyscallError (with errno and the call
// that failed) otherwise: callers turn that into a staged error for the CLI.
import koffi from 'koffi';
import { arch } from 'node:os';

export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    readonly code: string,
  ) {
    super(`${call}: ${code} (${describeErrno(errno)})`);
    this.name = 'SyscallError';
  }
}

const ERRNO_NAMES: Record<number, [string, string]> = {
  1: ['EPERM', 'operation not permitted'],
  2: ['ENOENT', 'no such file or directory'],
  3: ['ESRCH', 'no such process'],
  4: ['EINTR', 'interrupted system call'],
  5: ['EIO', 'input/output error'],
  7: ['E2BIG', 'argument list too long'],
  8: ['ENOEXEC', 'exec format error'],
  9: ['EBADF', 'bad file descriptor'],
  11: ['EAGAIN', 'resource temporarily unavailable'],
  12: ['ENOMEM', 'cannot allocate memory'],
  13: ['EACCES', 'permission denied'],
  14: ['EFAULT', 'bad address'],
  16: ['EBUSY', 'device or resource busy'],
  17: ['EEXIST', 'file exists'],
  19: ['ENODEV', 'no such device'],
  20: ['ENOTDIR', 'not a directory'],
  21: ['EISDIR', 'is a directory'],
  22: ['EINVAL', 'invalid argument'],
  24: ['EMFILE', 'too many open files'],
  26: ['ETXTBSY', 'text file busy'],
  28: ['ENOSPC', 'no space left on device'],
  30: ['EROFS', 'read-only file system'],
  36: ['ENAMETOOLONG', 'file name too long'],
  38: ['ENOSYS', 'function not implemented'],
  40: ['ELOOP', 'too many levels of symbolic links'],
  95: ['EOPNOTSUPP', 'operation not supported'],
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno]?.[0] ?? `errno ${errno}`;
}

export function describeErrno(errno: number): string {
  return ERRNO_NAMES[errno]?.[1] ?? `errno ${errno}`;
}

// Syscall numbers for calls glibc 2.36 (Debian 12) has no wrapper for.
const SYSCALLS: Record<string, { pivot_root: number; seccomp: number; pidfd_open: number; bpf: number }> = {
  x64: { pivot_root: 155, seccomp: 317, pidfd_open: 434, bpf: 321 },
  arm64: { pivot_root: 41, seccomp: 277, pidfd_open: 434, bpf: 280 },
};

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  NOATIME: 1024,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  STRICTATIME: 1 << 24,
} as const;

export const MNT_DETACH = 2;

export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FS: 0x00000200,
} as const;

export const PR = {
  SET_PDEATHSIG: 1,
  SET_KEEPCAPS: 8,
  SET_SECCOMP: 22,
  CAPBSET_DROP: 24,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_CLEAR_ALL: 4,
  CAP_AMBIENT_RAISE: 2,
} as const;

export const SECCOMP_MODE_FILTER = 2;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

type Fn = (...args: unknown[]) => number;

interface Bindings {
  mount: Fn;
  umount2: Fn;
  chdir: Fn;
  chroot: Fn;
  sethostname: Fn;
  mknod: Fn;
  unshare: Fn;
  setns: Fn;
  setresuid: Fn;
  setresgid: Fn;
  setgroups: Fn;
  prctl: Fn;
  capset: Fn;
  execve: Fn;
  fcntl: Fn;
  syscall2s: Fn;
  syscallPtr: Fn;
  syscall2i: Fn;
  lsetxattr: Fn;
  umask: Fn;
  dup3: Fn;
  mkfifo: Fn;
  kill: Fn;
}

let cached: Bindings | undefined;

function lib(): Bindings {
  if (cached) return cached;
  const libc = koffi.load('libc.so.6');
  // Structures for capset(2): version 3 uses two data elements (64 capability bits).
  const header = koffi.struct('tsi_cap_header', { version: 'uint32_t', pid: 'int' });
  const data = koffi.struct('tsi_cap_data', { effective: 'uint32_t', permitted: 'uint32_t', inheritable: 'uint32_t' });
  cached = {
    mount: libc.func('int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: libc.func('int umount2(const char *target, int flags)'),
    chdir: libc.func('int chdir(const char *path)'),
    chroot: libc.func('int chroot(const char *path)'),
    sethostname: libc.func('int sethostname(const char *name, size_t len)'),
    mknod: libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    unshare: libc.func('int unshare(int flags)'),
    setns: libc.func('int setns(int fd, int nstype)'),
    setresuid: libc.func('int setresuid(uint32_t r, uint32_t e, uint32_t s)'),
    setresgid: libc.func('int setresgid(uint32_t r, uint32_t e, uint32_t s)'),
    setgroups: libc.func('int setgroups(size_t n, const uint32_t *groups)'),
    prctl: libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
    capset: libc.func('capset', 'int', [koffi.pointer(header), koffi.pointer(data)]),
    execve: libc.func('int execve(const char *path, const char **argv, const char **envp)'),
    fcntl: libc.func('int fcntl(int fd, int cmd, int arg)'),
    syscall2s: libc.func('long syscall(long nr, const char *a, const char *b)'),
    syscallPtr: libc.func('long syscall(long nr, unsigned long a, unsigned long b, const void *c)'),
    syscall2i: libc.func('long syscall(long nr, long a, long b)'),
    lsetxattr: libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    umask: libc.func('uint32_t umask(uint32_t mask)'),
    dup3: libc.func('int dup3(int oldfd, int newfd, int flags)'),
    mkfifo: libc.func('int mkfifo(const char *path, uint32_t mode)'),
    kill: libc.func('int kill(int pid, int sig)'),
  };
  return cached;
}

function syscalls() {
  const numbers = SYSCALLS[arch()];
  if (!numbers) throw new Error(`bug: no syscall numbers for architecture ${arch()}`);
  return numbers;
}

function check(result: number | bigint, call: string): void {
  if (Number(result) < 0) {
    const errno = koffi.errno();
    throw new SyscallError(call, errno, errnoName(errno));
  }
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(lib().mount(source, target, fstype, flags, data), `mount ${target}${fstype ? ` (${fstype})` : ''}`);
}

export function umount2(target: string, flags: number): void {
  check(lib().umount2(target, flags), `umount ${target}`);
}

export function chdir(path: string): void {
  check(lib().chdir(path), `chdir ${path}`);
}

export function chroot(path: string): void {
  check(lib().chroot(path), `chroot ${path}`);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(lib().syscall2s(syscalls().pivot_root, newRoot, putOld), `pivot_root ${newRoot}`);
}

export function sethostname(name: string): void {
  check(lib().sethostname(name, Buffer.byteLength(name)), `sethostname ${name}`);
}

/** mode includes the file type bits (S_IFCHR = 0o020000). */
export function mknod(path: string, mode: number, major: number, minor: number): void {
  // glibc's makedev for the numbers a container's /dev needs.
  const dev = (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n);
  check(lib().mknod(path, mode, dev), `mknod ${path}`);
}

export function unshare(flags: number): void {
  check(lib().unshare(flags), 'unshare');
}

export function setns(fd: number, nstype: number): void {
  check(lib().setns(fd, nstype), 'setns');
}

export function setresgid(gid: number): void {
  check(lib().setresgid(gid, gid, gid), `setresgid ${gid}`);
}

export function setresuid(uid: number): void {
  check(lib().setresuid(uid, uid, uid), `setresuid ${uid}`);
}

export function setgroups(groups: readonly number[]): void {
  check(lib().setgroups(groups.length, groups.length ? Uint32Array.from(groups) : null), 'setgroups');
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): void {
  check(lib().prctl(option, a2, a3, a4, a5), `prctl ${option}`);
}

/** Sets the calling thread's capability sets (bit masks over capability numbers 0..63). */
export function capset(effective: bigint, permitted: bigint, inheritable: bigint): void {
  const low = (v: bigint) => Number(v & 0xffffffffn);
  const high = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  const data = [
    { effective: low(effective), permitted: low(permitted), inheritable: low(inheritable) },
    { effective: high(effective), permitted: high(permitted), inheritable: high(inheritable) },
  ];
  check(lib().capset({ version: 0x20080522, pid: 0 }, data), 'capset');
}

/** Installs a seccomp filter: `program` holds struct sock_filter entries (8 bytes each). */
export function seccompFilter(program: Buffer): void {
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(program.length / 8, 0);
  const address = koffi.address(program);
  fprog.writeBigUInt64LE(BigInt(address), 8);
  // SECCOMP_SET_MODE_FILTER = 1; flags 0. `program` must stay referenced until the call returns.
  check(lib().syscallPtr(syscalls().seccomp, 1, 0, fprog), 'seccomp');
}

/** Replaces the process image; returns only by throwing. */
export function execve(path: string, argv: readonly string[], envp: readonly string[]): never {
  lib().execve(path, [...argv, null], [...envp, null]);
  const errno = koffi.errno();
  throw new SyscallError(`execve ${path}`, errno, errnoName(errno));
}

export function setCloexec(fd: number, on: boolean): void {
  const b = lib();
  const flags = b.fcntl(fd, F_GETFD, 0);
  check(flags, `fcntl ${fd}`);
  check(b.fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC), `fcntl ${fd}`);
}

/** Clears O_NONBLOCK (a flag of the open file description, shared with whoever else holds it). */
export function setBlocking(fd: number): void {
  const b = lib();
  const flags = b.fcntl(fd, F_GETFL, 0);
  check(flags, `fcntl ${fd}`);
  if (flags & O_NONBLOCK) check(b.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), `fcntl ${fd}`);
}

export function pidfdOpen(pid: number): number {
  const fd = Number(lib().syscall2i(syscalls().pidfd_open, pid, 0));
  check(fd, `pidfd_open ${pid}`);
  return fd;
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(lib().lsetxattr(path, name, value, value.length, 0), `setxattr ${name} ${path}`);
}

/** Makes `newFd` a copy of `oldFd` (without close-on-exec). */
export function dup2(oldFd: number, newFd: number): void {
  check(lib().dup3(oldFd, newFd, 0), `dup2 ${oldFd} ${newFd}`);
}

export function mkfifo(path: string, mode: number): void {
  check(lib().mkfifo(path, mode), `mkfifo ${path}`);
}

export function setUmask(mask: number): number {
  return lib().umask(mask);
}

/** kill(2) that reports ESRCH as false instead of throwing. */
export function signalProcess(pid: number, signal: number): boolean {
  if (lib().kill(pid, signal) === 0) return true;
  const errno = koffi.errno();
  if (errno === 3) return false;
  throw new SyscallError(`kill ${pid}`, errno, errnoName(errno));
}

/** The kernel's bpf(2) syscall number here (cgroup v2 device filters). */
export function bpfSyscallNumber(): number {
  return syscalls().bpf;
}
