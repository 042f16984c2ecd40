// Published container ports: DNAT with nftables, in a table of their own that only the
// supervisor writes (the bridge rules of nat.ts are written by the agent, another process):
//
//   table ip tsinfra_ports {
//     chain prerouting  { type nat hook prerouting priority -100;   # from other machines
//       fib daddr type local tcp dport 8080 dnat to 10.1.0.2:80 comment "tsi-port:<id> tcp 0.0.0.0:8080 10.1.0.2:80 tsi-front-3fa9c1" }
//     chain output      { type nat hook output priority -100;       # from the host itself
//       fib daddr type local tcp dport 8080 dnat to 10.1.0.2:80 comment "..." }
//     chain postrouting { type nat hook postrouting priority 100;
//       ip saddr { 127.0.0.0/8, 10.1.0.0/24 } ip daddr 10.1.0.2 tcp dport 80 ct status dnat snat to 10.1.0.1 comment "..." }
//     chain localhost_guard { type filter hook prerouting priority -300;
//       iifname "tsi*" ip daddr 127.0.0.0/8 drop comment "tsi-localhost-guard"
//       iifname "tsi*" ip saddr 127.0.0.0/8 drop comment "tsi-localhost-guard" }
//   }
//
// Every rule of a mapping carries the mapping in its comment, so the kernel's table is
// the record: conflicts are checked against it, and a container's rules are found and
// removed exactly. A host_ip of 0.0.0.0 (or none) means every address of the host.
//
// The postrouting rule rewrites the source of two kinds of DNATed connections so that
// the replies come back through the host to be un-NATed: from the host's loopback
// (127.0.0.1:8080), and from containers of the same bridge (hairpin). Loopback needs
// `route_localnet` on the bridge, or the kernel drops 127.x sources leaving it; it is
// switched on only while a mapping reachable at 127.0.0.1 targets that bridge, and the
// guard chain then drops anything arriving from a tsi link with a 127.x address, which
// route_localnet would otherwise let containers send to the host's loopback services.
// Other machines reach the container through forwarding: net.ipv4.ip_forward is switched on.
import { isIPv4 } from 'node:net';
import { AgentFailure } from '../rpc/failure.js';
import type { CommandRunner } from '../system/command.js';
import { checkContainerId, parseLinks } from './container-links.js';
import { cidrContains, formatCidr, ipv4ToNumber, networkOf, parseCanonicalCidr } from './ipv4-cidr.js';
import { isSafeLinkName } from './link-name.js';
import { NetSysctl } from './net-sysctl.js';
import { readNftTable, type NftTable } from './nft-table.js';

export const PORTS_TABLE = 'tsinfra_ports';
const ANY = '0.0.0.0';
const GUARD_COMMENT = 'tsi-localhost-guard';

export type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** An address of the host; null, undefined or 0.0.0.0: all of them, 127.0.0.1 included. */
  readonly hostIp?: string | null | undefined;
}

export interface PublishedPort {
  readonly containerId: string;
  readonly protocol: Protocol;
  /** 0.0.0.0 for every address. */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerIp: string;
  readonly containerPort: number;
  /** The bridge the container address is on. */
  readonly bridge: string;
}

const CHAINS = {
  prerouting: 'type nat hook prerouting priority -100; policy accept;',
  output: 'type nat hook output priority -100; policy accept;',
  postrouting: 'type nat hook postrouting priority 100; policy accept;',
  localhost_guard: 'type filter hook prerouting priority -300; policy accept;',
} as const;
type ChainName = keyof typeof CHAINS;

export interface PortRule {
  readonly chain: ChainName;
  readonly body: string;
}

const GUARD_RULES: PortRule[] = [
  { chain: 'localhost_guard', body: `iifname "tsi*" ip daddr 127.0.0.0/8 drop comment "${GUARD_COMMENT}"` },
  { chain: 'localhost_guard', body: `iifname "tsi*" ip saddr 127.0.0.0/8 drop comment "${GUARD_COMMENT}"` },
];

