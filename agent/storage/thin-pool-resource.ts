// The `thin_pool` resource: an LVM thin pool `VG/NAME` that thin volumes take their blocks
// from. Its id is `VG/NAME`.
//
//   create: lvcreate --type thin-pool -L <bytes>b [--chunksize] [--poolmetadatasize]
//           (lvm2 also keeps a spare metadata volume of the same size in the group)
//   update: growing: lvextend -L <bytes>b (the data part; in place, online);
//           shrinking: refused (lvm2 cannot shrink a pool)
//   delete: refused while thin volumes live in it; lvchange -an, lvremove
//   read:   the real size (a hand lvextend shows as drift), data and metadata use in
//           percent ("observed": they change with every write)
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { formatSize, tryParseSize } from '../runtime/sizes.js';
import { describeResize } from './filesystem.js';
import { DEFAULT_OVERCOMMIT_RATIO } from './lvm-capacity.js';
import { formatBytes } from './lvm-size.js';
import type { LogicalVolumeReport } from './lvm-report.js';
import {
  checkLogicalVolumeName,
  checkLvId,
  checkVolumeGroupName,
  lvchangeDeactivateArgv,
  lvcreateThinPoolArgv,
  lvextendArgv,
  lvremoveArgv,
  type Lvm,
} from './lvm.js';

const size = z.union([z.string(), z.number()]);
const stateSchema = z.looseObject({
  volume_group: z.string(),
  name: z.string(),
  size: size.nullish(),
  size_bytes: z.number().int().positive().nullish(),
  chunk_size: size.nullish(),
  metadata_size: size.nullish(),
  overcommit_ratio: z.number().positive().nullish(),
});
type ThinPoolState = z.output<typeof stateSchema>;

const what = (vg: string, name: string) => `thin pool ${vg}/${name}`;

export class ThinPoolResource implements ResourceHandler {
  constructor(private readonly lvm: Lvm) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const s = parseState(stateSchema, state, 'state');
    const [vg, name] = names(s, 'state');
    const [pool, group] = await Promise.all([this.find(vg, name), this.lvm.volumeGroup(vg)]);
    if (!pool) return null;
    const extent = group?.extentBytes ?? 1;
    return {
      ...state,
      size_bytes: pool.sizeBytes,
      chunk_size: keptOrReal(s.chunk_size, pool.chunkBytes, 1),
      metadata_size: keptOrReal(s.metadata_size, pool.metadataBytes, extent),
      overcommit_ratio: s.overcommit_ratio ?? DEFAULT_OVERCOMMIT_RATIO,
      ...observed(pool),
    };
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(planned!, progress);
      case 'update':
        return this.update(planned!, progress);
      case 'delete':
        await this.remove(prior!, progress);
        return null;
    }
  }

  async import(id: string): Promise<ResourceState | null> {
    const [vg, name] = checkLvId(id, 'id');
    const pool = await this.find(vg, name);
    if (!pool) return null;
    return {
      volume_group: vg,
      name,
      size: formatSize(pool.sizeBytes),
      size_bytes: pool.sizeBytes,
      chunk_size: pool.chunkBytes !== undefined ? formatSize(pool.chunkBytes) : null,
      metadata_size: pool.metadataBytes !== undefined ? formatSize(pool.metadataBytes) : null,
      overcommit_ratio: DEFAULT_OVERCOMMIT_RATIO,
      ...observed(pool),
    };
  }

  private async create(planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const [vg, name] = names(s, 'planned');
    const chunk = optionalBytes(s.chunk_size, 'planned.chunk_size');
    const metadata = optionalBytes(s.metadata_size, 'planned.metadata_size');
    const bytes = sizeBytes(s, 'planned');
    const [group, lvs] = await Promise.all([this.lvm.volumeGroup(vg), this.lvm.logicalVolumes()]);
    if (!group) throw new AgentFailure('E_LVM_NOT_FOUND', `${what(vg, name)}: volume group ${vg} does not exist on this host`);
    const taken = lvs.find((l) => l.vg === vg && l.name === name);
    if (taken) {
      throw new AgentFailure(
        'E_LVM_EXISTS',
        taken.kind === 'thin-pool'
          ? `${what(vg, name)} already exists on this host: adopt it with tsinfra import ADDR ${vg}/${name}`
          : `${what(vg, name)}: the name is taken by a ${taken.kind} logical volume`,
      );
    }
    progress(`creating ${what(vg, name)} (${formatBytes(bytes)})`);
    await this.lvm.change('E_LVM_CREATE', `creating ${what(vg, name)}`, lvcreateThinPoolArgv(vg, name, bytes, chunk, metadata));
    return this.readBack(planned, vg, name);
  }

  private async update(planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const [vg, name] = names(s, 'planned');
    const pool = await this.find(vg, name);
    if (!pool) throw new AgentFailure('E_LVM_GONE', `${what(vg, name)} no longer exists on this host: plan again to re-create it`);
    const target = sizeBytes(s, 'planned');
    if (target < pool.sizeBytes) {
      throw new AgentFailure(
        'E_LVM_SHRINK',
        `${what(vg, name)}: shrinking ${describeResize(pool.sizeBytes, target)} is refused: lvm2 cannot shrink a thin pool`,
      );
    }
    if (target > pool.sizeBytes) {
      progress(`growing ${what(vg, name)} ${describeResize(pool.sizeBytes, target)}`);
      await this.lvm.change('E_LVM_EXTEND', `growing ${what(vg, name)}`, lvextendArgv(vg, name, target));
    }
    return this.readBack(planned, vg, name);
  }

  private async remove(prior: ResourceState, progress: Progress): Promise<void> {
    const s = parseState(stateSchema, prior, 'prior');
    const [vg, name] = names(s, 'prior');
    const lvs = await this.lvm.logicalVolumes();
    const pool = lvs.find((l) => l.vg === vg && l.name === name);
    if (!pool) return;
    if (pool.kind !== 'thin-pool')
      throw new AgentFailure('E_LVM_KIND', `${what(vg, name)}: ${vg}/${name} is a ${pool.kind} logical volume now, not a thin pool: not deleted`);
    const users = lvs.filter((l) => l.vg === vg && l.pool === name).map((l) => l.name);
    if (users.length) {
      throw new AgentFailure('E_LVM_IN_USE', `${what(vg, name)} still holds thin volumes (${users.join(', ')}): it is not deleted; delete them first`);
    }
    progress(`removing ${what(vg, name)}`);
    if (pool.active) await this.lvm.change('E_LVM_REMOVE', `deactivating ${what(vg, name)}`, lvchangeDeactivateArgv(vg, name));
    await this.lvm.change('E_LVM_REMOVE', `removing ${what(vg, name)}`, lvremoveArgv(vg, name));
  }

  /** The pool, undefined when there is no such volume; a volume of another kind by that name is an error. */
  private async find(vg: string, name: string): Promise<LogicalVolumeReport | undefined> {
    const lv = await this.lvm.logicalVolume(vg, name);
    if (lv && lv.kind !== 'thin-pool') throw new AgentFailure('E_LVM_KIND', `${what(vg, name)}: ${vg}/${name} is a ${lv.kind} logical volume, not a thin pool`);
    return lv;
  }

  private async readBack(planned: ResourceState, vg: string, name: string): Promise<ResourceState> {
    const now = await this.read(planned);
    if (!now) throw new AgentFailure('E_LVM_GONE', `${what(vg, name)} was changed but lvm2 no longer reports it`);
    return now;
  }
}

