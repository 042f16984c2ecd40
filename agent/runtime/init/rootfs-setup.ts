// The init's filesystem work, in the container's mount namespace, on the main thread:
//
//   1. overlay of the image layers + the writable layer on rootfs.target; block devices
//      (logical volumes) mounted beside it, to be moved onto their targets in step 4
//   2. pivot_root into it, the old root kept at a random name until step 5, so that
//      mount targets are resolved inside the container (an image's symlink cannot point
//      a mount at the host) while bind sources are still reachable through the old root
//   3. /proc, /sys (read-only), a minimal /dev (nodes, pts, shm, mqueue)
//   4. the configured mounts, then masked and read-only paths (as runc does)
//   5. detach the old root; remount / read-only when asked
//
// Mount targets are created when missing; every path comes from the supervisor, which
// has validated them (absolute, no "..").
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, rmdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chdir, mknod, mount, MNT_DETACH, MS, pivotRoot, umount2 } from '../libc.js';
import type { DeviceNode, InitConfig, MountSpec } from './init-protocol.js';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export type StageRunner = (stage: 'rootfs' | 'pivot' | 'mounts' | 'devices', work: () => void) => void;

export function setUpRootfs(config: InitConfig, stage: StageRunner): void {
  const { rootfs } = config;
  stage('rootfs', () => {
    mount(null, '/', null, MS.REC | MS.PRIVATE, null);
    if (rootfs.layer) {
      // Private to this namespace: the layer is gone with the container.
      ensureDir(rootfs.layer.dir);
      mount(rootfs.layer.device, rootfs.layer.dir, rootfs.layer.fsType, MS.NOSUID | MS.NODEV, null);
      for (const d of [rootfs.upper, rootfs.work]) {
        ensureDir(d);
        chmodSync(d, 0o755);
      }
    }
    // overlayfs lists lower directories top first.
    const lower = [...rootfs.lower].reverse().join(':');
    mount('overlay', rootfs.target, 'overlay', 0, `lowerdir=${lower},upperdir=${rootfs.upper},workdir=${rootfs.work}`);
    // Block devices are mounted while the host's /dev is the root's, so that the container's
    // mount table names them as the host does (/dev/dm-3); moved onto their targets later.
    config.mounts.forEach((m, i) => {
      if (m.kind !== 'device') return;
      const dir = deviceMountDir(rootfs.target, i);
      ensureDir(dir);
      mount(m.source, dir, m.fsType, m.flags | MS.NOSUID | MS.NODEV | (m.readOnly ? MS.RDONLY : 0), m.data);
    });
  });

  const oldRoot = `/.tsinfra-old-root-${randomBytes(6).toString('hex')}`;
  stage('pivot', () => {
    mkdirSync(rootfs.target + oldRoot, { mode: 0o700 });
    chdir(rootfs.target);
    pivotRoot('.', '.' + oldRoot);
    chdir('/');
  });

  stage('mounts', () => {
    ensureDir('/proc');
    mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
    ensureDir('/sys');
    mount('sysfs', '/sys', 'sysfs', MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RDONLY, null);
    ensureDir('/dev');
    mount('tmpfs', '/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k');
  });

  stage('devices', () => {
    for (const d of config.devices) makeDevice(d);
    mkdirSync('/dev/pts', { mode: 0o755 });
    mount('devpts', '/dev/pts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
    symlinkSync('pts/ptmx', '/dev/ptmx');
    mkdirSync('/dev/shm', { mode: 0o1777 });
    mount('shm', '/dev/shm', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=1777,size=65536k');
    mkdirSync('/dev/mqueue', { mode: 0o755 });
    mount('mqueue', '/dev/mqueue', 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
    symlinkSync('/proc/self/fd', '/dev/fd');
    symlinkSync('/proc/self/fd/0', '/dev/stdin');
    symlinkSync('/proc/self/fd/1', '/dev/stdout');
    symlinkSync('/proc/self/fd/2', '/dev/stderr');
  });

  stage('mounts', () => {
    config.mounts.forEach((m, i) => addMount(m, oldRoot, deviceMountDir(rootfs.target, i)));
    for (const p of config.maskedPaths) maskPath(p);
    for (const p of config.readonlyPaths) readOnlyPath(p);
    umount2(oldRoot, MNT_DETACH);
    rmdirSync(oldRoot);
    if (rootfs.readOnly) mount(null, '/', null, MS.REMOUNT | MS.BIND | MS.RDONLY, null);
  });
}

function ensureDir(path: string): void {
  if (!existsSync(path)) mkdirSync(path, { recursive: true, mode: 0o755 });
}

function ensureFile(path: string): void {
  if (existsSync(path)) return;
  ensureDir(dirname(path));
  writeFileSync(path, '', { mode: 0o644 });
}

function makeDevice(d: DeviceNode): void {
  ensureDir(dirname(d.path));
  mknod(d.path, (d.type === 'c' ? S_IFCHR : S_IFBLK) | d.mode, d.major, d.minor);
}

/** Where the init mounts the `index`th mount's device before moving it into the container (beside the rootfs mount point). */
function deviceMountDir(rootfsTarget: string, index: number): string {
  return `${dirname(rootfsTarget)}/device-mounts/${index}`;
}

function addMount(m: MountSpec, oldRoot: string, deviceDir: string): void {
  if (m.kind === 'tmpfs') {
    ensureDir(m.target);
    const options = [`mode=${(m.mode ?? 0o1777).toString(8)}`, ...(m.sizeBytes > 0 ? [`size=${m.sizeBytes}`] : [])].join(',');
    mount('tmpfs', m.target, 'tmpfs', MS.NOSUID | MS.NODEV, options);
    return;
  }
  if (m.kind === 'device') {
    ensureDir(m.target);
    mount(oldRoot + deviceDir, m.target, null, MS.MOVE, null);
    return;
  }
  const source = oldRoot + m.source;
  const isFile = m.file ?? !statSync(source).isDirectory();
  if (isFile) ensureFile(m.target);
  else ensureDir(m.target);
  mount(source, m.target, null, MS.BIND | MS.REC, null);
  if (m.readOnly) mount(null, m.target, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV, null);
}

function maskPath(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isDirectory()) mount('tmpfs', path, 'tmpfs', MS.RDONLY, 'size=0');
  else mount('/dev/null', path, null, MS.BIND, null);
}

function readOnlyPath(path: string): void {
  if (!existsSync(path)) return;
  mount(path, path, null, MS.BIND | MS.REC, null);
  mount(null, path, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
}
