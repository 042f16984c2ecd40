// VXLAN devices and their forwarding entries through iproute2, for overlay networks:
//
//   ip link add NAME mtu M type vxlan id VNI local A dev UNDERLAY dstport P learning
//   ip -j -d link show dev NAME        vni, port, local, underlay device, master, mtu
//   bridge -j fdb show dev NAME        the flood list: 00:00:00:00:00:00 dst REMOTE, one per member
//   bridge fdb append|del 00:00:00:00:00:00 dev NAME dst REMOTE
//
// Unknown traffic (broadcast, ARP, unlearned MACs) is copied to every all-zero entry's
// destination (head-end replication), so no multicast group is needed. Callers check
// the tsi link names first; underlay device names come from the kernel itself.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { describeIssues } from '../rpc/zod-issues.js';
import type { CommandRunner } from '../system/command.js';
import { ipv4ToNumber } from './ipv4-cidr.js';

/** The MAC of the flood entries: "any destination not learned yet". */
export const FLOOD_MAC = '00:00:00:00:00:00';

export interface VxlanInfo {
  readonly vni: number;
  /** The UDP destination port. */
  readonly port: number;
  readonly local: string | null;
  /** The underlay device the tunnel is bound to (a name, or an ifindex once it is gone). */
  readonly dev: string | null;
  readonly learning: boolean;
  /** A multicast group or default unicast remote: an overlay of ours has neither. */
  readonly group: string | null;
}

export interface DetailedLink {
  readonly name: string;
  /** `bridge`, `vxlan`...; null for physical devices. */
  readonly kind: string | null;
  readonly mtu: number;
  readonly up: boolean;
  readonly master: string | null;
  /** Set when the link is a VXLAN device. */
  readonly vxlan: VxlanInfo | null;
}

export interface FdbEntry {
  readonly mac: string;
  readonly dst: string | null;
  /** Only set when it differs from the device's own port, vni: entries made by hand. */
  readonly port: number | null;
  readonly vni: number | null;
  readonly via: string | null;
}

export interface VxlanSpec {
  readonly name: string;
  readonly vni: number;
  readonly port: number;
  readonly local: string;
  readonly dev: string;
  readonly mtu: number;
}

const linkJson = z.array(
  z.looseObject({
    ifname: z.string(),
    mtu: z.number(),
    flags: z.array(z.string()).optional(),
    master: z.string().optional(),
    linkinfo: z
      .looseObject({
        info_kind: z.string().optional(),
        info_data: z
          .looseObject({
            id: z.number().optional(),
            port: z.number().optional(),
            local: z.string().optional(),
            link: z.union([z.string(), z.number()]).optional(),
            learning: z.boolean().optional(),
            group: z.string().optional(),
            remote: z.string().optional(),
          })
          .optional(),
      })
      .optional(),
  }),
);

const fdbJson = z.array(
  z.looseObject({
    mac: z.string(),
    dst: z.string().optional(),
    port: z.number().optional(),
    vni: z.number().optional(),
    viaIf: z.string().optional(),
  }),
);

