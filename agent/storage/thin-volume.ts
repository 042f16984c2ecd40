// `volume` resources with a `thin_pool`: a thin LV `tsi-vol-<name>` in the pool's group,
// with ext4, mounted where a directory volume would be (`<state>/volumes/<name>`), so a
// container bind-mounts it the same way and its `size` is a hard quota.
//
//   <state>/volumes/<name>      the mount point (the filesystem's root is 0755)
//   <state>/volumes/<name>.lv   marker, JSON {"device": "/dev/VG/tsi-vol-NAME", "fs_type": "ext4"}:
//                               after a reboot (mounts gone) the supervisor mounts
//                               the volume again from it before a container starts
//
//   create: lvcreate -V, mkfs.ext4 (a failure removes the new volume), marker, mount
//   delete: unmount (busy: refused), refused while the LV is still open elsewhere,
//           lvchange -an, lvremove, marker and mount point removed
//   read:   null when the LV is gone; a size changed by hand shows as drift
import { pathExists } from '../images/store-files.js';
import { chmod, lstat, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import type { ResourceState } from '../rpc/protocol.js';
import { invalidAttribute } from '../resources/parse-state.js';
import type { Progress } from '../resources/registry.js';
import { formatSize, tryParseSize } from '../runtime/sizes.js';
import type { Filesystems } from './filesystem.js';
import { ensureMounted, isMountPoint, unmountIfMounted } from './lv-mount.js';
import type { LogicalVolumeReport } from './lvm-report.js';
import { formatBytes } from './lvm-size.js';
import { checkLogicalVolumeName, checkLvId, lvchangeDeactivateArgv, lvcreateThinArgv, lvPath, lvremoveArgv, type Lvm } from './lvm.js';

export const THIN_VOLUME_PREFIX = 'tsi-vol-';
const VOLUME_MODE = 0o755;
const MARKER_MODE = 0o600;
const FS_TYPE = 'ext4';

/** The LV that holds volume `name`. */
export function thinVolumeLvName(name: string): string {
  return checkLogicalVolumeName(`${THIN_VOLUME_PREFIX}${name}`, 'name');
}

/** `<state>/volumes/<name>.lv` for the volume mounted at `path`. */
export function thinVolumeMarkerPath(path: string): string {
  return `${path}.lv`;
}

const markerSchema = z.object({ device: z.string().startsWith('/dev/'), fs_type: z.string() });
export type ThinVolumeMarker = z.infer<typeof markerSchema>;

/** The marker beside `path`, undefined when there is none; a marker that does not parse is an error. */
export async function readThinVolumeMarker(path: string): Promise<ThinVolumeMarker | undefined> {
  const file = thinVolumeMarkerPath(path);
  let text: string;
  try {
    const st = await lstat(file);
    if (!st.isFile()) throw new AgentFailure('E_UNSAFE_PATH', `${file} is not a regular file: refusing to read it as a volume marker`);
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let parsed;
  try {
    parsed = markerSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new AgentFailure('E_VOLUME_MARKER', `${file} is not a volume marker ({"device": "/dev/...", "fs_type": "ext4"})`);
  return parsed.data;
}

export interface ThinVolumeAttributes {
  readonly name: string;
  readonly size?: string | number | null | undefined;
  readonly thin_pool: string;
}

export class ThinVolumes {
  constructor(
    private readonly lvm: Lvm,
    private readonly filesystems: Filesystems,
    private readonly log: AgentLog,
    /** Makes processes that hold stale copies of host mounts (waiting container inits) let go. */
    private readonly releaseMountCopies?: () => Promise<void>,
  ) {}

  async read(state: ResourceState, s: ThinVolumeAttributes, path: string): Promise<ResourceState | null> {
    const [vg] = checkLvId(s.thin_pool, 'state.thin_pool');
    const [lv, group] = await Promise.all([this.lvm.logicalVolume(vg, thinVolumeLvName(s.name)), this.lvm.volumeGroup(vg)]);
    if (!lv) return null;
    const extent = group?.extentBytes ?? 1;
    return { ...state, size: sizeAsWrittenOrReal(s.size, lv.sizeBytes, extent), thin_pool: lv.pool ? `${vg}/${lv.pool}` : s.thin_pool, id: s.name, path };
  }

  async create(planned: ResourceState, s: ThinVolumeAttributes, path: string, progress: Progress): Promise<ResourceState> {
    const [vg, poolName] = checkLvId(s.thin_pool, 'planned.thin_pool');
    const lvName = thinVolumeLvName(s.name);
    const bytes = s.size !== null && s.size !== undefined ? tryParseSize(s.size) : undefined;
    if (bytes === undefined || bytes <= 0) throw invalidAttribute('planned.size', 'a thin-pool volume needs a size');
    const what = `volume ${JSON.stringify(s.name)}`;
    const lvs = await this.lvm.logicalVolumes();
    const pool = lvs.find((l) => l.vg === vg && l.name === poolName);
    if (!pool || pool.kind !== 'thin-pool') throw new AgentFailure('E_LVM_NOT_FOUND', `${what}: thin pool ${vg}/${poolName} does not exist`);
    if (lvs.some((l) => l.vg === vg && l.name === lvName)) {
      throw new AgentFailure('E_VOLUME_EXISTS', `${what} already exists on this host (${vg}/${lvName}): adopt it with tsinfra import ADDR ${s.name}`);
    }
    for (const taken of [path, thinVolumeMarkerPath(path)]) {
      if (await pathExists(taken))
        throw new AgentFailure('E_VOLUME_EXISTS', `${what}: ${taken} already exists on this host (another volume?): give this volume another name`);
    }
    const device = lvPath(vg, lvName);
    progress(`creating thin volume ${vg}/${lvName} (${formatBytes(bytes)}) in ${vg}/${poolName}`);
    await this.lvm.change('E_LVM_CREATE', `${what}: creating thin volume ${vg}/${lvName}`, lvcreateThinArgv(vg, poolName, lvName, bytes));
    try {
      progress(`making the ext4 filesystem on ${device}`);
      await this.filesystems.make(what, FS_TYPE, device, null);
    } catch (e) {
      await this.removeLv(vg, lvName, what).catch((undo: Error) => this.log.warn(`${what}: ${vg}/${lvName} left behind after a failed mkfs: ${undo.message}`));
      throw e;
    }
    await writeMarker(path, { device, fs_type: FS_TYPE });
    progress(`mounting ${device} on ${path}`);
    ensureMounted(device, path, FS_TYPE, []);
    // The filesystem's root, now that it is mounted: as a directory volume's.
    await chmod(path, VOLUME_MODE);
    return { ...planned, id: s.name, path };
  }

  async remove(s: ThinVolumeAttributes, path: string, progress: Progress): Promise<void> {
    const [vg] = checkLvId(s.thin_pool, 'prior.thin_pool');
    const lvName = thinVolumeLvName(s.name);
    const what = `volume ${JSON.stringify(s.name)}`;
    const device = lvPath(vg, lvName);
    const wasMounted = isMountPoint(path);
    if (wasMounted) {
      progress(`unmounting ${path}`);
      unmountIfMounted(path);
    }
    let lv = await this.lvm.logicalVolume(vg, lvName);
    if (lv?.open && this.releaseMountCopies) {
      // Waiting container inits keep copies of the host's mounts from when they started.
      await this.releaseMountCopies();
      lv = await this.lvm.logicalVolume(vg, lvName);
    }
    if (lv?.open) {
      // Mounted elsewhere too (a container's namespace keeps the filesystem alive): put the host's mount back as it was.
      if (wasMounted) ensureMounted(device, path, FS_TYPE, []);
      throw new AgentFailure(
        'E_LVM_IN_USE',
        `${what}: its thin volume ${vg}/${lvName} is still open (mounted in a container or used by a process): it is not deleted; stop what uses it first`,
      );
    }
    if (lv) {
      progress(`removing thin volume ${vg}/${lvName}`);
      await this.removeLv(vg, lvName, what, lv);
    }
    await rm(thinVolumeMarkerPath(path), { force: true });
    await rmdir(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw new AgentFailure('E_VOLUME_DIR', `${what}: the volume is removed, but its mount point ${path} could not be: ${e.message}`);
    });
  }

  /** Adopts volume `name` from its marker; undefined when it has none (a directory volume, or nothing). */
  async import(name: string, path: string): Promise<ResourceState | null | undefined> {
    const marker = await readThinVolumeMarker(path);
    if (!marker) return undefined;
    const lvName = thinVolumeLvName(name);
    const m = /^\/dev\/([^/]+)\/([^/]+)$/.exec(marker.device);
    if (!m || m[2] !== lvName) throw new AgentFailure('E_VOLUME_MARKER', `${thinVolumeMarkerPath(path)} names ${marker.device}, not a /dev/VG/${lvName}`);
    const lv = await this.lvm.logicalVolume(m[1]!, lvName);
    if (!lv) return null;
    return { name, size: formatSize(lv.sizeBytes), thin_pool: lv.pool ? `${lv.vg}/${lv.pool}` : null, id: name, path };
  }

  private async removeLv(vg: string, lvName: string, what: string, lv?: LogicalVolumeReport): Promise<void> {
    if (lv?.active ?? true) await this.lvm.change('E_LVM_REMOVE', `${what}: deactivating ${vg}/${lvName}`, lvchangeDeactivateArgv(vg, lvName));
    await this.lvm.change('E_LVM_REMOVE', `${what}: removing ${vg}/${lvName}`, lvremoveArgv(vg, lvName));
  }
}

/** Written whole or not at all: the supervisor may read it at any time. */
async function writeMarker(path: string, marker: ThinVolumeMarker): Promise<void> {
  const file = thinVolumeMarkerPath(path);
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, `${JSON.stringify(marker)}\n`, { mode: MARKER_MODE });
  await rename(temporary, file);
}

/** The size as written while the volume has it (lvm2 rounds up to whole extents), else the real one, as drift. */
function sizeAsWrittenOrReal(written: string | number | null | undefined, real: number, extent: number): string | number {
  const asked = written !== null && written !== undefined ? tryParseSize(written) : undefined;
  if (asked !== undefined && Math.ceil(asked / extent) * extent === real) return written!;
  return formatSize(real);
}
