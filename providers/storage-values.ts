// Value forms the LVM types share: sizes with %VG/%FREE, `VG/NAME` ids, names, and the
// plan-time resolution of a size to the bytes lvcreate will allocate.
import { AgentError } from '../transport/types.js';
import { z } from 'zod';
import { tryParseSize } from '../agent/runtime/sizes.js';
import { logicalVolumeNameProblem, volumeGroupNameProblem } from '../agent/storage/lvm-names.js';
import { DEFAULT_EXTENT_BYTES, formatBytes, parseLvSize, resolveLvSize } from '../agent/storage/lvm-size.js';
import { isUnknown, UNKNOWN, valuesEqual, type Value, type ValueObject } from '../plan-engine/values.js';
import type { PathDiagnostic, PlanContext } from './provider.js';

/** A size in bytes or binary units, or a share of the volume group (`50%VG`, `100%FREE`). */
export const lvSizeSchema = z.custom<string | number>((v) => (typeof v === 'string' || typeof v === 'number') && parseLvSize(v) !== undefined, {
  message: 'must be a size such as 512M, 10G or 1T (binary units), a number of bytes, or a share of the volume group such as 50%VG or 100%FREE',
});

/** Names tsinfra gives the volumes it makes on its own (`tsi-vol-cache`, `tsi-rootfs-...`): not for users. */
export const RESERVED_LV_PREFIX = 'tsi-';

/** The thin LV that backs a `volume` with a thin pool. */
export function volumeLvName(volumeName: string): string {
  return `${RESERVED_LV_PREFIX}vol-${volumeName}`;
}

/** `{ vg, name }` of a `VG/NAME` id; undefined when it is not of that form. */
export function splitLvmId(id: string): { vg: string; name: string } | undefined {
  const parts = id.split('/');
  if (parts.length !== 2) return undefined;
  return { vg: parts[0]!, name: parts[1]! };
}

/** The group part of a `VG/NAME` id (unknown stays unknown). */
export function groupOf(id: Value | undefined): Value {
  if (isUnknown(id)) return UNKNOWN;
  return typeof id === 'string' ? (splitLvmId(id)?.vg ?? null) : null;
}

/** Why `id` is not a `VG/NAME` id with valid names, or undefined. */
export function lvmIdProblem(id: string): string | undefined {
  const parts = splitLvmId(id);
  if (!parts) return `must be VG/NAME, such as "vg0/data" (got ${JSON.stringify(id)})`;
  const vg = volumeGroupNameProblem(parts.vg);
  if (vg) return `names volume group "${parts.vg}", which ${vg}`;
  const lv = logicalVolumeNameProblem(parts.name);
  return lv ? `names volume "${parts.name}", which ${lv}` : undefined;
}

/** Name checks of a logical volume or pool the user names (or that takes the resource's name). */
export function checkVolumeName(name: Value | undefined, explicit: boolean, what: string): PathDiagnostic[] {
  if (typeof name !== 'string') return [];
  const problem =
    logicalVolumeNameProblem(name) ??
    (name.startsWith(RESERVED_LV_PREFIX) ? `may not start with "${RESERVED_LV_PREFIX}" (tsinfra names its own volumes so)` : undefined);
  if (!problem) return [];
  return [
    {
      code: 'E_INVALID_NAME',
      summary: `The ${what} name ${JSON.stringify(name)} ${problem}`,
      ...(explicit ? {} : { detail: 'It defaults to the resource name: set name = "..." to another one.' }),
      path: ['name'],
    },
  ];
}

/** Checks a `VG/NAME` reference attribute. */
export function checkLvmId(value: Value | undefined, attribute: string): PathDiagnostic[] {
  if (typeof value !== 'string') return [];
  const problem = lvmIdProblem(value);
  return problem ? [{ code: 'E_INVALID_VALUE', summary: `Attribute "${attribute}" ${problem}`, path: [attribute] }] : [];
}

