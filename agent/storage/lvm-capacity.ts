// The plan-time capacity check: from each volume group's free space (as refresh saw it)
// and the space the plan would take in it (new LVs and pools, growth of existing ones),
// the groups that cannot hold it. The plan fails on these before anything is touched,
// rather than apply failing halfway. Thin volumes take space from their pool, not the
// group; a pool promised more than its size times a ratio only earns a warning, since
// thin provisioning exists to over-commit.
import { formatBytes, type VolumeGroupSpace } from './lvm-size.js';

/** Space one planned change takes in a volume group. */
export interface SpaceRequest {
  /** The resource address, for the message. */
  readonly address: string;
  readonly vg: string;
  /** Bytes taken: the size of a new LV or pool, the growth of an existing one. */
  readonly bytes: number;
}

export interface CapacityShortfall {
  readonly vg: string;
  readonly freeBytes: number;
  readonly neededBytes: number;
  readonly requests: readonly SpaceRequest[];
}

/** The groups that lack the space the requests take, in name order. A group refresh has not seen is not judged here. */
export function capacityShortfalls(requests: readonly SpaceRequest[], groups: ReadonlyMap<string, VolumeGroupSpace>): CapacityShortfall[] {
  const byGroup = new Map<string, SpaceRequest[]>();
  for (const r of requests) if (r.bytes > 0) byGroup.set(r.vg, [...(byGroup.get(r.vg) ?? []), r]);
  const out: CapacityShortfall[] = [];
  for (const [vg, taken] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const space = groups.get(vg);
    if (!space) continue;
    const needed = taken.reduce((sum, r) => sum + r.bytes, 0);
    if (needed > space.freeBytes) out.push({ vg, freeBytes: space.freeBytes, neededBytes: needed, requests: taken });
  }
  return out;
}

/** `volume group vg0 has 2 GiB free; this plan needs 3 GiB there: logical_volume.a 2 GiB, logical_volume.b 1 GiB` */
export function describeShortfall(s: CapacityShortfall): string {
  const parts = s.requests.map((r) => `${r.address} ${formatBytes(r.bytes)}`).join(', ');
  return `volume group ${s.vg} has ${formatBytes(s.freeBytes)} free; this plan needs ${formatBytes(s.neededBytes)} there: ${parts}`;
}

/** The default over-commit a pool may carry before the plan warns: its virtual sizes up to twice its size. */
export const DEFAULT_OVERCOMMIT_RATIO = 2;

/** Why a pool is over-committed beyond `ratio`, or undefined when it is not. */
export function overcommitWarning(pool: string, poolBytes: number, virtualBytes: readonly number[], ratio = DEFAULT_OVERCOMMIT_RATIO): string | undefined {
  const promised = virtualBytes.reduce((a, b) => a + b, 0);
  if (poolBytes <= 0 || promised <= poolBytes * ratio) return undefined;
  const times = (promised / poolBytes).toFixed(1);
  return `thin pool ${pool} (${formatBytes(poolBytes)}) is promised ${formatBytes(promised)} by its thin volumes, ${times} times its size (more than ${ratio}); writes fail for all of them once the pool is full`;
}