/** The pool's size in bytes: resolved at plan time, else `size` when it is plain bytes. */
function sizeBytes(s: ThinPoolState, where: string): number {
  if (typeof s.size_bytes === 'number') return s.size_bytes;
  const bytes = s.size !== null && s.size !== undefined ? tryParseSize(s.size) : undefined;
  if (bytes === undefined || bytes <= 0) throw invalidAttribute(`${where}.size_bytes`, 'required (the pool size in bytes)');
  return bytes;
}

function names(s: ThinPoolState, where: string): [string, string] {
  return [checkVolumeGroupName(s.volume_group, `${where}.volume_group`), checkLogicalVolumeName(s.name, `${where}.name`)];
}

function observed(pool: LogicalVolumeReport): ResourceState {
  return {
    id: `${pool.vg}/${pool.name}`,
    data_percent: pool.dataPercent ?? null,
    metadata_percent: pool.metadataPercent ?? null,
  };
}

function optionalBytes(value: string | number | null | undefined, path: string): number | null {
  if (value === null || value === undefined) return null;
  const bytes = tryParseSize(value);
  if (bytes === undefined || bytes <= 0) throw invalidAttribute(path, `${JSON.stringify(value)} is not a size`);
  return bytes;
}

/**
 * A chunk or metadata size as configured when lvm2 made what was asked (metadata is
 * rounded up to whole extents), else the real one, so a different size shows; null
 * (lvm2's default) stays null.
 */
function keptOrReal(configured: string | number | null | undefined, real: number | undefined, roundTo: number): string | number | null {
  if (configured === null || configured === undefined) return null;
  if (real === undefined) return configured;
  const asked = tryParseSize(configured);
  if (asked !== undefined && (asked === real || Math.ceil(asked / roundTo) * roundTo === real)) return configured;
  return formatSize(real);
}
