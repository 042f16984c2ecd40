// The links that connect a container to bridges, and how they are named and found:
//
//   host netns                               container netns (/proc/<pid>/ns/net)
//   tsi-front-3fa9c1 (bridge, gateway)
//     └─ tsi<10 hex of id><n>  <── veth ──>  eth<n>  ip/prefix, MAC 02:42:<ip>
//        alias tsi:<container id>:<n>         default route via network 0's gateway
//
// The host end carries the full container id in its alias (ifalias), so links are found
// by id exactly, whatever happens to the name. Deleting the host end deletes the peer,
// and the kernel deletes both when the container's network namespace goes away.
//
// A macvlan network has no bridge: the interface is made on the network's parent under
// the host end's name, tagged, then moved into the container and renamed there, where it
// lives on alone. (Made in the container's namespace at once, `link add ... netns`, it
// fails on Linux 6.1 when the host has a link of the same name: eth0, as a rule.)
//
//   host netns                               container netns
//   eth0 (parent, on the LAN) ── macvlan ──> eth<n>  ip/prefix, MAC 02:42:<ip>
//   (made as tsi<10 hex of id><n>)            alias tsi:<container id>:<n>:<network id>
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { describeIssues } from '../rpc/zod-issues.js';
import { LINK_NAME_MAX } from './link-name.js';

const CONTAINER_ID = /^[0-9a-f]{16,64}$/;
const ID_CHARS_IN_NAME = 10;
export const MAX_NETWORKS_PER_CONTAINER = 10 ** (LINK_NAME_MAX - 3 - ID_CHARS_IN_NAME);

export function checkContainerId(id: string): string {
  if (!CONTAINER_ID.test(id)) throw new AgentFailure('E_INVALID_ID', `${JSON.stringify(id)} is not a container id (16 to 64 lowercase hex digits)`);
  return id;
}

/** `tsi0123456789` + index: at most 15 characters. */
export function hostVethName(containerId: string, index: number): string {
  return `tsi${containerId.slice(0, ID_CHARS_IN_NAME)}${index}`;
}

export function vethAlias(containerId: string, index: number): string {
  return `tsi:${containerId}:${index}`;
}

function parseAlias(alias: string | undefined): { containerId: string; index: number } | undefined {
  const m = /^tsi:([0-9a-f]{16,64}):(\d+)$/.exec(alias ?? '');
  return m ? { containerId: m[1]!, index: Number(m[2]) } : undefined;
}

/** The alias of a container's macvlan: the network id too, as nothing else names it. */
export function macvlanAlias(containerId: string, index: number, network: string): string {
  return `tsi:${containerId}:${index}:${network}`;
}

function parseMacvlanAlias(alias: string | undefined): { containerId: string; index: number; network: string } | undefined {
  const m = /^tsi:([0-9a-f]{16,64}):(\d+):(tsi[a-z0-9-]{0,12})$/.exec(alias ?? '');
  return m ? { containerId: m[1]!, index: Number(m[2]), network: m[3]! } : undefined;
}

/** Docker's scheme: 02:42 and the four bytes of the address, stable across restarts. */
export function macForAddress(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

// ---- reading `ip -j -d addr show` -------------------------------------------

const ipLinkJson = z.array(
  z.looseObject({
    ifindex: z.number(),
    ifname: z.string(),
    link_index: z.number().optional(),
    master: z.string().optional(),
    ifalias: z.string().optional(),
    mtu: z.number(),
    address: z.string().optional(),
    flags: z.array(z.string()).optional(),
    linkinfo: z.looseObject({ info_kind: z.string().optional() }).optional(),
    addr_info: z
      .array(z.looseObject({ family: z.string().optional(), local: z.string().optional(), prefixlen: z.number().optional(), scope: z.string().optional() }))
      .optional(),
  }),
);

export interface LinkInfo {
  readonly index: number;
  readonly name: string;
  /** ifindex of a veth's peer (in the peer's namespace). */
  readonly peerIndex: number | null;
  readonly kind: string | null;
  readonly master: string | null;
  readonly alias: string | null;
  readonly mtu: number;
  readonly mac: string | null;
  readonly up: boolean;
  /** Global IPv4 addresses with their prefix length. */
  readonly ipv4: readonly { address: string; prefix: number }[];
}

export function parseLinks(stdout: string, argv: readonly string[]): LinkInfo[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout || '[]');
  } catch {
    throw new AgentFailure('E_COMMAND_OUTPUT', `${argv.join(' ')} did not print JSON (iproute2 too old for -j?)`);
  }
  const parsed = ipLinkJson.safeParse(Array.isArray(json) ? json.filter((l) => typeof l === 'object' && l !== null && 'ifname' in l) : json);
  if (!parsed.success) throw new AgentFailure('E_COMMAND_OUTPUT', `unexpected output of ${argv.join(' ')}: ${describeIssues(parsed.error, '')}`);
  return parsed.data.map((l) => ({
    index: l.ifindex,
    name: l.ifname,
    peerIndex: l.link_index ?? null,
    kind: l.linkinfo?.info_kind ?? null,
    master: l.master ?? null,
    alias: l.ifalias ?? null,
    mtu: l.mtu,
    mac: l.address ?? null,
    up: (l.flags ?? []).includes('UP'),
    ipv4: (l.addr_info ?? []).flatMap((a) =>
      a.family === 'inet' && a.local !== undefined && a.prefixlen !== undefined && (a.scope ?? 'global') === 'global'
        ? [{ address: a.local, prefix: a.prefixlen }]
        : [],
    ),
  }));
}