// ---- mappings and their comments ---------------------------------------------

function ownerPrefix(containerId: string): string {
  return `tsi-port:${containerId} `;
}

export function mappingComment(p: PublishedPort): string {
  return `${ownerPrefix(p.containerId)}${p.protocol} ${p.hostIp}:${p.hostPort} ${p.containerIp}:${p.containerPort} ${p.bridge}`;
}

const COMMENT = /^tsi-port:([0-9a-f]{16,64}) (tcp|udp) ([0-9.]+):(\d+) ([0-9.]+):(\d+) (tsi[a-z0-9-]*)$/;

function parseComment(comment: string | null): PublishedPort | undefined {
  const m = COMMENT.exec(comment ?? '');
  if (!m) return undefined;
  return {
    containerId: m[1]!,
    protocol: m[2] as Protocol,
    hostIp: m[3]!,
    hostPort: Number(m[4]),
    containerIp: m[5]!,
    containerPort: Number(m[6]),
    bridge: m[7]!,
  };
}

/** The mappings recorded in the table, once each. */
export function publishedIn(table: NftTable): PublishedPort[] {
  const seen = new Map<string, PublishedPort>();
  for (const r of table.rules) {
    const p = parseComment(r.comment);
    if (p) seen.set(r.comment!, p);
  }
  return [...seen.values()];
}

function isLoopback(ip: string): boolean {
  return cidrContains({ network: 0x7f000000, prefix: 8 }, ipv4ToNumber(ip)!);
}

/** Reachable at 127.0.0.1 from the host itself. */
function viaLoopback(p: PublishedPort): boolean {
  return p.hostIp === ANY || isLoopback(p.hostIp);
}

function describe(p: Pick<PublishedPort, 'protocol' | 'hostIp' | 'hostPort'>): string {
  return `${p.protocol} ${p.hostIp}:${p.hostPort}`;
}

function overlaps(a: PublishedPort, b: PublishedPort): boolean {
  return a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === ANY || b.hostIp === ANY);
}

function checkPort(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new AgentFailure('E_INVALID_PORT', `${what} ${n} is not a port number (1 to 65535)`);
  return n;
}

function normaliseHostIp(hostIp: string | null | undefined): string {
  if (hostIp === null || hostIp === undefined || hostIp === '') return ANY;
  if (!isIPv4(hostIp)) {
    throw new AgentFailure('E_INVALID_IP', `host_ip ${JSON.stringify(hostIp)} is not an IPv4 address (IPv6 port publishing is not supported)`);
  }
  return hostIp;
}

// ---- the rules ----------------------------------------------------------------

export interface BridgeSubnet {
  readonly bridge: string;
  /** Canonical CIDR. */
  readonly subnet: string;
  readonly gateway: string;
}

export function mappingRules(p: PublishedPort, network: BridgeSubnet): PortRule[] {
  const comment = `comment "${mappingComment(p)}"`;
  const daddr = p.hostIp === ANY ? 'fib daddr type local' : `ip daddr ${p.hostIp}`;
  const dnat = `${daddr} ${p.protocol} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort} ${comment}`;
  const sources = viaLoopback(p) ? `{ 127.0.0.0/8, ${network.subnet} }` : network.subnet;
  const rules: PortRule[] = [];
  if (!isLoopback(p.hostIp)) rules.push({ chain: 'prerouting', body: dnat });
  rules.push({ chain: 'output', body: dnat });
  rules.push({
    chain: 'postrouting',
    body: `ip saddr ${sources} ip daddr ${p.containerIp} ${p.protocol} dport ${p.containerPort} ct status dnat snat to ${network.gateway} ${comment}`,
  });
  return rules;
}

/**
 * The nft commands that give the container exactly `wanted` (none: unpublish) and the
 * guard rules when `guard`, removing chains (and the table) left empty. Empty when
 * nothing changes.
 */
