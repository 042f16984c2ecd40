// lvm2 as the storage handlers use it: reports read through lvm2's JSON output, and every
// change an argv run with `mutates: true` so that the agent log records it. A failed
// command becomes an AgentFailure with an E_LVM_* code, naming the object and carrying
// lvm2's own last lines of stderr.
//
// lvm2 asks yes/no on its terminal before some changes and reads the answer from stdin;
// the runner closes stdin, which lvm2 takes as "n", so a forgotten prompt fails safely.
// The handlers avoid the prompts rather than answer them: they deactivate a volume
// before lvremove (an active one prompts) and refuse what would prompt for more (a
// pool with thin volumes, an origin with snapshots, a group that still holds volumes).
// `--yes` is passed only to lvcreate (for the new volume's own first sectors, with
// `-Wy`) and where a resource attribute allows a loss (see lvreduceRawArgv).
import { isAgentFailure, AgentFailure } from '../rpc/failure.js';
import type { CommandRunner } from '../system/command.js';
import { logicalVolumeNameProblem, volumeGroupNameProblem } from './lvm-names.js';
import {
  lvmReportArgv,
  parseLogicalVolumes,
  parsePhysicalVolumes,
  parseVolumeGroups,
  type LogicalVolumeReport,
  type PhysicalVolumeReport,
  type VolumeGroupReport,
} from './lvm-report.js';

/** Reports wait on a held lock; a refresh must not hang on it. */
const REPORT_TIMEOUT_MS = 60_000;
const CHANGE_TIMEOUT_MS = 5 * 60_000;
/** pvmove copies every extent in use: hours on a big disk. */
const PVMOVE_TIMEOUT_MS = 24 * 3600_000;

// ---- argv, pure: what the unit tests check ------------------------------------------

/** `123b`: lvm2 takes a size in bytes with a `b` suffix. */
function b(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`bug: LVM size ${bytes}`);
  return `${bytes}b`;
}

/** `64k`: sizes lvm2 takes in KiB (chunk size, pool metadata size); rounded up. */
function k(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`bug: LVM size ${bytes}`);
  return `${Math.ceil(bytes / 1024)}k`;
}

export const pvcreateArgv = (device: string): string[] => ['pvcreate', device];
export const vgcreateArgv = (vg: string, devices: readonly string[]): string[] => ['vgcreate', vg, ...devices];
export const vgextendArgv = (vg: string, devices: readonly string[]): string[] => ['vgextend', vg, ...devices];
/** `-i 2`: pvmove reports (and notices it is done) every 2 s, not lvm2's default 15. */
export const pvmoveArgv = (device: string): string[] => ['pvmove', '-i', '2', device];
export const vgreduceArgv = (vg: string, device: string): string[] => ['vgreduce', vg, device];
export const pvremoveArgv = (device: string): string[] => ['pvremove', device];
export const vgremoveArgv = (vg: string): string[] => ['vgremove', vg];

/** A linear volume: `-Wy -Zy --yes` wipe a stale signature at the new volume's start without asking. */
export function lvcreateLinearArgv(vg: string, name: string, bytes: number): string[] {
  return ['lvcreate', '-L', b(bytes), '-n', name, '-Wy', '-Zy', '--yes', vg];
}

/** A thin pool (lvm2 refuses -W for pools; -Z stays lvm2's default, zeroing on). */
export function lvcreateThinPoolArgv(vg: string, name: string, bytes: number, chunkBytes: number | null, metadataBytes: number | null): string[] {
  return [
    'lvcreate',
    '--type',
    'thin-pool',
    '-L',
    b(bytes),
    '-n',
    name,
    ...(chunkBytes !== null ? ['--chunksize', k(chunkBytes)] : []),
    ...(metadataBytes !== null ? ['--poolmetadatasize', k(metadataBytes)] : []),
    '--yes',
    vg,
  ];
}

/** A thin volume in `vg/pool` (lvm2 refuses -Z for thin volumes). */
export function lvcreateThinArgv(vg: string, pool: string, name: string, virtualBytes: number): string[] {
  return ['lvcreate', '-V', b(virtualBytes), '--thin', '-n', name, '-Wy', '--yes', `${vg}/${pool}`];
}

/** A thin snapshot: no size, shares the pool; `-kn` so that it activates like any volume. */
export function lvcreateThinSnapshotArgv(vg: string, origin: string, name: string): string[] {
  return ['lvcreate', '-s', '-kn', '-n', name, `${vg}/${origin}`];
}

/** A copy-on-write snapshot of a linear volume, `bytes` of room for changed blocks. */
export function lvcreateSnapshotArgv(vg: string, origin: string, name: string, bytes: number): string[] {
  return ['lvcreate', '-s', '-L', b(bytes), '-n', name, `${vg}/${origin}`];
}

/** Grows a volume (or a pool's data) to `bytes`; filesystems are grown separately. */
export function lvextendArgv(vg: string, name: string, bytes: number): string[] {
  return ['lvextend', '-L', b(bytes), `${vg}/${name}`];
}

/** Shrinks an ext4 volume: fsadm shrinks the (checked, unmounted) filesystem first, so lvm2 does not ask. */
export function lvreduceWithFilesystemArgv(vg: string, name: string, bytes: number): string[] {
  return ['lvreduce', '--resizefs', '-L', b(bytes), `${vg}/${name}`];
}

/**
 * Shrinks a volume with no filesystem: lvm2 asks "THIS MAY DESTROY YOUR DATA"; the
 * answer is the resource's `allow_shrink = true`, so this is the one `--yes` that
 * consents to a loss.
 */