/** The host ends of a container's veths, by their index on the container's side. */
export function containerVeths(links: readonly LinkInfo[], containerId: string): (LinkInfo & { readonly networkIndex: number })[] {
  return links.flatMap((l) => {
    const tag = parseAlias(l.alias ?? undefined);
    return l.kind === 'veth' && tag?.containerId === containerId ? [{ ...l, networkIndex: tag.index }] : [];
  });
}

/** The container's macvlans by network index: inside its namespace, or left in the host's by a failed move. */
export function containerMacvlans(links: readonly LinkInfo[], containerId: string): (LinkInfo & { readonly networkIndex: number; readonly network: string })[] {
  return links.flatMap((l) => {
    const tag = parseMacvlanAlias(l.alias ?? undefined);
    return l.kind === 'macvlan' && tag?.containerId === containerId ? [{ ...l, networkIndex: tag.index, network: tag.network }] : [];
  });
}

// ---- the `ip -batch` scripts --------------------------------------------------

export interface VethPlan {
  readonly kind?: 'veth';
  readonly index: number;
  readonly bridge: string;
  readonly hostVeth: string;
  readonly ifname: string;
  readonly mtu: number;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly mac: string;
}

/** A macvlan on `parent` (a host device, checked by the record store), made inside the container. */
export interface MacvlanPlan {
  readonly kind: 'macvlan';
  readonly index: number;
  /** The network id. */
  readonly network: string;
  readonly parent: string;
  readonly mode: string;
  /** Its name in the host's namespace before the move: the name a veth's host end would have. */
  readonly hostName: string;
  readonly ifname: string;
  readonly mtu: number;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly mac: string;
  readonly alias: string;
  /** false for an internal network: no default route through it. */
  readonly defaultRoute: boolean;
}

export type LinkPlan = VethPlan | MacvlanPlan;

/**
 * Run in the host's namespace: each veth made with its peer directly inside the
 * container; each macvlan made on its parent, tagged, and moved into the container.
 */
export function hostScript(containerId: string, pid: number, plans: readonly LinkPlan[]): string {
  const lines = plans.flatMap((p) =>
    p.kind === 'macvlan'
      ? [
          `link add link ${p.parent} name ${p.hostName} mtu ${p.mtu} address ${p.mac} type macvlan mode ${p.mode}`,
          `link set dev ${p.hostName} alias ${p.alias}`,
          `link set dev ${p.hostName} netns ${pid} name ${p.ifname}`,
        ]
      : [
          `link add name ${p.hostVeth} mtu ${p.mtu} master ${p.bridge} up type veth peer name ${p.ifname} mtu ${p.mtu} address ${p.mac} netns ${pid}`,
          // (`link add` ignores an alias.) Hairpin lets a container reach its own published port
          // through the host's address when br_netfilter makes the bridge send the DNATed
          // frame back out of the port it came in by.
          `link set dev ${p.hostVeth} alias ${vethAlias(containerId, p.index)} type bridge_slave hairpin on`,
        ],
  );
  return lines.join('\n') + '\n';
}

/** Run inside the container's namespace: addresses, links up, the default route. */
export function containerScript(plans: readonly LinkPlan[]): string {
  const lines = ['link set dev lo up'];
  for (const p of plans) {
    lines.push(`address add ${p.ip}/${p.prefix} broadcast + dev ${p.ifname}`);
    lines.push(`link set dev ${p.ifname} up`);
  }
  const first = plans[0];
  if (first && (first.kind !== 'macvlan' || first.defaultRoute)) lines.push(`route add default via ${first.gateway} dev ${first.ifname}`);
  return lines.join('\n') + '\n';
}