export function planPortsScript(table: NftTable, containerId: string, wanted: readonly PortRule[], guard: boolean): string[] {
  const t = `ip ${PORTS_TABLE}`;
  const hasGuard = table.rules.some((r) => r.comment === GUARD_COMMENT);
  const drop = table.rules.filter((r) => r.comment?.startsWith(ownerPrefix(containerId)) || (!guard && r.comment === GUARD_COMMENT));
  const add = [...wanted, ...(guard && !hasGuard ? GUARD_RULES : [])];
  if (drop.length === 0 && add.length === 0) return [];

  const kept = table.rules.filter((r) => !drop.includes(r));
  const chainsAfter = new Set<string>([...kept.map((r) => r.chain), ...add.map((r) => r.chain)]);
  const emptied = table.chains.filter((c) => Object.hasOwn(CHAINS, c) && !chainsAfter.has(c));
  if (table.exists && chainsAfter.size === 0 && emptied.length === table.chains.length && table.otherObjects === 0) {
    return [`delete table ${t}`];
  }
  const script: string[] = [];
  if (!table.exists) script.push(`add table ${t}`);
  for (const c of chainsAfter) {
    if (!table.chains.includes(c) && Object.hasOwn(CHAINS, c)) script.push(`add chain ${t} ${c} { ${CHAINS[c as ChainName]} }`);
  }
  for (const r of drop) script.push(`delete rule ${t} ${r.chain} handle ${r.handle}`);
  for (const r of add) script.push(`add rule ${t} ${r.chain} ${r.body}`);
  for (const c of emptied) script.push(`delete chain ${t} ${c}`);
  return script;
}

// ---- the kernel side ------------------------------------------------------------

export class PortForwarding {
  private readonly sysctl: NetSysctl;

  constructor(private readonly runner: CommandRunner) {
    this.sysctl = new NetSysctl(runner);
  }

  /**
   * Makes the container's published ports exactly `ports` (replacing what it had),
   * forwarded to `containerIp` on the bridge whose subnet holds it. E_PORT_IN_USE when
   * another container already publishes an overlapping host address, port and protocol.
   */
  async publish(containerId: string, containerIp: string, ports: readonly PortMapping[]): Promise<PublishedPort[]> {
    checkContainerId(containerId);
    if (!isIPv4(containerIp)) throw new AgentFailure('E_INVALID_IP', `container ${containerId}: ${JSON.stringify(containerIp)} is not an IPv4 address`);
    if (ports.length === 0) {
      await this.unpublish(containerId);
      return [];
    }
    const requested = ports.map((p) => ({
      protocol: p.protocol,
      hostIp: normaliseHostIp(p.hostIp),
      hostPort: checkPort(p.hostPort, 'host_port'),
      containerPort: checkPort(p.containerPort, 'container_port'),
    }));
    if (!requested.every((p) => p.protocol === 'tcp' || p.protocol === 'udp')) {
      throw new AgentFailure('E_INVALID_PORT', `container ${containerId}: a port's protocol must be "tcp" or "udp"`);
    }
    return serialised(async () => {
      const [table, links] = await Promise.all([readNftTable(this.runner, PORTS_TABLE), this.bridgeSubnets()]);
      const network = links.find((n) => cidrContains(parseCanonicalCidr(n.subnet)!, ipv4ToNumber(containerIp)!));
      if (!network) {
        throw new AgentFailure(
          'E_NETWORK_NOT_FOUND',
          `container ${containerId}: no bridge on this host has a subnet holding ${containerIp}; cannot publish its ports`,
        );
      }
      const wanted: PublishedPort[] = requested.map((p) => ({ ...p, containerId, containerIp, bridge: network.bridge }));
      const existing = publishedIn(table);
      const others = existing.filter((e) => e.containerId !== containerId);
      wanted.forEach((w, i) => {
        const taken = others.find((o) => overlaps(o, w));
        if (taken) {
          throw new AgentFailure(
            'E_PORT_IN_USE',
            `container ${containerId}: host port ${describe(w)} is already published by container ${taken.containerId} (${describe(taken)}); choose another host_port or remove that container`,
            { holder: taken.containerId },
          );
        }
        const twice = wanted.slice(0, i).find((o) => overlaps(o, w));
        if (twice)
          throw new AgentFailure('E_PORT_IN_USE', `container ${containerId}: host port ${describe(w)} is published twice (also as ${describe(twice)})`);
      });
      const after = [...others, ...wanted];
      await this.converge(table, containerId, wanted, network, existing, after, links);
      return wanted;
    });
  }

