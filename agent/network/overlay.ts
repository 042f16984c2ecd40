// The `network` resource with driver "overlay": one member host's part of a cross-host
// VXLAN overlay. The engine calls it once per member, with that member's gateway,
// ip_range and underlay address, and the other members' underlay addresses.
//
//   bridge  tsi-ovl-3fa9c1   gateway/<subnet prefix>, mtu, a fixed MAC of its own
//     └─ tsixovl-3fa9c1      vxlan id VNI local LOCAL dev <underlay> dstport PORT, learning
//          FDB: 00:00:00:00:00:00 dst REMOTE, one per other member (no multicast)
//   nftables: the bridge driver's masquerade rule for the subnet when nat
//
//   create: the underlay (the link carrying `local`) gives the device and the mtu
//           limit; bridge, vxlan, FDB, rules (a failure half-way removes what was made;
//           an overlay left by an interrupted run is adopted and converged)
//   update: converge mtu, address, vxlan parameters, FDB entries, up state, rules
//   delete: rules, vxlan (its FDB goes with it), bridge; already gone is fine
//   read:   what the kernel has, or null without the bridge or the vxlan
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS, type ApplyAction, type ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import type { CommandRunner } from '../system/command.js';
import { convergeBridgeLink, gatewayAddress, isNetworkOrBroadcast } from './bridge-gateway.js';
import type { IpRoute, Link } from './iproute.js';
import { cidrContains, formatCidr, ipv4ToNumber, networkOf, parseCanonicalCidr, type Ipv4Cidr } from './ipv4-cidr.js';
import { checkLinkName, isSafeLinkName } from './link-name.js';
import { VXLAN_OVERHEAD, vxlanNameFor } from './overlay-names.js';
import type { BridgeFirewall } from './nat.js';
import { NetSysctl } from './net-sysctl.js';
import { VxlanLinks, floodEntries, floodRemotes, isPlainFlood, overlayBridgeMac, sortAddresses, type DetailedLink } from './vxlan.js';

const MAX_VNI = 16777215;

const ipv4 = z.string().refine((s) => ipv4ToNumber(s) !== undefined, 'expected an IPv4 address');

const plannedSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string().min(1),
  driver: z.literal('overlay'),
  bridge: z.string(),
  vxlan: z.string(),
  vni: z.number().int().min(1).max(MAX_VNI),
  port: z.number().int().min(1).max(65535),
  /** null: the underlay device's mtu minus the VXLAN overhead. */
  mtu: z.number().int().min(68).max(65535).nullable().optional(),
  subnet: z.string(),
  gateway: ipv4,
  ip_range: z.string(),
  local: ipv4,
  remotes: z.array(ipv4),
  nat: z.boolean(),
  internal: z.literal(false).optional(),
});

/** What a read, an update's prior or a delete needs: the link names, little else. */
const knownSchema = z.looseObject({
  bridge: z.string(),
  vxlan: z.string().optional(),
  name: z.string().optional(),
  gateway: z.string().nullable().optional(),
  ip_range: z.string().nullable().optional(),
  mtu: z.number().nullable().optional(),
});
type Known = z.output<typeof knownSchema>;

interface OverlayWanted {
  readonly name: string;
  readonly bridge: string;
  readonly vxlan: string;
  readonly vni: number;
  readonly port: number;
  readonly mtu: number | null;
  readonly subnet: Ipv4Cidr;
  readonly gateway: string;
  readonly ipRange: string;
  readonly local: string;
  /** Sorted, no duplicates. */
  readonly remotes: readonly string[];
  readonly nat: boolean;
}

/** The link that carries this member's underlay address. */
interface Underlay {
  readonly dev: string;
  readonly mtu: number;
}

