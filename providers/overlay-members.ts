// The members of an overlay network as the planner lays them out: each member host gets
// a slice of the subnet (its containers' addresses, so no two hosts ever hand out the
// same one, with no store shared between them), its bridge's address at the start of
// the slice, and the underlay addresses of every other member for its forwarding table.
// A member keeps its slice for as long as it stays; a new member takes the lowest free.
import { formatCidr, ipv4ToNumber, numberToIpv4, type Ipv4Cidr } from '../agent/network/ipv4-cidr.js';

export interface MemberPlan {
  /** This host's underlay IPv4 address: where the other members send its traffic. */
  readonly underlay: string;
  /** This host's slice of the subnet. */
  readonly ip_range: string;
  /** The address of this host's overlay bridge: its containers' gateway. */
  readonly gateway: string;
  /** The other members' underlay addresses, sorted. */
  readonly remotes: string[];
}

/** Slices per host unless `host_prefix` says: at least 16 hosts, /24 slices where the subnet allows. */
export function defaultHostPrefix(subnetPrefix: number): number {
  return Math.min(Math.max(subnetPrefix + 4, 24), 30);
}

export function sliceCount(subnet: Ipv4Cidr, hostPrefix: number): number {
  return 2 ** (hostPrefix - subnet.prefix);
}

function slice(subnet: Ipv4Cidr, hostPrefix: number, index: number): Ipv4Cidr {
  return { network: (subnet.network + index * 2 ** (32 - hostPrefix)) >>> 0, prefix: hostPrefix };
}

function sliceIndex(subnet: Ipv4Cidr, hostPrefix: number, range: string): number | undefined {
  const [address, prefix] = range.split('/');
  const n = ipv4ToNumber(address ?? '');
  if (n === undefined || Number(prefix) !== hostPrefix) return undefined;
  const index = (n - subnet.network) / 2 ** (32 - hostPrefix);
  return Number.isInteger(index) && index >= 0 && index < sliceCount(subnet, hostPrefix) ? index : undefined;
}

/**
 * The members for `hosts` (in order) with their underlay addresses; `prior` members keep
 * their slices. Undefined when there are more hosts than slices (check() reports that).
 */
export function planMembers(
  subnet: Ipv4Cidr,
  hostPrefix: number,
  underlays: ReadonlyMap<string, string>,
  prior: Readonly<Record<string, { ip_range?: unknown }>> | undefined,
): Record<string, MemberPlan> | undefined {
  const taken = new Map<string, number>();
  const used = new Set<number>();
  for (const host of underlays.keys()) {
    const range = prior?.[host]?.ip_range;
    const index = typeof range === 'string' ? sliceIndex(subnet, hostPrefix, range) : undefined;
    if (index !== undefined && !used.has(index)) {
      taken.set(host, index);
      used.add(index);
    }
  }
  let next = 0;
  for (const host of underlays.keys()) {
    if (taken.has(host)) continue;
    while (used.has(next)) next++;
    if (next >= sliceCount(subnet, hostPrefix)) return undefined;
    taken.set(host, next);
    used.add(next);
  }
  const members: Record<string, MemberPlan> = {};
  for (const [host, underlay] of underlays) {
    const own = slice(subnet, hostPrefix, taken.get(host)!);
    const remotes = [...new Set([...underlays].filter(([h]) => h !== host).map(([, a]) => a))].sort(byAddress);
    // The bridge takes the slice's .1, where people look for a gateway (and slice 0's .0 is the subnet's own).
    members[host] = { underlay, ip_range: formatCidr(own), gateway: numberToIpv4(own.network + 1), remotes };
  }
  return members;
}

function byAddress(a: string, b: string): number {
  return (ipv4ToNumber(a) ?? 0) - (ipv4ToNumber(b) ?? 0);
}