function parseJson<S extends z.ZodType>(schema: S, stdout: string, argv: readonly string[]): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(stdout || '[]');
  } catch {
    throw new AgentFailure('E_COMMAND_OUTPUT', `${argv.join(' ')} did not print JSON (iproute2 too old for -j?)`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new AgentFailure('E_COMMAND_OUTPUT', `unexpected output of ${argv.join(' ')}: ${describeIssues(parsed.error, '')}`);
  return parsed.data;
}

export function parseDetailedLinks(stdout: string, argv: readonly string[]): DetailedLink[] {
  return parseJson(linkJson, stdout, argv).map((l) => {
    const kind = l.linkinfo?.info_kind ?? null;
    const data = l.linkinfo?.info_data;
    return {
      name: l.ifname,
      kind,
      mtu: l.mtu,
      up: (l.flags ?? []).includes('UP'),
      master: l.master ?? null,
      vxlan:
        kind === 'vxlan' && data?.id !== undefined
          ? {
              vni: data.id,
              port: data.port ?? 0,
              local: data.local ?? null,
              dev: data.link === undefined ? null : String(data.link),
              learning: data.learning ?? false,
              group: data.group ?? data.remote ?? null,
            }
          : null,
    };
  });
}

export function parseFdb(stdout: string, argv: readonly string[]): FdbEntry[] {
  return parseJson(fdbJson, stdout, argv).map((e) => ({
    mac: e.mac,
    dst: e.dst ?? null,
    port: e.port ?? null,
    vni: e.vni ?? null,
    via: e.viaIf ?? null,
  }));
}

/** IPv4 addresses in numeric order (10.0.0.9 before 10.0.0.10): the order of `remotes`. */
export function sortAddresses(addresses: readonly string[]): string[] {
  return [...addresses].sort((a, b) => (ipv4ToNumber(a) ?? 0) - (ipv4ToNumber(b) ?? 0) || a.localeCompare(b));
}

/** All-zero entries: the flood list, whatever their options. */
export function floodEntries(entries: readonly FdbEntry[]): FdbEntry[] {
  return entries.filter((e) => e.mac === FLOOD_MAC && e.dst !== null);
}

/** An entry exactly as the overlay makes it: plain destination, the device's own port and vni. */
export function isPlainFlood(e: FdbEntry): boolean {
  return e.mac === FLOOD_MAC && e.dst !== null && e.port === null && e.vni === null && e.via === null;
}

/** The members the device floods to, sorted; entries made by hand with other options do not count. */
export function floodRemotes(entries: readonly FdbEntry[]): string[] {
  return sortAddresses([...new Set(entries.filter(isPlainFlood).map((e) => e.dst!))]);
}

/**
 * A locally administered MAC for an overlay bridge. Every member's bridge has the same
 * name, and they all share one layer-2 segment, so the MAC also depends on the member's
 * underlay address; it stays fixed as containers come and go (see IpRoute.addBridge).
 */
export function overlayBridgeMac(bridge: string, local: string): string {
  const h = createHash('sha256').update(`${bridge}@${local}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export class VxlanLinks {
  constructor(private readonly runner: CommandRunner) {}

  /** The link with its details (kind, master, VXLAN parameters), or null when there is none of that name. */
  async link(name: string): Promise<DetailedLink | null> {
    const argv = ['ip', '-j', '-d', 'link', 'show', 'dev', name];
    const out = await this.runner.tryRun(argv);
    if (out.code === 0) return parseDetailedLinks(out.stdout, argv).find((l) => l.name === name) ?? null;
    // Tell "no such device" from a real failure without matching error text.
    const all = ['ip', '-j', 'link', 'show'];
    if (!parseDetailedLinks((await this.runner.run(all)).stdout, all).some((l) => l.name === name)) return null;
    return parseDetailedLinks((await this.runner.run(argv)).stdout, argv).find((l) => l.name === name) ?? null;
  }

  async addBridge(name: string, mac: string, mtu: number): Promise<void> {
    await this.runner.run(['ip', 'link', 'add', 'name', name, 'address', mac, 'mtu', String(mtu), 'type', 'bridge'], { mutates: true });
  }

  /** A VXLAN device without group or default remote: destinations come from the FDB. */
  async addVxlan(spec: VxlanSpec): Promise<void> {
    await this.runner.run(
      [
        'ip',
        'link',
        'add',
        'name',
        spec.name,
        'mtu',
        String(spec.mtu),
        'type',
        'vxlan',
        'id',
        String(spec.vni),
        'local',
        spec.local,
        'dev',
        spec.dev,
        'dstport',
        String(spec.port),
        'learning',
      ],
      { mutates: true },
    );
  }

  async setMaster(name: string, master: string): Promise<void> {
    await this.runner.run(['ip', 'link', 'set', 'dev', name, 'master', master], { mutates: true });
  }

  async fdb(name: string): Promise<FdbEntry[]> {
    const argv = ['bridge', '-j', 'fdb', 'show', 'dev', name];
    return parseFdb((await this.runner.run(argv)).stdout, argv);
  }

  async appendFlood(name: string, remote: string): Promise<void> {
    await this.runner.run(['bridge', 'fdb', 'append', FLOOD_MAC, 'dev', name, 'dst', remote], { mutates: true });
  }

  /** Deletes one all-zero entry, naming its options: without them the kernel deletes nothing (and says nothing). */
  async deleteFlood(name: string, entry: FdbEntry): Promise<void> {
    if (entry.mac !== FLOOD_MAC || entry.dst === null) throw new Error(`bug: ${entry.mac} is not a flood entry`);
    const argv = ['bridge', 'fdb', 'del', FLOOD_MAC, 'dev', name, 'dst', entry.dst];
    if (entry.port !== null) argv.push('port', String(entry.port));
    if (entry.vni !== null) argv.push('vni', String(entry.vni));
    if (entry.via !== null) argv.push('via', entry.via);
    await this.runner.run(argv, { mutates: true });
  }
}
