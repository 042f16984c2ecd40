// Logical volume sizes as manifests write them, resolved to bytes at plan time:
//
//   "10G", "512M", 1073741824     bytes (binary units, as everywhere in tsinfra)
//   "50%VG"                       a share of the volume group's size
//   "100%FREE"                    a share of its free space (as refresh last saw it)
//
// lvcreate allocates whole extents: a byte size is rounded up to the extent size, a
// percentage rounds down to whole extents (as `lvcreate -l 50%VG` does). The plan
// shows both forms, so "50%VG" reads as "50%VG (5.0 GiB)".
import { tryParseSize } from '../runtime/sizes.js';

export type LvSize = { readonly kind: 'bytes'; readonly bytes: number } | { readonly kind: 'percent'; readonly percent: number; readonly of: 'VG' | 'FREE' };

/** What refresh knows of a volume group: enough to resolve percentages and check capacity. */
export interface VolumeGroupSpace {
  readonly sizeBytes: number;
  readonly freeBytes: number;
  readonly extentBytes: number;
}

/** LVM's default extent size, used until refresh has seen the group. */
export const DEFAULT_EXTENT_BYTES = 4 * 1024 * 1024;

const PERCENT = /^(\d+(?:\.\d+)?)%(VG|FREE)$/i;

/** The parsed size, or undefined when `value` is neither bytes nor a percentage of 1 to 100. */
export function parseLvSize(value: string | number): LvSize | undefined {
  if (typeof value === 'string') {
    const m = PERCENT.exec(value.trim());
    if (m) {
      const percent = Number(m[1]);
      return percent > 0 && percent <= 100 ? { kind: 'percent', percent, of: m[2]!.toUpperCase() as 'VG' | 'FREE' } : undefined;
    }
  }
  const bytes = tryParseSize(value);
  return bytes !== undefined && bytes > 0 ? { kind: 'bytes', bytes } : undefined;
}

/** Bytes the LV will have: whole extents, as lvcreate allocates them. */
export function resolveLvSize(size: LvSize, vg: VolumeGroupSpace): number {
  const extent = vg.extentBytes;
  if (size.kind === 'bytes') return Math.ceil(size.bytes / extent) * extent;
  const base = size.of === 'VG' ? vg.sizeBytes : vg.freeBytes;
  const extents = Math.floor((Math.floor(base / extent) * size.percent) / 100);
  return extents * extent;
}

/** `5.0 GiB`, `512 MiB`, `1.5 TiB`: how a plan shows a resolved size. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}

/** `"50%VG" (5.0 GiB)` or `10 GiB`: the size as written and as it resolves. */
export function describeLvSize(written: string | number, bytes: number): string {
  return typeof written === 'string' && PERCENT.test(written.trim()) ? `${written} (${formatBytes(bytes)})` : formatBytes(bytes);
}