function wanted(planned: unknown): OverlayWanted {
  const p = parseState(plannedSchema, planned, 'planned');
  checkLinkName(p.bridge);
  checkLinkName(p.vxlan);
  if (p.vxlan === p.bridge) throw invalidAttribute('planned.vxlan', `must differ from the bridge ${p.bridge}`);
  if (p.id !== undefined && p.id !== p.bridge) throw invalidAttribute('planned.id', `must be the bridge's name ${p.bridge}`);
  const subnet = parseCanonicalCidr(p.subnet);
  if (!subnet)
    throw invalidAttribute('planned.subnet', `${JSON.stringify(p.subnet)} is not an IPv4 network in CIDR form without host bits (like 10.90.0.0/16)`);
  const range = parseCanonicalCidr(p.ip_range);
  if (!range || range.prefix < subnet.prefix || !cidrContains(subnet, range.network)) {
    throw invalidAttribute('planned.ip_range', `${JSON.stringify(p.ip_range)} is not a network inside ${p.subnet}`);
  }
  const gw = ipv4ToNumber(p.gateway)!;
  if (!cidrContains(range, gw)) throw invalidAttribute('planned.gateway', `${p.gateway} is not inside this host's ip_range ${p.ip_range}`);
  if (isNetworkOrBroadcast(subnet, gw)) {
    throw invalidAttribute('planned.gateway', `${p.gateway} is the network or broadcast address of ${p.subnet}`);
  }
  const remotes = sortAddresses([...new Set(p.remotes)]);
  if (remotes.includes(p.local)) throw invalidAttribute('planned.remotes', `lists this host's own underlay address ${p.local}`);
  return {
    name: p.name,
    bridge: p.bridge,
    vxlan: p.vxlan,
    vni: p.vni,
    port: p.port,
    mtu: p.mtu ?? null,
    subnet,
    gateway: p.gateway,
    ipRange: p.ip_range,
    local: p.local,
    remotes,
    nat: p.nat,
  };
}

function underlayOf(links: readonly Link[], local: string): Underlay {
  // tsinfra's own bridges carry container subnets, never the tunnels themselves.
  const candidates = links.filter((l) => !isSafeLinkName(l.name));
  const carrier = candidates.find((l) => l.addresses.some((a) => a.family === 'inet' && a.address === local && a.scope !== 'host'));
  if (carrier) return { dev: carrier.name, mtu: carrier.mtu };
  const own = candidates.flatMap((l) => l.addresses.filter((a) => a.family === 'inet' && a.scope === 'global').map((a) => `${a.address} (${l.name})`));
  throw new AgentFailure(
    'E_UNDERLAY',
    `underlay address ${local} is not an address of this host; its IPv4 addresses are ${own.length ? own.join(', ') : 'none'}; give the overlay one of them for this host`,
    { address: local, addresses: own },
  );
}

/** The mtu of the bridge and the vxlan: the planned one, or the most the underlay carries. */
function mtuFor(want: OverlayWanted, underlay: Underlay): number {
  const max = underlay.mtu - VXLAN_OVERHEAD;
  const why = `the underlay device ${underlay.dev} has mtu ${underlay.mtu} and VXLAN over IPv4 takes ${VXLAN_OVERHEAD} bytes of it`;
  if (max < 68) throw new AgentFailure('E_MTU', `network ${want.name}: ${why}, which leaves less than the IPv4 minimum of 68`);
  if (want.mtu !== null && want.mtu > max) {
    throw new AgentFailure('E_MTU', `network ${want.name}: mtu ${want.mtu} is too large for the overlay: ${why}, so the maximum is ${max}`, {
      mtu: want.mtu,
      maximum: max,
    });
  }
  return want.mtu ?? max;
}

export class OverlayNetwork implements ResourceHandler {
  private readonly vx: VxlanLinks;
  private readonly sysctl: NetSysctl;

  /** `ip` and `firewall` are the instances the bridge driver uses; `runner` runs the `ip`, `bridge` and `sysctl` commands. */
  constructor(
    runner: CommandRunner,
    private readonly ip: IpRoute,
    private readonly firewall: BridgeFirewall,
    private readonly log: AgentLog,
  ) {
    this.vx = new VxlanLinks(runner);
    this.sysctl = new NetSysctl(runner);
  }