export function lvreduceRawArgv(vg: string, name: string, bytes: number): string[] {
  return ['lvreduce', '-L', b(bytes), '--yes', `${vg}/${name}`];
}

export const lvchangeDeactivateArgv = (vg: string, name: string): string[] => ['lvchange', '-an', `${vg}/${name}`];
export const lvchangeActivateArgv = (vg: string, name: string): string[] => ['lvchange', '-ay', `${vg}/${name}`];
export const lvremoveArgv = (vg: string, name: string): string[] => ['lvremove', `${vg}/${name}`];

/**
 * A copy-on-write snapshot cannot be deactivated without its origin (lvm2 asks), and
 * lvremove asks before removing an active volume: the caller has checked the snapshot is
 * not open and the plan said to delete it, so `--yes` answers only that question.
 */
export const lvremoveSnapshotArgv = (vg: string, name: string): string[] => ['lvremove', '--yes', `${vg}/${name}`];

// ---- the command layer --------------------------------------------------------------

export class Lvm {
  constructor(readonly runner: CommandRunner) {}

  volumeGroups(): Promise<VolumeGroupReport[]> {
    return this.report('vg').then(parseVolumeGroups);
  }

  logicalVolumes(): Promise<LogicalVolumeReport[]> {
    return this.report('lv').then(parseLogicalVolumes);
  }

  physicalVolumes(): Promise<PhysicalVolumeReport[]> {
    return this.report('pv').then(parsePhysicalVolumes);
  }

  async volumeGroup(name: string): Promise<VolumeGroupReport | undefined> {
    return (await this.volumeGroups()).find((vg) => vg.name === name);
  }

  async logicalVolume(vg: string, name: string): Promise<LogicalVolumeReport | undefined> {
    return (await this.logicalVolumes()).find((lv) => lv.vg === vg && lv.name === name);
  }

  /** Runs a change; a failure is `code`, prefixed with `what` (the object it was for). */
  async change(code: string, what: string, argv: readonly string[], timeoutMs = CHANGE_TIMEOUT_MS): Promise<void> {
    await runChange(this.runner, code, what, argv, timeoutMs);
  }

  pvmove(what: string, device: string): Promise<void> {
    return this.change('E_LVM_PVMOVE', what, pvmoveArgv(device), PVMOVE_TIMEOUT_MS);
  }

  /**
   * Reports of every group (a name filter makes lvm2 fail for a missing group, which is
   * an answer here, not an error: the caller filters). `lvs` without `-a` leaves out
   * lvm2's hidden volumes (pool data and metadata, spares).
   */
  private async report(kind: 'vg' | 'lv' | 'pv'): Promise<string> {
    const argv = lvmReportArgv(kind);
    let out;
    try {
      out = await this.runner.tryRun(argv, { timeoutMs: REPORT_TIMEOUT_MS });
    } catch (e) {
      if (isAgentFailure(e) && e.code === 'E_MISSING_TOOL') {
        throw new AgentFailure(
          'E_LVM_MISSING',
          `lvm2 is not installed on this host (${argv[0]} not found): install the lvm2 package to manage volume groups and logical volumes`,
        );
      }
      throw e;
    }
    if (out.code !== 0) {
      throw new AgentFailure('E_LVM_REPORT', `${argv[0]} failed (exit ${out.code}): ${lastLines(out.stderr)}`, { argv, code: out.code, stderr: out.stderr });
    }
    return out.stdout;
  }
}

/** Runs `argv` as a logged change; its failure becomes `code` with `what` in front. */
export async function runChange(runner: CommandRunner, code: string, what: string, argv: readonly string[], timeoutMs = CHANGE_TIMEOUT_MS): Promise<string> {
  try {
    return (await runner.run(argv, { mutates: true, timeoutMs })).stdout;
  } catch (e) {
    if (isAgentFailure(e) && (e.code === 'E_COMMAND_FAILED' || e.code === 'E_COMMAND_TIMEOUT')) {
      throw new AgentFailure(code, `${what}: ${e.message}`, e.data);
    }
    throw e;
  }
}

export function lastLines(stderr: string): string {
  return (
    stderr
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-3)
      .join(' / ') || 'no error output'
  );
}

/** `vg0/data` -> ["vg0", "data"], or undefined when it is not VG/NAME. */
export function splitLvId(id: string): [string, string] | undefined {
  const parts = id.split('/');
  return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
}

/** `/dev/vg0/data`: where udev puts the volume's device node. */
export function lvPath(vg: string, name: string): string {
  return `/dev/${vg}/${name}`;
}

/** `name` when it is a valid volume group name; E_LVM_NAME naming `attribute` otherwise. */
export function checkVolumeGroupName(name: string, attribute: string): string {
  const problem = volumeGroupNameProblem(name);
  if (problem) throw new AgentFailure('E_LVM_NAME', `${attribute}: volume group name ${JSON.stringify(name)} ${problem}`);
  return name;
}

/** `name` when it is a valid logical volume name; E_LVM_NAME naming `attribute` otherwise. */
export function checkLogicalVolumeName(name: string, attribute: string): string {
  const problem = logicalVolumeNameProblem(name);
  if (problem) throw new AgentFailure('E_LVM_NAME', `${attribute}: logical volume name ${JSON.stringify(name)} ${problem}`);
  return name;
}

/** `VG/NAME` split and both halves checked; E_LVM_NAME otherwise. */
export function checkLvId(id: string, attribute: string): [string, string] {
  const parts = splitLvId(id);
  if (!parts) throw new AgentFailure('E_LVM_NAME', `${attribute}: ${JSON.stringify(id)} is not VG/NAME`);
  return [checkVolumeGroupName(parts[0], attribute), checkLogicalVolumeName(parts[1], attribute)];
}
