// The `volume_group` resource: an LVM volume group over the configured devices.
//
//   create: check every device (device-check.ts: nothing on it, or an unused PV),
//           pvcreate the ones that are no PV yet, vgcreate
//   update: devices added -> checked, pvcreate, vgextend (the group grows in place);
//           devices dropped -> only with allow_remove_pv: pvmove (when it holds extents,
//           after checking the rest of the group can take them), vgreduce, pvremove
//   delete: refused while the group holds volumes; vgremove, pvremove of its devices
//   read:   the group from vgs/pvs; configured paths (by-id allowed) are kept for the
//           PVs still in the group, compared by real path; PVs added by hand appear
//           under lvm2's name, removed ones disappear: both show as drift
import { realpath } from 'node:fs/promises';
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import { parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { checkDeviceForGroup, resolveDevice, type UsableDevice } from './device-check.js';
import type { PhysicalVolumeReport, VolumeGroupReport } from './lvm-report.js';
import { formatBytes } from './lvm-size.js';
import { checkVolumeGroupName, pvcreateArgv, pvremoveArgv, vgcreateArgv, vgextendArgv, vgreduceArgv, vgremoveArgv, type Lvm } from './lvm.js';

const stateSchema = z.looseObject({
  name: z.string(),
  physical_volumes: z.array(z.string().min(1)),
  allow_remove_pv: z.boolean().nullish(),
});
type VolumeGroupState = z.output<typeof stateSchema>;

const what = (vg: string) => `volume group ${vg}`;

export class VolumeGroupResource implements ResourceHandler {
  constructor(
    private readonly lvm: Lvm,
    private readonly log: AgentLog,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const s = parseState(stateSchema, state, 'state');
    checkVolumeGroupName(s.name, 'state.name');
    const [vgs, pvs] = await Promise.all([this.lvm.volumeGroups(), this.lvm.physicalVolumes()]);
    const vg = vgs.find((g) => g.name === s.name);
    return vg ? { ...state, ...(await observed(vg, pvs, s)) } : null;
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

  async import(id: string): Promise<ResourceState | null> {
    checkVolumeGroupName(id, 'id');
    const [vgs, pvs] = await Promise.all([this.lvm.volumeGroups(), this.lvm.physicalVolumes()]);
    const vg = vgs.find((g) => g.name === id);
    if (!vg) return null;
    return observed(vg, pvs, { name: id, physical_volumes: [], allow_remove_pv: false });
  }

  private async create(planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const name = checkVolumeGroupName(s.name, 'planned.name');
    if (s.physical_volumes.length === 0) throw new AgentFailure('E_LVM_DEVICE', `${what(name)}: physical_volumes is empty: a group needs at least one device`);
    const [vgs, pvs] = await Promise.all([this.lvm.volumeGroups(), this.lvm.physicalVolumes()]);
    if (vgs.some((g) => g.name === name)) {
      throw new AgentFailure(
        'E_LVM_EXISTS',
        `${what(name)} already exists on this host: adopt it with tsinfra import ADDR ${name}, or name this group differently`,
      );
    }
    const devices = await this.usableDevices(s.physical_volumes, name, pvs);
    await this.initialise(name, devices, progress);
    progress(`creating ${what(name)} on ${devices.map((d) => d.device).join(', ')}`);
    await this.lvm.change(
      'E_LVM_CREATE',
      `creating ${what(name)}`,
      vgcreateArgv(
        name,
        devices.map((d) => d.device),
      ),
    );
    return this.readBack(planned, name);
  }

  private async update(prior: ResourceState, planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const name = checkVolumeGroupName(s.name, 'planned.name');
    const before = parseState(stateSchema, prior, 'prior');
    if (before.name !== name) throw new AgentFailure('E_LVM_RENAME', `${what(before.name)}: a rename to ${name} replaces the group; it is not done in place`);
    const [vgs, pvs] = await Promise.all([this.lvm.volumeGroups(), this.lvm.physicalVolumes()]);
    const vg = vgs.find((g) => g.name === name);
    if (!vg) throw new AgentFailure('E_LVM_GONE', `${what(name)} no longer exists on this host: plan again to re-create it`);
    const members = await withRealPaths(pvs.filter((p) => p.vg === name));
    // Compared with the group as it is (not the prior state), by real path.
    const wanted = new Set<string>();
    const toAdd: string[] = [];
    for (const path of s.physical_volumes) {
      const device = await resolveDevice(path, what(name));
      if (!members.some((m) => m.device === device) && !wanted.has(device)) toAdd.push(path);
      wanted.add(device);
    }
    const toRemove = members.filter((m) => !wanted.has(m.device));

    if (toAdd.length) {
      const devices = await this.usableDevices(toAdd, name, pvs);
      await this.initialise(name, devices, progress);
      progress(`adding ${devices.map((d) => d.device).join(', ')} to ${what(name)}`);
      await this.lvm.change(
        'E_LVM_EXTEND',
        `adding devices to ${what(name)}`,
        vgextendArgv(
          name,
          devices.map((d) => d.device),
        ),
      );
    }
    if (toRemove.length) {
      if (s.allow_remove_pv !== true) {
        throw new AgentFailure(
          'E_LVM_PV_REMOVE',
          `${what(name)}: removing ${toRemove.map((m) => m.pv.name).join(', ')} from the group is refused: set allow_remove_pv = true (its data is moved to the other devices first)`,
        );
      }
      await this.removeDevices(name, toRemove, progress);
    }
    return this.readBack(planned, name);
  }

  /** pvmove each device's extents to the rest of the group, then take it out and clear its label. */
  private async removeDevices(name: string, leaving: readonly Member[], progress: Progress): Promise<void> {
    const now = await withRealPaths((await this.lvm.physicalVolumes()).filter((p) => p.vg === name));
    const staying = now.filter((m) => !leaving.some((l) => l.device === m.device));
    if (staying.length === 0) throw new AgentFailure('E_LVM_PV_REMOVE', `${what(name)}: cannot remove every device of the group; delete the group instead`);
    const used = (p: PhysicalVolumeReport) => p.sizeBytes - p.freeBytes;
    const moving = now.filter((m) => leaving.some((l) => l.device === m.device)).reduce((sum, m) => sum + used(m.pv), 0);
    const room = staying.reduce((sum, m) => sum + m.pv.freeBytes, 0);
    if (moving > room) {
      throw new AgentFailure(
        'E_LVM_PV_REMOVE',
        `${what(name)}: the devices to remove hold ${formatBytes(moving)} (${moving} bytes) of volumes, but the rest of the group has only ${formatBytes(room)} (${room} bytes) free to take them`,
      );
    }
    for (const m of now.filter((n) => leaving.some((l) => l.device === n.device))) {
      if (used(m.pv) > 0) {
        progress(`moving ${formatBytes(used(m.pv))} off ${m.pv.name} (pvmove)`);
        await this.lvm.pvmove(`${what(name)}: moving data off ${m.pv.name}`, m.pv.name);
      }
      progress(`removing ${m.pv.name} from ${what(name)}`);
      await this.lvm.change('E_LVM_REDUCE', `removing ${m.pv.name} from ${what(name)}`, vgreduceArgv(name, m.pv.name));
      await this.lvm.change('E_LVM_PVREMOVE', `clearing the LVM label of ${m.pv.name}`, pvremoveArgv(m.pv.name));
    }
  }

  private async remove(prior: ResourceState, progress: Progress): Promise<void> {
    const s = parseState(stateSchema, prior, 'prior');
    const name = checkVolumeGroupName(s.name, 'prior.name');
    const vg = await this.lvm.volumeGroup(name);
    if (!vg) return;
    const lvs = (await this.lvm.logicalVolumes()).filter((l) => l.vg === name);
    if (lvs.length || vg.lvCount > 0) {
      const names = lvs.map((l) => l.name);
      throw new AgentFailure(
        'E_LVM_IN_USE',
        `${what(name)} still holds logical volumes${names.length ? ` (${names.join(', ')})` : ''}: it is not deleted; delete them first`,
      );
    }
    const members = (await this.lvm.physicalVolumes()).filter((p) => p.vg === name);
    progress(`removing ${what(name)}`);
    await this.lvm.change('E_LVM_REMOVE', `removing ${what(name)}`, vgremoveArgv(name));
    for (const pv of members) {
      try {
        await this.lvm.change('E_LVM_PVREMOVE', `clearing the LVM label of ${pv.name}`, pvremoveArgv(pv.name));
      } catch (e) {
        // The group is gone: a label left on a device does not bring it back.
        this.log.warn(`${what(name)} removed, but ${pv.name} keeps its LVM label: ${(e as Error).message}`);
      }
    }
  }

  /** Checks `paths` for this group; two paths naming one device are one mistake. */
  private async usableDevices(paths: readonly string[], vg: string, pvs: readonly PhysicalVolumeReport[]): Promise<UsableDevice[]> {
    const out: UsableDevice[] = [];
    for (const path of paths) {
      const d = await checkDeviceForGroup(this.lvm.runner, path, vg, pvs, what(vg));
      const twin = out.find((o) => o.device === d.device);
      if (twin) throw new AgentFailure('E_LVM_DEVICE', `${what(vg)}: ${twin.configured} and ${path} are the same device (${d.device})`);
      out.push(d);
    }
    return out;
  }

  private async initialise(vg: string, devices: readonly UsableDevice[], progress: Progress): Promise<void> {
    for (const d of devices.filter((x) => x.pv === undefined)) {
      progress(`initialising ${d.device} as a physical volume`);
      await this.lvm.change('E_LVM_PVCREATE', `${what(vg)}: initialising ${d.configured}`, pvcreateArgv(d.device));
    }
  }

  private async readBack(planned: ResourceState, name: string): Promise<ResourceState> {
    const now = await this.read(planned);
    if (!now) throw new AgentFailure('E_LVM_GONE', `${what(name)} was changed but lvm2 no longer reports it`);
    return now;
  }
}

interface Member {
  readonly pv: PhysicalVolumeReport;
  /** Its real path: lvm2 may name it by an alias. */
  readonly device: string;
}

async function withRealPaths(pvs: readonly PhysicalVolumeReport[]): Promise<Member[]> {
  return Promise.all(pvs.map(async (pv) => ({ pv, device: await realpath(pv.name).catch(() => pv.name) })));
}

/** The group as it is, with the configured device paths kept where they still name a member. */
async function observed(vg: VolumeGroupReport, pvs: readonly PhysicalVolumeReport[], s: VolumeGroupState): Promise<ResourceState> {
  const members = await withRealPaths(pvs.filter((p) => p.vg === vg.name));
  const claimed = new Set<string>();
  const physical: string[] = [];
  for (const path of s.physical_volumes) {
    const device = await realpath(path).catch(() => undefined);
    if (device !== undefined && members.some((m) => m.device === device) && !claimed.has(device)) {
      claimed.add(device);
      physical.push(path);
    }
  }
  for (const m of members) if (!claimed.has(m.device)) physical.push(m.pv.name);
  return {
    name: vg.name,
    physical_volumes: physical,
    allow_remove_pv: s.allow_remove_pv ?? false,
    id: vg.name,
    size_bytes: vg.sizeBytes,
    free_bytes: vg.freeBytes,
    extent_bytes: vg.extentBytes,
  };
}