  async read(state: ResourceState): Promise<ResourceState | null> {
    const known = parseState(knownSchema, state, 'state');
    const [bridge, vxlan] = this.names(known);
    return this.observe(bridge, vxlan, known.name ?? bridge, known.gateway, known.ip_range ?? null, known.mtu ?? null);
  }

  async import(id: string): Promise<ResourceState | null> {
    checkLinkName(id);
    return this.observe(id, checkLinkName(vxlanNameFor(id)), id, null, null, null);
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(wanted(planned), progress);
      case 'update':
        return this.update(parseState(knownSchema, prior, 'prior'), wanted(planned), progress);
      case 'delete':
        return this.delete(parseState(knownSchema, prior, 'prior'), progress);
    }
  }

  private async create(want: OverlayWanted, progress: Progress): Promise<ResourceState> {
    const links = await this.ip.links();
    const underlay = underlayOf(links, want.local);
    const mtu = mtuFor(want, underlay);
    const bridge = links.find((l) => l.name === want.bridge);
    const vxlan = links.find((l) => l.name === want.vxlan);
    if (bridge || vxlan) {
      // The names derive from the network's name, so tsi links of these exact names are this
      // network's, left by a run that died before recording them in state: adopt and converge.
      // A bridge with an address other than the planned one belongs to another configuration.
      const planned = `${want.gateway}/${want.subnet.prefix}`;
      const v4 = bridge?.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefix}`) ?? [];
      const foreign = bridge && (bridge.kind !== 'bridge' || v4.some((a) => a !== planned)) ? bridge : vxlan && vxlan.kind !== 'vxlan' ? vxlan : undefined;
      if (foreign) {
        const addresses = foreign === bridge && v4.length ? `, addresses ${v4.join(', ')}` : '';
        throw new AgentFailure(
          'E_ALREADY_EXISTS',
          `a link named ${foreign.name} already exists (kind ${foreign.kind ?? 'device'}${addresses}) and is not this network's; delete it, or give the network another name`,
        );
      }
      const found = [bridge, vxlan].flatMap((l) => (l ? [l.name] : [])).join(' and ');
      this.log.info(`adopting existing ${found} (left by an interrupted run)`);
      progress(`adopting existing ${found}`);
      await this.converge(want, underlay, mtu, progress);
      return this.settled(want);
    }
    progress(`creating bridge ${want.bridge}`);
    await this.vx.addBridge(want.bridge, overlayBridgeMac(want.bridge, want.local), mtu);
    try {
      await this.converge(want, underlay, mtu, progress);
      return await this.settled(want);
    } catch (e) {
      this.log.warn(`creating overlay ${want.bridge} failed, removing what was made: ${(e as Error).message}`);
      await this.firewall.remove(want.bridge).catch(() => {});
      await this.ip.deleteLink(want.vxlan).catch(() => {});
      await this.ip.deleteLink(want.bridge).catch(() => {});
      throw e;
    }
  }

  private async update(prior: Known, want: OverlayWanted, progress: Progress): Promise<ResourceState> {
    const [bridge, vxlan] = this.names(prior);
    if (bridge !== want.bridge || vxlan !== want.vxlan) {
      throw new AgentFailure(RPC_ERRORS.invalid, `planned.bridge: renaming ${bridge} to ${want.bridge} needs a replacement, not an update`);
    }
    const links = await this.ip.links();
    const link = links.find((l) => l.name === want.bridge);
    if (!link) throw new AgentFailure('E_NOT_FOUND', `bridge ${want.bridge} no longer exists; refresh and plan again`);
    this.checkKinds(
      link,
      links.find((l) => l.name === want.vxlan),
    );
    const underlay = underlayOf(links, want.local);
    await this.converge(want, underlay, mtuFor(want, underlay), progress);
    return this.settled(want);
  }

  private async delete(prior: Known, progress: Progress): Promise<null> {
    const [bridge, vxlan] = this.names(prior);
    const links = await this.ip.links();
    const bridgeLink = links.find((l) => l.name === bridge);
    const vxlanLink = links.find((l) => l.name === vxlan);
    this.checkKinds(bridgeLink, vxlanLink);
    progress(`removing firewall rules of ${bridge}`);
    await this.firewall.remove(bridge);
    if (vxlanLink) {
      progress(`deleting vxlan ${vxlan}`);
      await this.ip.deleteLink(vxlan);
    }
    if (bridgeLink) {
      progress(`deleting bridge ${bridge}`);
      await this.ip.deleteLink(bridge);
    }
    return null;
  }

  /** Brings bridge, vxlan, FDB and rules to what is wanted; creates the vxlan when it is missing. */
  private async converge(want: OverlayWanted, underlay: Underlay, mtu: number, progress: Progress): Promise<void> {
    const bridge = await this.ip.link(want.bridge);
    if (!bridge) throw new AgentFailure('E_VANISHED', `bridge ${want.bridge} disappeared while it was being configured`);
    await convergeBridgeLink(this.ip, bridge, { ...want, mtu }, progress);

    let vxlan = await this.vx.link(want.vxlan);
    const mismatch = vxlan && this.vxlanMismatch(vxlan, want, underlay);
    if (vxlan && mismatch) {
      // vni, port, local and device cannot be changed on a live device: make it again.
      progress(`recreating ${want.vxlan} (${mismatch})`);
      await this.ip.deleteLink(want.vxlan);
      vxlan = null;
    }
    if (!vxlan) {
      progress(`creating vxlan ${want.vxlan} (vni ${want.vni}, port ${want.port}, ${want.local} on ${underlay.dev})`);
      await this.vx.addVxlan({ name: want.vxlan, vni: want.vni, port: want.port, local: want.local, dev: underlay.dev, mtu });
      vxlan = await this.vx.link(want.vxlan);
      if (!vxlan) throw new AgentFailure('E_VANISHED', `vxlan ${want.vxlan} disappeared right after it was created`);
    }
    if (vxlan.mtu !== mtu) await this.ip.setMtu(want.vxlan, mtu);
    if (vxlan.master !== want.bridge) await this.vx.setMaster(want.vxlan, want.bridge);
    if (!vxlan.up) await this.ip.setUp(want.vxlan);

    await this.convergeFdb(want, progress);

    const masquerade = want.nat ? formatCidr(want.subnet) : null;
    progress(`${masquerade ? 'enabling' : 'disabling'} NAT for ${want.bridge}`);
    await this.firewall.set(want.bridge, { masquerade, isolate: false });
    // Through the runner, so that it lands in the namespace of the `ip` and `nft` commands.
    if (masquerade) await this.sysctl.ensure({ 'net.ipv4.ip_forward': '1' });
  }

  /** One plain all-zero entry per remote member, and no other all-zero entry. */
  private async convergeFdb(want: OverlayWanted, progress: Progress): Promise<void> {
    const flood = floodEntries(await this.vx.fdb(want.vxlan));
    const present = new Set(flood.filter(isPlainFlood).map((e) => e.dst));
    for (const remote of want.remotes) {
      if (present.has(remote)) continue;
      progress(`adding forwarding entry ${want.vxlan} -> ${remote}`);
      await this.vx.appendFlood(want.vxlan, remote);
    }
    for (const e of flood) {
      if (isPlainFlood(e) && want.remotes.includes(e.dst!)) continue;
      progress(`removing forwarding entry ${want.vxlan} -> ${e.dst}`);
      await this.vx.deleteFlood(want.vxlan, e);
    }
  }

  /** Why an existing vxlan cannot serve as this overlay's, or null when it can. */
  private vxlanMismatch(link: DetailedLink, want: OverlayWanted, underlay: Underlay): string | null {
    const v = link.vxlan;
    if (!v) return `it is a ${link.kind ?? 'physical device'}`;
    if (v.vni !== want.vni) return `vni ${v.vni}, want ${want.vni}`;
    if (v.port !== want.port) return `port ${v.port}, want ${want.port}`;
    if (v.local !== want.local) return `local ${v.local ?? 'none'}, want ${want.local}`;
    if (v.dev !== underlay.dev) return `device ${v.dev ?? 'none'}, want ${underlay.dev}`;
    if (!v.learning) return 'learning is off';
    if (v.group !== null) return `it sends to ${v.group}`;
    return null;
  }

  private async settled(want: OverlayWanted): Promise<ResourceState> {
    const state = await this.observe(want.bridge, want.vxlan, want.name, want.gateway, want.ipRange, null);
    if (!state) throw new AgentFailure('E_VANISHED', `overlay ${want.bridge} disappeared while it was being configured`);
    // `bridge fdb del` succeeds silently when nothing matches: check what the kernel kept.
    const remotes = state['remotes'] as string[];
    if (remotes.join() !== want.remotes.join()) {
      throw new AgentFailure('E_FDB', `${want.vxlan} forwards to [${remotes.join(', ')}] instead of [${want.remotes.join(', ')}] after converging`);
    }
    return state;
  }

  private names(known: Known): [string, string] {
    return [checkLinkName(known.bridge), checkLinkName(known.vxlan ?? vxlanNameFor(known.bridge))];
  }

  /** Refuses links of our names that are not a bridge and a vxlan: they are someone else's. */
  private checkKinds(bridge: Pick<Link, 'name' | 'kind'> | null | undefined, vxlan: Pick<Link, 'name' | 'kind'> | null | undefined): void {
    if (bridge && bridge.kind !== 'bridge') {
      throw new AgentFailure('E_NOT_A_BRIDGE', `link ${bridge.name} is a ${bridge.kind ?? 'physical device'}, not a bridge; leaving it alone`);
    }
    if (vxlan && vxlan.kind !== 'vxlan') {
      throw new AgentFailure('E_NOT_A_VXLAN', `link ${vxlan.name} is a ${vxlan.kind ?? 'physical device'}, not a vxlan device; leaving it alone`);
    }
  }

  private async observe(
    bridgeName: string,
    vxlanName: string,
    name: string,
    expectedGateway: string | null | undefined,
    ipRange: string | null,
    recordedMtu: number | null,
  ): Promise<ResourceState | null> {
    const bridge = await this.ip.link(bridgeName);
    const vxlan = bridge ? await this.vx.link(vxlanName) : null;
    this.checkKinds(bridge, vxlan);
    if (!bridge || !vxlan?.vxlan) return null;
    const [fdb, rules] = [await this.vx.fdb(vxlanName), await this.firewall.read(bridgeName)];
    const gw = gatewayAddress(bridge, expectedGateway);
    const subnet = gw ? networkOf(gw.address, gw.prefix) : undefined;
    // One mtu for both links: when one was changed by hand, show that one (it differs from the record).
    const mtu = bridge.mtu === vxlan.mtu || bridge.mtu !== recordedMtu ? bridge.mtu : vxlan.mtu;
    return {
      id: bridgeName,
      name,
      driver: 'overlay',
      bridge: bridgeName,
      vxlan: vxlanName,
      vni: vxlan.vxlan.vni,
      port: vxlan.vxlan.port,
      mtu,
      subnet: subnet ? formatCidr(subnet) : null,
      gateway: gw?.address ?? null,
      ip_range: ipRange,
      local: vxlan.vxlan.local,
      remotes: floodRemotes(fdb),
      nat: rules.nat,
      internal: rules.internal,
    };
  }
}
