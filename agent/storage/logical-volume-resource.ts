// The `logical_volume` resource: a linear volume, a thin volume (`thin_pool`), or a
// snapshot (`snapshot_of`), with an optional filesystem. Its id is `VG/NAME`, its path
// `/dev/VG/NAME`.
//
//   create: lvcreate (linear -L, thin -V --thin, thin snapshot -s -kn, linear snapshot
//           -s -L), then mkfs once (never on a snapshot: it has its origin's); a failed
//           mkfs removes the volume it was made on
//   update: growing: lvextend, then the filesystem grown online (filesystem.ts);
//           shrinking: only with allow_shrink, never while open, ext4 only and never
//           below its minimum (resize2fs -P); label changes; mount options are the
//           mounter's business
//   delete: refused while open (mounted, or used by a container) and while a linear
//           origin has snapshots; lvchange -an + lvremove
//   read:   the real size (a hand resize shows as drift), the filesystem blkid sees,
//           null when the volume is gone
//
// Beside lvm2, `<state>/logical-volumes/VG/NAME.json` records the filesystem type and
// mount options, which the supervisor mounts the volume with for a container.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { formatSize, tryParseSize } from '../runtime/sizes.js';
import { filesystemRecordPath } from './container-volumes.js';
import { mountedFrom } from './device-check.js';
import { describeResize, FILESYSTEM_TYPES, labelProblem, type Filesystems, type FilesystemType, type ProbedFilesystem } from './filesystem.js';
import type { LogicalVolumeReport } from './lvm-report.js';
import { formatBytes } from './lvm-size.js';
import {
  checkLogicalVolumeName,
  checkLvId,
  checkVolumeGroupName,
  lvchangeDeactivateArgv,
  lvcreateLinearArgv,
  lvcreateSnapshotArgv,
  lvcreateThinArgv,
  lvcreateThinSnapshotArgv,
  lvextendArgv,
  lvPath,
  lvreduceRawArgv,
  lvreduceWithFilesystemArgv,
  lvremoveArgv,
  lvremoveSnapshotArgv,
  type Lvm,
} from './lvm.js';

const filesystemSchema = z.object({
  type: z.enum(FILESYSTEM_TYPES as [FilesystemType, ...FilesystemType[]]),
  label: z.string().nullish(),
  mount_options: z.array(z.string()).nullish(),
});
const stateSchema = z.looseObject({
  volume_group: z.string().nullish(),
  thin_pool: z.string().nullish(),
  name: z.string(),
  size: z.union([z.string(), z.number()]).nullish(),
  virtual_size: z.string().nullish(),
  // A number, or the engine's "(known after apply)" for a snapshot whose origin is planned in the same run.
  size_bytes: z
    .union([z.number().int().positive(), z.string()])
    .nullish()
    .transform((v) => (typeof v === 'number' ? v : null)),
  filesystem: filesystemSchema.nullish(),
  snapshot_of: z.string().nullish(),
  allow_shrink: z.boolean().nullish(),
});
type LogicalVolumeState = z.output<typeof stateSchema>;
type FilesystemState = z.output<typeof filesystemSchema>;

const RECORD_DIR_MODE = 0o700;
const RECORD_MODE = 0o600;

/** Where a volume is, from its attributes: VG, name, and its pool or origin. */
interface Place {
  readonly vg: string;
  readonly name: string;
  readonly pool: string | undefined;
  readonly origin: string | undefined;
  readonly what: string;
  readonly device: string;
}

