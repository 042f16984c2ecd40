// Mounting volume filesystems in the host's mount namespace (thin-pool volumes; a
// grow's temporary mount, where resize2fs/xfs_growfs see the filesystem mounted: one
// mounted only inside a container would otherwise be resized offline, which corrupts it).
// Mounts use the mount(2) syscall; options that are mount flags (`noatime`, `ro`, ...)
// become flags, the rest is filesystem data (`discard`).
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { MNT_DETACH, MS, mount, SyscallError, umount2 } from '../runtime/libc.js';

const FLAG_OPTIONS: Readonly<Record<string, number>> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  noatime: MS.NOATIME,
  strictatime: MS.STRICTATIME,
};
/** Options that are the kernel's defaults: nothing to pass. */
const DEFAULT_OPTIONS = new Set(['rw', 'defaults', 'relatime', 'suid', 'dev', 'exec', 'atime']);

/** Flags and data for mount(2) from fstab-style options. */
export function mountArguments(options: readonly string[]): { flags: number; data: string | null } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const flag = FLAG_OPTIONS[o];
    if (flag !== undefined) flags |= flag;
    else if (!DEFAULT_OPTIONS.has(o)) data.push(o);
  }
  return { flags, data: data.length ? data.join(',') : null };
}

interface MountEntry {
  readonly mountPoint: string;
  /** `major:minor` of the mounted device. */
  readonly device: string;
}

/** The mounts of this process's namespace (the host's, for the agent and supervisor). */
export function mountTable(text = readFileSync('/proc/self/mountinfo', 'utf8')): MountEntry[] {
  // `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw` (proc(5)); spaces in paths are \040.
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      return { device: f[2]!, mountPoint: f[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) };
    });
}

function deviceNumber(path: string): string {
  const st = statSync(path);
  const rdev = BigInt(st.rdev);
  const major = (rdev >> 8n) & 0xfffn;
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n);
  return `${major}:${minor}`;
}

export function isMountPoint(dir: string): boolean {
  return mountTable().some((m) => m.mountPoint === dir);
}

/** Where `device` is mounted in this namespace, or undefined. */
export function mountPointOf(device: string): string | undefined {
  let number: string;
  try {
    number = deviceNumber(device);
  } catch {
    return undefined;
  }
  return mountTable().find((m) => m.device === number)?.mountPoint;
}

/** Mounts `device` on `dir` unless it is mounted there already; another device there is an error. */
export function ensureMounted(device: string, dir: string, fsType: string, options: readonly string[]): void {
  const mounted = mountTable().find((m) => m.mountPoint === dir);
  if (mounted) {
    if (mounted.device === deviceNumber(device)) return;
    throw new AgentFailure('E_MOUNT', `${dir} already has another filesystem mounted (device ${mounted.device}), not ${device}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { flags, data } = mountArguments(options);
  try {
    mount(device, dir, fsType, flags, data);
  } catch (e) {
    if (e instanceof SyscallError) throw new AgentFailure('E_MOUNT', `cannot mount ${device} (${fsType}) on ${dir}: ${e.message}`);
    throw e;
  }
}

/** Unmounts `dir` if something is mounted there. Busy: a lazy unmount would hide the problem, so it fails. */
export function unmountIfMounted(dir: string): void {
  if (!isMountPoint(dir)) return;
  try {
    umount2(dir, 0);
  } catch (e) {
    if (e instanceof SyscallError) throw new AgentFailure('E_MOUNT', `cannot unmount ${dir}: ${e.message}`);
    throw e;
  }
}

/** For teardown after the users are gone: detach even if a stale reference holds it. */
export function detachIfMounted(dir: string): void {
  if (isMountPoint(dir)) umount2(dir, MNT_DETACH);
}

const volumeBacking = z.object({ device: z.string(), fs_type: z.string() });
export type VolumeBacking = z.infer<typeof volumeBacking>;

/** A thin-pool volume's LV, from the marker `<path>.lv` its handler writes; undefined for a directory volume. */
export function volumeBackingOf(path: string): VolumeBacking | undefined {
  let text: string;
  try {
    text = readFileSync(`${path}.lv`, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = volumeBacking.safeParse(JSON.parse(text));
  if (!parsed.success) throw new AgentFailure('E_VOLUME', `${path}.lv does not describe a logical volume`);
  return parsed.data;
}
