// Logical volumes as containers use them:
//   - `rootfs_size`: a thin LV per container (`tsi-rootfs-<id>` in the pool's group) with
//     an ext4 filesystem that holds the container's writable layer, so a container that
//     fills it gets ENOSPC and nobody else does (the devicemapper approach);
//   - `mount { type = "logical_volume" }` and `device { source = LV id }`: the device
//     path of a `VG/LV` id, and the filesystem on it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { checkLvId, lvchangeDeactivateArgv, lvcreateThinArgv, lvPath, lvremoveArgv, runChange, type Lvm } from './lvm.js';

/** `/dev/VG/LV` for an LV id; device paths are returned as they are. */
export function lvDevicePath(source: string, what: string): string {
  if (source.startsWith('/dev/')) return source;
  const [vg, lv] = checkLvId(source, what);
  return lvPath(vg, lv);
}

/** What the logical_volume handler records of a volume's filesystem (its mount options). */
const filesystemRecord = z.object({ fs_type: z.string(), mount_options: z.array(z.string()) });
export type FilesystemRecord = z.infer<typeof filesystemRecord>;

/** `<state>/logical-volumes/VG/LV.json` */
export function filesystemRecordPath(stateDir: string, vg: string, lv: string): string {
  return join(stateDir, 'logical-volumes', vg, `${lv}.json`);
}

export interface RootfsVolume {
  readonly device: string;
  readonly fsType: string;
}

const REMOVE_ATTEMPTS = 25;

export class ContainerVolumes {
  constructor(
    private readonly lvm: Lvm,
    private readonly stateDir: string,
  ) {}

  /** The filesystem on an LV a container mounts: as its resource recorded it, else as blkid finds it. */
  async filesystemOf(lvId: string, what: string): Promise<{ device: string; fsType: string; options: string[] }> {
    const [vg, lv] = checkLvId(lvId, what);
    const device = lvPath(vg, lv);
    const recorded = await readFile(filesystemRecordPath(this.stateDir, vg, lv), 'utf8')
      .then((t) => filesystemRecord.safeParse(JSON.parse(t)))
      .catch(() => undefined);
    if (recorded?.success) return { device, fsType: recorded.data.fs_type, options: recorded.data.mount_options };
    const out = await this.lvm.runner.tryRun(['blkid', '-p', '-o', 'value', '-s', 'TYPE', device]);
    const fsType = out.stdout.trim();
    if (out.code !== 0 || !fsType) {
      throw new AgentFailure(
        'E_LV_NO_FILESYSTEM',
        `${what}: logical volume ${lvId} has no filesystem to mount (give it a filesystem block, or use a device block for the raw device)`,
      );
    }
    return { device, fsType, options: [] };
  }

  /** Creates the container's rootfs LV in `pool` (`VG/POOL`) and its filesystem. */
  async createRootfs(containerId: string, pool: string, bytes: number): Promise<RootfsVolume> {
    const [vg, poolName] = checkLvId(pool, 'rootfs_thin_pool');
    const name = rootfsLvName(containerId);
    const what = `the rootfs volume ${vg}/${name}`;
    await this.lvm.change('E_LVM_CREATE', what, lvcreateThinArgv(vg, poolName, name, bytes));
    const device = lvPath(vg, name);
    try {
      // A new thin volume reads as zeros: nothing to discard.
      await runChange(this.lvm.runner, 'E_MKFS', what, ['mkfs.ext4', '-q', '-E', 'nodiscard', device]);
    } catch (e) {
      await this.removeRootfs(containerId, pool).catch(() => undefined);
      throw e;
    }
    return { device, fsType: 'ext4' };
  }

  /** Removes the container's rootfs LV (the container is gone, so nothing holds it). */
  async removeRootfs(containerId: string, pool: string): Promise<void> {
    const [vg] = checkLvId(pool, 'rootfs_thin_pool');
    const name = rootfsLvName(containerId);
    const what = `the rootfs volume ${vg}/${name}`;
    if (!(await this.lvm.logicalVolume(vg, name))) return;
    // The container's mount namespace goes with its last process, but the kernel drops its
    // mounts a moment later: until then the volume is still open.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.lvm.change('E_LVM_REMOVE', what, lvchangeDeactivateArgv(vg, name));
        break;
      } catch (e) {
        if (attempt >= REMOVE_ATTEMPTS || !/in use|open/i.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await this.lvm.change('E_LVM_REMOVE', what, lvremoveArgv(vg, name));
  }
}

export function rootfsLvName(containerId: string): string {
  return `tsi-rootfs-${containerId}`;
}