/** Checks a volume group name attribute. */
export function checkGroupName(value: Value | undefined, attribute: string, detail?: string): PathDiagnostic[] {
  if (typeof value !== 'string') return [];
  const problem = volumeGroupNameProblem(value);
  return problem
    ? [{ code: 'E_INVALID_NAME', summary: `The volume group name ${JSON.stringify(value)} ${problem}`, ...(detail ? { detail } : {}), path: [attribute] }]
    : [];
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
/** lvm2's thin-pool limits (lvmthin(7)): chunk 64 KiB to 1 GiB in multiples of 64 KiB; metadata 2 MiB to about 16 GiB. */
export const THIN_CHUNK_MIN = 64 * KIB;
export const THIN_CHUNK_MAX = GIB;
export const THIN_METADATA_MIN = 2 * MIB;
export const THIN_METADATA_MAX = 16 * GIB;
/** Metadata lvm2 aims at when it picks the chunk size itself. */
const THIN_METADATA_DEFAULT_MAX = 128 * MIB;

/**
 * Bytes a thin pool takes in its group beside its data: its metadata volume and the
 * spare metadata volume lvm2 keeps for repairs, as large (counted for every pool: at
 * most one spare's worth too much). The metadata size, when not given, is lvm2's own
 * estimate: 64 bytes per chunk, at least 2 MiB, at most 128 MiB when lvm2 picks the
 * chunk size.
 */
export function thinPoolOverheadBytes(dataBytes: number, extentBytes: number, chunkBytes?: number, metadataBytes?: number): number {
  const estimate = Math.ceil(dataBytes / (chunkBytes ?? THIN_CHUNK_MIN)) * 64;
  const meta = metadataBytes ?? Math.min(Math.max(estimate, THIN_METADATA_MIN), chunkBytes === undefined ? THIN_METADATA_DEFAULT_MAX : THIN_METADATA_MAX);
  return 2 * Math.ceil(meta / extentBytes) * extentBytes;
}

export interface SizeToResolve {
  /** The attribute holding the size (`size`, `virtual_size`), as written in the configuration. */
  readonly attribute: string;
  readonly written: Value | undefined;
  /** The group the volume lives in. */
  readonly vg: Value;
  readonly prior: ValueObject | null;
  readonly ctx: PlanContext;
  /** Pools: bytes needed in the group beside `dataBytes`; "N%FREE" leaves room for them, as lvcreate does. */
  readonly overhead?: (dataBytes: number, extentBytes: number) => number;
}

/**
 * The bytes a size resolves to at plan time, as lvcreate allocates them (whole extents).
 *
 *   - during apply's re-plan: what the plan resolved, while the size is the same
 *   - "N%FREE" of an existing volume: its recorded size while `size` is unchanged
 *     (the free space it was made from is gone: it would resolve to nothing)
 *   - without the host's storage (validate, --refresh=false): the recorded size while
 *     `size` is unchanged, else bytes rounded to lvm2's default extent, percentages unknown
 *   - "N%VG" of the group's size as this plan leaves it (a grown group: more)
 *   - "N%FREE" of its free space as refresh saw it, plus what this plan adds to the
 *     group, plus the volume's own size when an existing volume changes to it; for a
 *     pool, less its metadata volumes
 */
export function resolvePlannedBytes(s: SizeToResolve): Value {
  const { written, prior, ctx } = s;
  if (typeof written !== 'string' && typeof written !== 'number') return UNKNOWN;
  const size = parseLvSize(written);
  if (!size) return UNKNOWN;
  const recorded = (state: ValueObject | null | undefined): number | undefined => {
    if (!state || !valuesEqual(state[s.attribute], written) || !valuesEqual(state['volume_group'], s.vg)) return undefined;
    const bytes = state['size_bytes'];
    return typeof bytes === 'number' ? bytes : undefined;
  };
  const planned = recorded(ctx.planned);
  if (planned !== undefined) return planned;
  const kept = recorded(prior);
  if (kept !== undefined && (!ctx.storage || (size.kind === 'percent' && size.of === 'FREE'))) return kept;
  const group = typeof s.vg === 'string' ? ctx.storage?.group(s.vg) : undefined;
  if (size.kind === 'bytes') {
    const extent = group?.extentBytes ?? DEFAULT_EXTENT_BYTES;
    return Math.ceil(size.bytes / extent) * extent;
  }
  if (!group) return UNKNOWN;
  const own = prior && valuesEqual(prior['volume_group'], s.vg) && typeof prior['size_bytes'] === 'number' ? prior['size_bytes'] : 0;
  const bytes = resolveLvSize(size, { sizeBytes: group.sizeBytes, freeBytes: Math.max(0, group.freeBytes + own), extentBytes: group.extentBytes });
  // lvcreate takes a pool's metadata volumes out of a share of the free space, not of the group.
  if (size.of === 'FREE' && s.overhead) return Math.max(0, bytes - s.overhead(bytes, group.extentBytes));
  return bytes;
}

/** Bytes of a size string or number (no percentages), undefined otherwise. */
export function bytesOf(v: Value | undefined): number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? tryParseSize(v) : undefined;
}

/** Plan notes for a state's sizes: a percentage with its bytes, and `*_bytes` attributes in units. */
export function sizeNotes(state: ValueObject, attributes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const bytes = state['size_bytes'];
  if (typeof bytes === 'number') {
    for (const a of attributes) {
      const written = state[a];
      if (typeof written === 'string' && parseLvSize(written)?.kind === 'percent') out[a] = formatBytes(bytes);
    }
  }
  for (const [k, v] of Object.entries(state)) if (k.endsWith('_bytes') && typeof v === 'number') out[k] = formatBytes(v);
  return out;
}

/**
 * A percentage size (`"50%VG"`) resolves only in a plan that read the host's storage;
 * one made with --refresh=false reaches apply without the bytes. Refused here, before the
 * agent is asked, with what to do.
 */
export function requireResolvedSize(req: { readonly address: string; readonly planned: ValueObject | null }): void {
  if (!req.planned || !isUnknown(req.planned['size_bytes'])) return;
  throw new AgentError(
    'E_SIZE_UNKNOWN',
    `${req.address}: its size (${JSON.stringify(req.planned['size'] ?? req.planned['virtual_size'])}) was not resolved to bytes, because the plan did not read the host's storage (--refresh=false); plan and apply again with refresh`,
    '',
  );
}