  /** Removes every rule of the container; nothing to remove is fine. */
  async unpublish(containerId: string): Promise<void> {
    checkContainerId(containerId);
    return serialised(async () => {
      const table = await readNftTable(this.runner, PORTS_TABLE);
      const existing = publishedIn(table);
      if (!table.rules.some((r) => r.comment?.startsWith(ownerPrefix(containerId)))) return;
      const after = existing.filter((e) => e.containerId !== containerId);
      await this.converge(table, containerId, [], null, existing, after, await this.bridgeSubnets());
    });
  }

  /** What the table says is published, for one container or all. */
  async published(containerId?: string): Promise<PublishedPort[]> {
    const all = publishedIn(await readNftTable(this.runner, PORTS_TABLE));
    return containerId === undefined ? all : all.filter((p) => p.containerId === containerId);
  }

  private async converge(
    table: NftTable,
    containerId: string,
    wanted: readonly PublishedPort[],
    network: BridgeSubnet | null,
    before: readonly PublishedPort[],
    after: readonly PublishedPort[],
    bridges: readonly BridgeSubnet[],
  ): Promise<void> {
    const present = new Set(bridges.map((b) => b.bridge));
    const loopbackBefore = new Set(before.filter(viaLoopback).map((p) => p.bridge));
    const loopbackAfter = new Set(after.filter(viaLoopback).map((p) => p.bridge));
    const routeLocalnet = (bridge: string) => `net.ipv4.conf.${bridge}.route_localnet`;

    // Off before the guard may go; on only once the guard is in place.
    const off = [...loopbackBefore].filter((b) => !loopbackAfter.has(b) && present.has(b));
    if (off.length > 0) await this.sysctl.ensure(Object.fromEntries(off.map((b) => [routeLocalnet(b), '0'])));

    const rules = network ? wanted.flatMap((p) => mappingRules(p, network)) : [];
    const script = planPortsScript(table, containerId, rules, loopbackAfter.size > 0);
    if (script.length > 0) await this.runner.run(['nft', '-f', '-'], { stdin: script.join('\n') + '\n', mutates: true });

    const on: Record<string, string> = {};
    for (const b of loopbackAfter) if (present.has(b)) on[routeLocalnet(b)] = '1';
    if (wanted.some((p) => !isLoopback(p.hostIp))) on['net.ipv4.ip_forward'] = '1';
    if (Object.keys(on).length > 0) await this.sysctl.ensure(on);
  }

  /** Every tsinfra bridge with an IPv4 address: its subnet and the address (the gateway). */
  private async bridgeSubnets(): Promise<BridgeSubnet[]> {
    const argv = ['ip', '-j', '-d', 'addr', 'show', 'type', 'bridge'];
    return parseLinks((await this.runner.run(argv)).stdout, argv)
      .filter((l) => isSafeLinkName(l.name))
      .flatMap((l) => l.ipv4.map((a) => ({ bridge: l.name, subnet: formatCidr(networkOf(a.address, a.prefix)!), gateway: a.address })));
  }
}

let queue: Promise<unknown> = Promise.resolve();
/** Table changes one after another: each is computed from a listing (rule handles). */
function serialised<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}
