// What lvm2 reports, read from `vgs`/`lvs`/`pvs --reportformat json --units b --nosuffix`:
// sizes in bytes, every field a string (lvm2 2.03 "json"; "json_std" gives numbers, which
// are accepted too). Refresh and the plan-time capacity check read these, never lvm2's
// human output.
//
//   {"report": [{"vg": [{"vg_name": "vg0", "vg_size": "10733223936", ...}]}]}
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';

export const VG_FIELDS = ['vg_name', 'vg_uuid', 'vg_size', 'vg_free', 'vg_extent_size', 'pv_count', 'lv_count'] as const;
export const LV_FIELDS = [
  'lv_name',
  'vg_name',
  'lv_uuid',
  'lv_size',
  'lv_attr',
  'pool_lv',
  'origin',
  'data_percent',
  'metadata_percent',
  'lv_kernel_major',
  'lv_kernel_minor',
  'chunk_size',
  'lv_metadata_size',
] as const;
export const PV_FIELDS = ['pv_name', 'vg_name', 'pv_uuid', 'pv_size', 'pv_free'] as const;

type Kind = 'vg' | 'lv' | 'pv';
const FIELDS: Record<Kind, readonly string[]> = { vg: VG_FIELDS, lv: LV_FIELDS, pv: PV_FIELDS };

/** The argv of the report command for `kind`, restricted to `names` when given. */
export function lvmReportArgv(kind: Kind, names: readonly string[] = []): string[] {
  return [`${kind}s`, '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', FIELDS[kind].join(','), ...names];
}

const field = z.union([z.string(), z.number()]).transform(String);
const reportSchema = z.object({ report: z.array(z.record(z.string(), z.array(z.record(z.string(), field)))) });

export interface VolumeGroupReport {
  readonly name: string;
  readonly uuid: string;
  readonly sizeBytes: number;
  readonly freeBytes: number;
  readonly extentBytes: number;
  readonly pvCount: number;
  readonly lvCount: number;
}

export type LvKind = 'linear' | 'thin-pool' | 'thin' | 'snapshot' | 'other';

export interface LogicalVolumeReport {
  readonly name: string;
  readonly vg: string;
  readonly uuid: string;
  readonly sizeBytes: number;
  readonly kind: LvKind;
  readonly active: boolean;
  /** The device is open (mounted or in use by a process). */
  readonly open: boolean;
  /** Thin volumes: their pool. */
  readonly pool?: string;
  /** Snapshots and thin snapshots: what they were taken of. */
  readonly origin?: string;
  /** Thin pools and thin volumes: data use in percent. */
  readonly dataPercent?: number;
  readonly metadataPercent?: number;
  /** `major:minor` of the active device, for the device cgroup. */
  readonly device?: string;
  /** Thin pools: the allocation unit (snapshots: their copy-on-write chunk). */
  readonly chunkBytes?: number;
  /** Thin pools: the size of their metadata volume. */
  readonly metadataBytes?: number;
}

export interface PhysicalVolumeReport {
  readonly name: string;
  /** Empty when the PV belongs to no volume group. */
  readonly vg: string;
  readonly uuid: string;
  readonly sizeBytes: number;
  readonly freeBytes: number;
}

export function parseVolumeGroups(stdout: string): VolumeGroupReport[] {
  return rows(stdout, 'vg').map((r) => ({
    name: text(r, 'vg_name'),
    uuid: text(r, 'vg_uuid'),
    sizeBytes: bytes(r, 'vg_size'),
    freeBytes: bytes(r, 'vg_free'),
    extentBytes: bytes(r, 'vg_extent_size'),
    pvCount: bytes(r, 'pv_count'),
    lvCount: bytes(r, 'lv_count'),
  }));
}

export function parseLogicalVolumes(stdout: string): LogicalVolumeReport[] {
  return rows(stdout, 'lv').map((r) => {
    const attr = text(r, 'lv_attr');
    const major = r['lv_kernel_major'] ?? '';
    const minor = r['lv_kernel_minor'] ?? '';
    const optional = (key: string) => (r[key] ? r[key] : undefined);
    const percent = (key: string) => (r[key] ? Number(r[key]) : undefined);
    // Absent (older reports) or 0 (volumes that have none): not reported.
    const positive = (key: string) => (r[key] && /^\d+$/.test(r[key]) && Number(r[key]) > 0 ? Number(r[key]) : undefined);
    const lv: LogicalVolumeReport = {
      name: text(r, 'lv_name'),
      vg: text(r, 'vg_name'),
      uuid: text(r, 'lv_uuid'),
      sizeBytes: bytes(r, 'lv_size'),
      kind: kindOf(attr),
      active: attr[4] === 'a',
      open: attr[5] === 'o',
    };
    const pool = optional('pool_lv');
    const origin = optional('origin');
    const data = percent('data_percent');
    const metadata = percent('metadata_percent');
    // lvm2 reports -1 for the numbers of an inactive volume.
    const device = /^\d+$/.test(major) && /^\d+$/.test(minor) ? `${major}:${minor}` : undefined;
    const chunk = positive('chunk_size');
    const metadataSize = positive('lv_metadata_size');
    return {
      ...lv,
      ...(pool ? { pool } : {}),
      ...(origin ? { origin } : {}),
      ...(data !== undefined ? { dataPercent: data } : {}),
      ...(metadata !== undefined ? { metadataPercent: metadata } : {}),
      ...(device ? { device } : {}),
      ...(chunk !== undefined ? { chunkBytes: chunk } : {}),
      ...(metadataSize !== undefined ? { metadataBytes: metadataSize } : {}),
    };
  });
}

export function parsePhysicalVolumes(stdout: string): PhysicalVolumeReport[] {
  return rows(stdout, 'pv').map((r) => ({
    name: text(r, 'pv_name'),
    vg: r['vg_name'] ?? '',
    uuid: text(r, 'pv_uuid'),
    sizeBytes: bytes(r, 'pv_size'),
    freeBytes: bytes(r, 'pv_free'),
  }));
}

/** The first character of lv_attr is the volume type (lvs(8)). */
function kindOf(attr: string): LvKind {
  switch (attr[0]) {
    case '-':
    case 'o': // an origin is a linear volume that has snapshots
      return 'linear';
    case 't':
      return 'thin-pool';
    case 'V':
      return 'thin';
    case 's':
    case 'S':
      return 'snapshot';
    default:
      return 'other';
  }
}

function rows(stdout: string, kind: Kind): Record<string, string>[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw bad(kind, 'it is not JSON');
  }
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) throw bad(kind, 'it is not an lvm2 JSON report');
  return parsed.data.report.flatMap((section) => section[kind] ?? []);
}

function text(row: Record<string, string>, key: string): string {
  const v = row[key];
  if (v === undefined) throw new AgentFailure('E_LVM_REPORT', `lvm2's report lacks ${key}`);
  return v;
}

function bytes(row: Record<string, string>, key: string): number {
  const v = text(row, key);
  const n = Number(v);
  if (v === '' || !Number.isSafeInteger(n) || n < 0) throw new AgentFailure('E_LVM_REPORT', `lvm2 reported ${key} = ${JSON.stringify(v)}, not a whole number`);
  return n;
}

function bad(kind: Kind, why: string): AgentFailure {
  return new AgentFailure('E_LVM_REPORT', `cannot read the output of ${kind}s: ${why}`);
}
