// `storage.inventory`: the host's LVM groups and volumes and its block devices, for the
// plan (size resolution, capacity, devices that must not be used). Reads only: lvm2's
// JSON reports, lsblk's JSON and the /dev/disk symlinks.
import { readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { StorageInventory } from '../rpc/protocol.js';
import { findProgram, type CommandRunner } from '../system/command.js';
import { lvmReportArgv, parseLogicalVolumes, parsePhysicalVolumes, parseVolumeGroups } from './lvm-report.js';

/** vgs can wait on a held LVM lock; a plan must not hang on it. */
const REPORT_TIMEOUT_MS = 20_000;

export async function storageInventory(runner: CommandRunner): Promise<StorageInventory> {
  const lvm = findProgram('lvm');
  const [reports, devices, links] = await Promise.all([lvm ? lvmReports(runner, lvm) : undefined, blockDevices(runner), linkNames(runner)]);
  const pvOwner = new Map((reports?.pvs ?? []).filter((p) => p.vg).map((p) => [p.name, p.vg]));
  return {
    lvm: {
      present: lvm !== undefined,
      thin: findProgram('thin_check') !== undefined,
      ...(reports?.error ? { error: reports.error } : {}),
    },
    volume_groups: (reports?.vgs ?? []).map((vg) => ({
      name: vg.name,
      size_bytes: vg.sizeBytes,
      free_bytes: vg.freeBytes,
      extent_bytes: vg.extentBytes,
      physical_volumes: (reports?.pvs ?? []).filter((p) => p.vg === vg.name).map((p) => p.name),
    })),
    logical_volumes: (reports?.lvs ?? []).map((lv) => ({
      vg: lv.vg,
      name: lv.name,
      kind: lv.kind,
      size_bytes: lv.sizeBytes,
      pool: lv.pool ?? null,
      origin: lv.origin ?? null,
      data_percent: lv.dataPercent ?? null,
      open: lv.open,
    })),
    block_devices: devices.map((d) => ({ ...d, vg: pvOwner.get(d.path) ?? (d.fs_type === 'LVM2_member' ? '' : null) })),
    ...(links ? { links } : {}),
  };
}

/** The names of this network namespace's interfaces; undefined when `ip` cannot say. */
async function linkNames(runner: CommandRunner): Promise<string[] | undefined> {
  const out = await runner.tryRun(['ip', '-j', 'link', 'show'], { timeoutMs: REPORT_TIMEOUT_MS });
  if (out.code !== 0) return undefined;
  const parsed = z.array(z.looseObject({ ifname: z.string() })).safeParse(JSON.parse(out.stdout || '[]'));
  return parsed.success ? parsed.data.map((l) => l.ifname) : undefined;
}

async function lvmReports(runner: CommandRunner, lvm: string) {
  try {
    const run = async (kind: 'vg' | 'lv' | 'pv') => {
      const out = await runner.tryRun([lvm, ...lvmReportArgv(kind)], { timeoutMs: REPORT_TIMEOUT_MS });
      if (out.code !== 0) throw new Error(`${kind}s failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() || 'no error output'}`);
      return out.stdout;
    };
    // `lvs -a` would list hidden volumes (pool data/metadata); the visible ones are what users name.
    const [vgs, lvs, pvs] = await Promise.all([run('vg'), run('lv'), run('pv')]);
    return { vgs: parseVolumeGroups(vgs), lvs: parseLogicalVolumes(lvs), pvs: parsePhysicalVolumes(pvs) };
  } catch (e) {
    return { vgs: [], lvs: [], pvs: [], error: (e as Error).message };
  }
}

const lsblkDevice = z.object({
  path: z.string(),
  size: z.union([z.number(), z.string()]).transform(Number),
  type: z.string(),
  fstype: z.string().nullable(),
});
const lsblkOutput = z.object({ blockdevices: z.array(lsblkDevice) });

type Device = Omit<StorageInventory['block_devices'][number], 'vg'>;

/** Disks and partitions from `lsblk -J -b -l`, with their /dev/disk aliases. */
async function blockDevices(runner: CommandRunner): Promise<Device[]> {
  const lsblk = findProgram('lsblk');
  if (!lsblk) return [];
  const out = await runner.tryRun([lsblk, '-J', '-b', '-l', '-o', 'PATH,SIZE,TYPE,FSTYPE'], { timeoutMs: REPORT_TIMEOUT_MS });
  if (out.code !== 0) return [];
  let parsed;
  try {
    parsed = lsblkOutput.safeParse(JSON.parse(out.stdout));
  } catch {
    return [];
  }
  if (!parsed.success) return [];
  const aliases = await diskAliases();
  const devices = parsed.data.blockdevices.filter((d) => d.type === 'disk' || d.type === 'part' || d.type === 'loop');
  return Promise.all(
    devices.map(async (d) => ({
      path: d.path,
      size_bytes: d.size,
      // lsblk reads signatures from udev's database; where no udev runs, blkid probes the device.
      fs_type: d.fstype || (await probeSignature(runner, d.path)),
      aliases: aliases.get(d.path) ?? [],
    })),
  );
}

/** The filesystem (or partition table: `gpt`, `dos`) on a device, probed directly; null when blank. */
async function probeSignature(runner: CommandRunner, device: string): Promise<string | null> {
  const blkid = findProgram('blkid');
  if (!blkid) return null;
  const out = await runner.tryRun([blkid, '-p', '-o', 'export', device], { timeoutMs: REPORT_TIMEOUT_MS });
  // Exit 2: nothing found.
  if (out.code !== 0) return null;
  const field = (name: string) => new RegExp(`^${name}=(.+)$`, 'm').exec(out.stdout)?.[1] ?? null;
  return field('TYPE') ?? field('PTTYPE');
}

/** `/dev/vdb` -> [`/dev/disk/by-id/virtio-lvmdata`, ...] */
async function diskAliases(): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const dir of ['/dev/disk/by-id', '/dev/disk/by-path']) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const link = join(dir, name);
      const target = await realpath(link).catch(() => undefined);
      if (target) out.set(target, [...(out.get(target) ?? []), link]);
    }
  }
  return out;
}
