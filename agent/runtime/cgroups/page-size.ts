// The kernel's page size (memory limits are kept in pages), from the auxiliary vector:
// 4 KiB on x86-64, but 16 or 64 KiB on some arm64 kernels.
import { readFileSync } from 'node:fs';

const AT_PAGESZ = 6n;
let cached: number | undefined;

export function pageSize(): number {
  if (cached !== undefined) return cached;
  cached = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    // 64-bit entries: (type, value) pairs, ended by AT_NULL.
    for (let off = 0; off + 16 <= auxv.length; off += 16) {
      const type = auxv.readBigUInt64LE(off);
      if (type === 0n) break;
      if (type === AT_PAGESZ) cached = Number(auxv.readBigUInt64LE(off + 8));
    }
  } catch {
    // no /proc: keep the common value
  }
  return cached;
}