export class LogicalVolumeResource implements ResourceHandler {
  constructor(
    private readonly lvm: Lvm,
    private readonly filesystems: Filesystems,
    private readonly log: AgentLog,
    private readonly stateDir: string,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const s = parseState(stateSchema, state, 'state');
    const place = placeOf(s, 'state');
    const lv = await this.find(place);
    if (!lv) return null;
    return this.observed(state, s, place, lv);
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(planned!, progress);
      case 'update':
        return this.update(prior!, planned!, progress);
      case 'delete':
        await this.remove(prior!, progress);
        return null;
    }
  }

  /** Adopts `VG/NAME` as it is: sizes from lvm2, the filesystem from blkid; nothing is changed. */
  async import(id: string): Promise<ResourceState | null> {
    const [vg, name] = checkLvId(id, 'id');
    const lv = await this.lvm.logicalVolume(vg, name);
    if (!lv) return null;
    if (lv.kind === 'thin-pool') throw new AgentFailure('E_LVM_KIND', `${id} is a thin pool: import it as a thin_pool resource`);
    if (lv.kind === 'other') throw new AgentFailure('E_LVM_KIND', `${id} is a kind of logical volume tsinfra does not manage (RAID, cache, mirror, ...)`);
    // A snapshot carries its origin's filesystem, never one of its own; a thin snapshot
    // is made from its origin alone (no pool, no size written).
    const snapshot = lv.origin !== undefined;
    const thinSnapshot = lv.kind === 'thin' && snapshot;
    const probed = lv.active && !snapshot ? await this.filesystems.probe(lvPath(vg, name)) : null;
    const filesystem = probed && isManagedType(probed.type) ? { type: probed.type, label: probed.label, mount_options: [] } : null;
    return {
      volume_group: vg,
      thin_pool: lv.kind === 'thin' && !thinSnapshot && lv.pool ? `${vg}/${lv.pool}` : null,
      name,
      size: lv.kind === 'linear' || lv.kind === 'snapshot' ? formatSize(lv.sizeBytes) : null,
      virtual_size: lv.kind === 'thin' && !thinSnapshot ? formatSize(lv.sizeBytes) : null,
      size_bytes: lv.sizeBytes,
      filesystem,
      snapshot_of: lv.origin !== undefined ? `${vg}/${lv.origin}` : null,
      allow_shrink: false,
      id: `${vg}/${name}`,
      path: lvPath(vg, name),
    };
  }

  private async create(planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const place = placeOf(s, 'planned');
    const { vg, name, what } = place;
    if (s.filesystem?.label) {
      const problem = labelProblem(s.filesystem.type, s.filesystem.label);
      if (problem) throw invalidAttribute('planned.filesystem.label', `${JSON.stringify(s.filesystem.label)} ${problem}`);
    }
    const [group, lvs] = await Promise.all([this.lvm.volumeGroup(vg), this.lvm.logicalVolumes()]);
    if (!group) throw new AgentFailure('E_LVM_NOT_FOUND', `${what}: volume group ${vg} does not exist on this host`);
    if (lvs.some((l) => l.vg === vg && l.name === name)) {
      throw new AgentFailure(
        'E_LVM_EXISTS',
        `${what} already exists on this host: adopt it with tsinfra import ADDR ${vg}/${name}, or name this volume differently`,
      );
    }

    let argv: string[];
    let snapshot = false;
    if (place.origin !== undefined) {
      const origin = lvs.find((l) => l.vg === vg && l.name === place.origin);
      if (!origin) throw new AgentFailure('E_LVM_NOT_FOUND', `${what}: its origin ${vg}/${place.origin} does not exist`);
      snapshot = true;
      if (origin.kind === 'thin' && (s.size ?? null) === null) {
        argv = lvcreateThinSnapshotArgv(vg, origin.name, name);
      } else if (origin.kind === 'linear' || origin.kind === 'thin') {
        argv = lvcreateSnapshotArgv(
          vg,
          origin.name,
          name,
          requiredBytes(s, 'planned.size_bytes', 'a snapshot of a linear volume needs a size (room for changed blocks)'),
        );
      } else {
        throw new AgentFailure('E_LVM_KIND', `${what}: cannot snapshot ${vg}/${origin.name}, a ${origin.kind} logical volume`);
      }
      progress(`creating ${what}, a snapshot of ${vg}/${origin.name}`);
    } else if (place.pool !== undefined) {
      const pool = lvs.find((l) => l.vg === vg && l.name === place.pool);
      if (!pool || pool.kind !== 'thin-pool') throw new AgentFailure('E_LVM_NOT_FOUND', `${what}: thin pool ${vg}/${place.pool} does not exist`);
      const bytes = requiredBytes(s, 'planned.size_bytes', 'a thin volume needs virtual_size');
      argv = lvcreateThinArgv(vg, place.pool, name, bytes);
      progress(`creating ${what}, a thin volume of ${formatBytes(bytes)} in ${vg}/${place.pool}`);
    } else {
      const bytes = requiredBytes(s, 'planned.size_bytes', 'a linear volume needs size');
      argv = lvcreateLinearArgv(vg, name, bytes);
      progress(`creating ${what} (${formatBytes(bytes)})`);
    }
    await this.lvm.change('E_LVM_CREATE', `creating ${what}`, argv);

    if (s.filesystem) {
      if (snapshot) await this.relabel(place, s.filesystem, progress);
      else await this.makeFilesystem(place, s.filesystem, progress);
    }
    await this.record(place, s.filesystem ?? null);
    // What was just made needs no probe: the state is lvm2's numbers and the filesystem as made.
    const made = await this.find(place);
    if (!made) throw new AgentFailure('E_LVM_GONE', `${what} was created but lvm2 does not report it`);
    return this.observed(planned, s, place, made, snapshot ? undefined : (s.filesystem ?? null));
  }

  private async makeFilesystem(place: Place, fs: FilesystemState, progress: Progress): Promise<void> {
    progress(`making the ${fs.type} filesystem on ${place.device}`);
    try {
      await this.filesystems.make(place.what, fs.type, place.device, fs.label ?? null);
    } catch (e) {
      // A volume without its filesystem would be adopted half-made by the next create: undo it.
      try {
        await this.lvm.change('E_LVM_REMOVE', `removing ${place.what} after its mkfs failed`, lvchangeDeactivateArgv(place.vg, place.name));
        await this.lvm.change('E_LVM_REMOVE', `removing ${place.what} after its mkfs failed`, lvremoveArgv(place.vg, place.name));
      } catch (undo) {
        this.log.warn(`${place.what}: left behind after a failed mkfs: ${(undo as Error).message}`);
      }
      throw e;
    }
  }

  private async update(prior: ResourceState, planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const before = parseState(stateSchema, prior, 'prior');
    const place = placeOf(s, 'planned');
    const { what } = place;
    const lv = await this.find(place);
    if (!lv) throw new AgentFailure('E_LVM_GONE', `${what} no longer exists on this host: plan again to re-create it`);
    if (s.filesystem?.label) {
      const problem = labelProblem(s.filesystem.type, s.filesystem.label);
      if (problem) throw invalidAttribute('planned.filesystem.label', `${JSON.stringify(s.filesystem.label)} ${problem}`);
    }
    const target = s.size_bytes ?? lv.sizeBytes;
    if (target > lv.sizeBytes) {
      progress(`growing ${what} ${describeResize(lv.sizeBytes, target)}`);
      await this.lvm.change('E_LVM_EXTEND', `growing ${what}`, lvextendArgv(place.vg, place.name, target));
      await this.growFilesystem(place, s, progress);
    } else if (target < lv.sizeBytes) {
      await this.shrink(place, s, lv, target, progress);
    } else if ((before.size_bytes ?? target) < target) {
      // The volume grew in an earlier apply whose filesystem step failed: finish it.
      await this.growFilesystem(place, s, progress);
    }
    if (s.filesystem) await this.relabel(place, s.filesystem, progress);
    await this.record(place, s.filesystem ?? null);
    return this.readBack(planned, place);
  }

  /** Grows the filesystem on a grown volume; a copy-on-write snapshot's device keeps its origin's size. */
  private async growFilesystem(place: Place, s: LogicalVolumeState, progress: Progress): Promise<void> {
    if (!s.filesystem) return;
    const lv = await this.find(place);
    if (!lv || lv.kind === 'snapshot') return;
    if (!lv.active)
      throw new AgentFailure('E_LVM_INACTIVE', `${place.what} is not active: its filesystem cannot be grown (lvchange -ay ${place.vg}/${place.name})`);
    const fs = await this.filesystems.probe(place.device);
    if (!fs || !isManagedType(fs.type)) {
      throw new AgentFailure(
        'E_LVM_FS',
        `${place.what}: the volume grew, but it holds ${fs ? `a ${fs.type}` : 'no'} filesystem where ${s.filesystem.type} was expected; nothing was grown`,
      );
    }
    progress(`growing the ${fs.type} filesystem of ${place.what}`);
    await this.filesystems.grow(place.what, fs.type, place.device, lv.open);
  }

  private async shrink(place: Place, s: LogicalVolumeState, lv: LogicalVolumeReport, target: number, progress: Progress): Promise<void> {
    const { what } = place;
    const sizes = describeResize(lv.sizeBytes, target);
    if (s.allow_shrink !== true) {
      throw new AgentFailure(
        'E_LVM_SHRINK',
        `${what}: shrinking ${sizes} is refused: set allow_shrink = true to allow it (ext4 only, never below what its filesystem needs)`,
      );
    }
    if (lv.open) {
      const at = mountedFrom(place.device);
      throw new AgentFailure(
        'E_LVM_IN_USE',
        `${what}: shrinking ${sizes} is refused while the volume is open (${at ? `mounted at ${at}` : 'mounted in a container or used by a process'}): stop what uses it first`,
      );
    }
    if (!lv.active) throw new AgentFailure('E_LVM_INACTIVE', `${what} is not active: it cannot be shrunk (lvchange -ay ${place.vg}/${place.name})`);
    // Whatever is on the device decides, not the configuration: an unmanaged filesystem must not be cut.
    const fs = lv.kind === 'snapshot' ? null : await this.filesystems.probe(place.device);
    if (fs) {
      if (fs.type !== 'ext4')
        throw new AgentFailure('E_LVM_SHRINK', `${what}: shrinking ${sizes} is refused: a ${fs.type} filesystem cannot shrink (only ext4 can)`);
      progress(`checking the ext4 filesystem of ${what} before shrinking it`);
      await this.filesystems.check(what, place.device);
      const minimum = await this.filesystems.ext4MinimumBytes(what, place.device);
      if (target < minimum) {
        throw new AgentFailure(
          'E_LVM_SHRINK',
          `${what}: shrinking ${sizes} is refused: its ext4 filesystem needs at least ${formatBytes(minimum)} (${minimum} bytes, resize2fs -P)`,
        );
      }
      progress(`shrinking ${what} and its filesystem ${sizes}`);
      await this.lvm.change('E_LVM_REDUCE', `shrinking ${what}`, lvreduceWithFilesystemArgv(place.vg, place.name, target));
      return;
    }
    progress(`shrinking ${what} ${sizes} (allow_shrink: no filesystem on it)`);
    await this.lvm.change('E_LVM_REDUCE', `shrinking ${what}`, lvreduceRawArgv(place.vg, place.name, target));
  }

  /** Sets the label the configuration asks for, when the filesystem there has another one. */
  private async relabel(place: Place, fs: FilesystemState, progress: Progress): Promise<void> {
    const wanted = fs.label ?? null;
    const now = await this.filesystems.probe(place.device);
    if (!now || !isManagedType(now.type) || now.label === wanted) return;
    progress(`labelling the filesystem of ${place.what} ${wanted === null ? '(no label)' : JSON.stringify(wanted)}`);
    await this.filesystems.setLabel(place.what, now.type, place.device, wanted);
  }

  private async remove(prior: ResourceState, progress: Progress): Promise<void> {
    const s = parseState(stateSchema, prior, 'prior');
    const place = placeOf(s, 'prior');
    const { vg, name, what } = place;
    const lvs = await this.lvm.logicalVolumes();
    const lv = lvs.find((l) => l.vg === vg && l.name === name);
    if (!lv) return this.record(place, null);
    if (lv.kind === 'thin-pool') throw new AgentFailure('E_LVM_KIND', `${what} is a thin pool now: not deleted as a logical volume`);
    if (lv.open) {
      const at = mountedFrom(place.device);
      throw new AgentFailure(
        'E_LVM_IN_USE',
        `${what} is open (${at ? `mounted at ${at}` : 'mounted in a container or used by a process'}): it is not deleted; stop what uses it first`,
      );
    }
    const snapshots = lvs.filter((l) => l.vg === vg && l.origin === name && l.kind === 'snapshot').map((l) => l.name);
    if (snapshots.length) {
      throw new AgentFailure(
        'E_LVM_IN_USE',
        `${what} has snapshots (${snapshots.join(', ')}) that lvm2 would remove with it: it is not deleted; delete them first`,
      );
    }
    progress(`removing ${what}`);
    if (lv.kind === 'snapshot') {
      await this.lvm.change('E_LVM_REMOVE', `removing ${what}`, lvremoveSnapshotArgv(vg, name));
      return this.record(place, null);
    }
    if (lv.active) await this.lvm.change('E_LVM_REMOVE', `deactivating ${what}`, lvchangeDeactivateArgv(vg, name));
    await this.lvm.change('E_LVM_REMOVE', `removing ${what}`, lvremoveArgv(vg, name));
    await this.record(place, null);
  }

  /**
   * Writes (or, for null, removes) `<state>/logical-volumes/VG/LV.json`, the filesystem type
   * and mount options the supervisor mounts the volume with for a container.
   */
  private async record(place: Place, fs: FilesystemState | null): Promise<void> {
    const file = filesystemRecordPath(this.stateDir, place.vg, place.name);
    if (fs === null) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(dirname(file), { recursive: true, mode: RECORD_DIR_MODE });
    const temporary = `${file}.tmp-${process.pid}`;
    await writeFile(temporary, `${JSON.stringify({ fs_type: fs.type, mount_options: fs.mount_options ?? [] })}\n`, { mode: RECORD_MODE });
    await rename(temporary, file);
  }

  private async find(place: Place): Promise<LogicalVolumeReport | undefined> {
    const lv = await this.lvm.logicalVolume(place.vg, place.name);
    if (lv?.kind === 'thin-pool') throw new AgentFailure('E_LVM_KIND', `${place.what} is a thin pool, not a volume`);
    return lv;
  }

  /** The state from lvm2's report; the filesystem probed with blkid unless `made` says what it is. */
  private async observed(
    state: ResourceState,
    s: LogicalVolumeState,
    place: Place,
    lv: LogicalVolumeReport,
    made?: FilesystemState | null,
  ): Promise<ResourceState> {
    let filesystem: unknown = null;
    if (made) {
      filesystem = { type: made.type, label: made.label ?? null, mount_options: made.mount_options ?? [] };
    } else if (s.filesystem) {
      // An inactive volume has no device to probe: keep what the state says.
      const probed: ProbedFilesystem | null | 'unknown' = lv.active ? await this.filesystems.probe(place.device) : 'unknown';
      filesystem =
        probed === 'unknown'
          ? s.filesystem
          : probed === null
            ? null
            : { type: probed.type, label: probed.label, mount_options: s.filesystem.mount_options ?? [] };
    }
    return {
      ...state,
      volume_group: place.vg,
      // A snapshot keeps what it was written with; a thin volume reports its pool.
      thin_pool: place.origin !== undefined ? (s.thin_pool ?? null) : lv.kind === 'thin' && lv.pool ? `${place.vg}/${lv.pool}` : null,
      name: place.name,
      size: s.size ?? null,
      virtual_size: s.virtual_size ?? null,
      size_bytes: lv.sizeBytes,
      filesystem,
      snapshot_of: s.snapshot_of ?? null,
      allow_shrink: s.allow_shrink ?? false,
      id: `${place.vg}/${place.name}`,
      path: place.device,
    };
  }

  private async readBack(planned: ResourceState, place: Place): Promise<ResourceState> {
    const now = await this.read(planned);
    if (!now) throw new AgentFailure('E_LVM_GONE', `${place.what} was changed but lvm2 no longer reports it`);
    return now;
  }
}

