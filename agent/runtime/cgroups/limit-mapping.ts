// Conversions between user units and cgroup files, as runc does them, and their
// inverses (used to report drift in user units). Pure functions.

/** CFS period for `cpus`: 100 ms, as Docker and runc use. */
export const CPU_PERIOD_US = 100_000;

/** v1 cpu.shares -> v2 cpu.weight (runc's ConvertCPUSharesToCgroupV2Value). */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** The shares that map to `weight` (drift on v2): the smallest s with sharesToWeight(s) === weight. */
export function weightToShares(weight: number): number {
  return 2 + Math.ceil(((weight - 1) * 262142) / 9999);
}

/** blkio weight (10..1000) -> io.weight (1..10000) (runc's ConvertBlkIOToIOWeightValue). */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export function ioWeightToBlkio(weight: number): number {
  return 10 + Math.ceil(((weight - 1) * 990) / 9999);
}

/** `cpus` (1.5) -> CFS quota in microseconds per CPU_PERIOD_US. */
export function cpusToQuota(cpus: number): number {
  return Math.round(cpus * CPU_PERIOD_US);
}

export function quotaToCpus(quotaUs: number, periodUs: number): number {
  return Math.round((quotaUs / periodUs) * 1e5) / 1e5;
}

/** The kernel keeps memory limits in pages: what it shows after `bytes` is written. */
export function pageFloor(bytes: number, pageSize: number): number {
  return Math.floor(bytes / pageSize) * pageSize;
}

/** "0-2,4" -> [0, 1, 2, 4]; undefined when it is not a CPU list. */
export function parseCpuList(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const cpus = new Set<number>();
  for (const part of trimmed.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 65536) return undefined;
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The kernel's form of a CPU list: "0,1,2,5" -> "0-2,5". */
export function canonicalCpuList(text: string): string | undefined {
  const cpus = parseCpuList(text);
  if (cpus === undefined) return undefined;
  const ranges: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    ranges.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return ranges.join(',');
}

/**
 * A number from a cgroup file; `null` for "max" and for v1's "unlimited" values
 * (PAGE_COUNTER_MAX pages, about 2^63, which no limit a user sets comes near).
 */
export function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'max' || t === '-1') return null;
  if (!/^\d+$/.test(t)) throw new Error(`bug: not a cgroup limit: ${JSON.stringify(t)}`);
  const n = Number(t);
  return n >= 2 ** 62 ? null : n;
}
