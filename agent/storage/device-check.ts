// Whether a block device may become a physical volume of a group. tsinfra never wipes a
// device: one that holds a filesystem, a partition table, a RAID member or any other
// signature, that something is stacked on (device-mapper, md), that is mounted, or that
// is a physical volume of another group is refused with what was found on it. Only
// reads: `blkid -p` (low-level probe, not the cache) and `wipefs --no-act` (every
// signature, also ones blkid's first answer hides).
import { readdirSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import type { CommandRunner } from '../system/command.js';
import { mountTable } from './lv-mount.js';
import type { PhysicalVolumeReport } from './lvm-report.js';
import { lastLines } from './lvm.js';

const PROBE_TIMEOUT_MS = 30_000;

export interface Signature {
  readonly type: string;
  readonly label: string | null;
  readonly offset: string | null;
}

/** A device a group may use, by its real path (by-id and other aliases resolved). */
export interface UsableDevice {
  /** As configured: `/dev/disk/by-id/...` stays as written in the state. */
  readonly configured: string;
  /** The kernel's device node: what lvm2 is given and what is compared. */
  readonly device: string;
  /** Already a physical volume: of no group (pvcreate not needed) or of this group. */
  readonly pv: PhysicalVolumeReport | undefined;
}

/** `/dev/disk/by-id/virtio-x` -> `/dev/vdb`; E_LVM_DEVICE when it does not exist or is no block device. */
export async function resolveDevice(configured: string, what: string): Promise<string> {
  let device: string;
  try {
    device = await realpath(configured);
  } catch (e) {
    throw new AgentFailure('E_LVM_DEVICE', `${what}: device ${configured} does not exist on this host (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!statSync(device).isBlockDevice()) throw new AgentFailure('E_LVM_DEVICE', `${what}: ${configured} is not a block device`);
  return device;
}

/** The PV on `device` (compared by real path), if lvm2 knows one. */
export async function physicalVolumeOn(device: string, pvs: readonly PhysicalVolumeReport[]): Promise<PhysicalVolumeReport | undefined> {
  for (const pv of pvs) {
    const real = await realpath(pv.name).catch(() => pv.name);
    if (real === device) return pv;
  }
  return undefined;
}

/**
 * `configured` resolved and checked for use in group `vg`; E_LVM_DEVICE naming the
 * device and what is on it otherwise.
 */
export async function checkDeviceForGroup(
  runner: CommandRunner,
  configured: string,
  vg: string,
  pvs: readonly PhysicalVolumeReport[],
  what: string,
): Promise<UsableDevice> {
  const device = await resolveDevice(configured, what);
  const shown = configured === device ? device : `${configured} (${device})`;
  const pv = await physicalVolumeOn(device, pvs);
  if (pv) {
    if (pv.vg !== '' && pv.vg !== vg) {
      throw new AgentFailure(
        'E_LVM_DEVICE',
        `${what}: ${shown} is a physical volume of volume group ${pv.vg}; tsinfra does not take devices from another group`,
      );
    }
    return { configured, device, pv };
  }
  const refuse = (why: string) =>
    new AgentFailure(
      'E_LVM_DEVICE',
      `${what}: ${shown} ${why}; tsinfra never wipes a device: if it really is free, clear it yourself (wipefs -a ${device}) and apply again`,
    );
  const mountPoint = mountedFrom(device);
  if (mountPoint) throw refuse(`is mounted on ${mountPoint}`);
  const holders = holdersOf(device);
  if (holders.length) throw refuse(`is in use by ${holders.join(', ')} (device-mapper or md on top of it)`);
  const signatures = await deviceSignatures(runner, device);
  if (signatures.length) throw refuse(`holds ${signatures.map(describeSignature).join(', ')}`);
  return { configured, device, pv: undefined };
}

function describeSignature(s: Signature): string {
  const kind = s.type === 'LVM2_member' ? 'an LVM physical volume label that lvm2 does not list' : `a ${s.type} signature`;
  return `${kind}${s.label ? ` labelled ${JSON.stringify(s.label)}` : ''}${s.offset ? ` at offset ${s.offset}` : ''}`;
}

/** Every signature on `device`: wipefs's full list (with offsets), else what blkid's low-level probe saw. */
export async function deviceSignatures(runner: CommandRunner, device: string): Promise<Signature[]> {
  const blkid = await runner.tryRun(['blkid', '-p', '-o', 'export', device], { timeoutMs: PROBE_TIMEOUT_MS });
  // 0: found, 2: nothing, 8: ambivalent (several signatures: wipefs names them).
  if (blkid.code !== 0 && blkid.code !== 2 && blkid.code !== 8) {
    throw new AgentFailure('E_LVM_DEVICE', `blkid -p ${device} failed (exit ${blkid.code}): ${lastLines(blkid.stderr)}`);
  }
  const wipefs = await runner.tryRun(['wipefs', '--no-act', '--json', device], { timeoutMs: PROBE_TIMEOUT_MS });
  if (wipefs.code !== 0) throw new AgentFailure('E_LVM_DEVICE', `wipefs --no-act ${device} failed (exit ${wipefs.code}): ${lastLines(wipefs.stderr)}`);
  const listed = parseWipefsJson(wipefs.stdout);
  if (listed.length) return listed;
  if (blkid.code === 2) return [];
  const tags = parseBlkidExport(blkid.stdout);
  const type = tags.get('TYPE') ?? (tags.has('PTTYPE') ? `${tags.get('PTTYPE')} partition table` : 'unknown (ambivalent probe)');
  return [{ type, label: tags.get('LABEL') ?? null, offset: null }];
}

/** `KEY=value` lines of `blkid -o export`; values have shell-style backslash escapes. */
export function parseBlkidExport(stdout: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    tags.set(line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, '$1'));
  }
  return tags;
}

const wipefsJson = z.object({
  signatures: z.array(
    z.object({
      type: z.string(),
      offset: z.string().nullable().optional(),
      label: z.string().nullable().optional(),
    }),
  ),
});

/** `wipefs --json` output; an empty output means no signatures. */
export function parseWipefsJson(stdout: string): Signature[] {
  if (stdout.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new AgentFailure('E_LVM_DEVICE', 'cannot read the output of wipefs --json: it is not JSON');
  }
  const parsed = wipefsJson.safeParse(json);
  if (!parsed.success) throw new AgentFailure('E_LVM_DEVICE', 'cannot read the output of wipefs --json: unexpected shape');
  return parsed.data.signatures.map((s) => ({ type: s.type, label: s.label ?? null, offset: s.offset ?? null }));
}

/** `major:minor` of a block device node. */
export function deviceNumber(device: string): string {
  const rdev = BigInt(statSync(device).rdev);
  const major = (rdev >> 8n) & 0xfffn;
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n);
  return `${major}:${minor}`;
}

/** Where `device` is mounted in this mount namespace (the host's, for the agent). */
export function mountedFrom(device: string): string | undefined {
  const number = deviceNumber(device);
  return mountTable().find((m) => m.device === number)?.mountPoint;
}

/** What the kernel stacks on `device` (`dm-3`, `md0`): /sys/dev/block/M:m/holders. */
function holdersOf(device: string): string[] {
  try {
    return readdirSync(`/sys/dev/block/${deviceNumber(device)}/holders`).sort();
  } catch {
    return [];
  }
}