function isManagedType(type: string): type is FilesystemType {
  return (FILESYSTEM_TYPES as readonly string[]).includes(type);
}

/** VG, name, pool and origin from the attributes, all checked; the pool's and origin's group must be the volume's. */
function placeOf(s: LogicalVolumeState, where: string): Place {
  const name = checkLogicalVolumeName(s.name, `${where}.name`);
  const pool = s.thin_pool ? checkLvId(s.thin_pool, `${where}.thin_pool`) : undefined;
  const origin = s.snapshot_of ? checkLvId(s.snapshot_of, `${where}.snapshot_of`) : undefined;
  const vg = s.volume_group ? checkVolumeGroupName(s.volume_group, `${where}.volume_group`) : (pool?.[0] ?? origin?.[0]);
  if (vg === undefined) throw invalidAttribute(`${where}.volume_group`, 'required unless thin_pool or snapshot_of names the group');
  if (pool && pool[0] !== vg) throw invalidAttribute(`${where}.thin_pool`, `${s.thin_pool} is not in volume group ${vg}`);
  if (origin && origin[0] !== vg)
    throw invalidAttribute(`${where}.snapshot_of`, `${s.snapshot_of} is not in volume group ${vg}: a snapshot lives in its origin's group`);
  return { vg, name, pool: pool?.[1], origin: origin?.[1], what: `logical volume ${vg}/${name}`, device: lvPath(vg, name) };
}

function requiredBytes(s: LogicalVolumeState, path: string, why: string): number {
  if (typeof s.size_bytes === 'number') return s.size_bytes;
  const written = s.virtual_size ?? s.size;
  const bytes = written !== null && written !== undefined ? tryParseSize(written) : undefined;
  if (bytes === undefined || bytes <= 0) throw invalidAttribute(path, why);
  return bytes;
}
