// The `network` resource with driver "bridge": a Linux bridge named by the engine
// (`tsi-...`), the gateway address on it, and nftables rules for NAT or isolation.
//
//   create: ip link add NAME mtu M type bridge -> ip addr add GW/P -> up -> rules
//           (a failure half-way removes what was made, so a retry starts clean)
//   update: converge mtu, address, up, rules on the existing link
//   delete: rules, then the link; already gone is fine
//   read:   what the kernel has (mtu, address, rules), or null without the link
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import type { CommandOutput } from '../system/command.js';
import { AgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS, type ApplyAction, type ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { convergeBridgeLink, gatewayAddress, isNetworkOrBroadcast } from './bridge-gateway.js';
import { enableIpv4Forwarding } from './ip-forward.js';
import type { IpRoute, Link } from './iproute.js';
import { cidrContains, formatCidr, ipv4ToNumber, networkOf, parseCanonicalCidr, type Ipv4Cidr } from './ipv4-cidr.js';
import { checkLinkName } from './link-name.js';
import type { BridgeFirewall, BridgeRulesFound } from './nat.js';

const plannedSchema = z.looseObject({
  name: z.string().min(1),
  driver: z.literal('bridge'),
  bridge: z.string(),
  subnet: z.string(),
  gateway: z.string(),
  ip_range: z.string().nullable().optional(),
  nat: z.boolean(),
  /** null: leave the kernel's default. */
  mtu: z.number().int().min(68).max(65535).nullable().optional(),
  internal: z.boolean(),
});

/** What a read, an update's prior or a delete needs: the link name, little else. */
const knownSchema = z.looseObject({
  bridge: z.string(),
  name: z.string().optional(),
  gateway: z.string().nullable().optional(),
  ip_range: z.string().nullable().optional(),
});

interface BridgeWanted {
  readonly name: string;
  readonly bridge: string;
  readonly subnet: Ipv4Cidr;
  readonly gateway: string;
  readonly ipRange: string | null;
  readonly nat: boolean;
  readonly mtu: number | null;
  readonly internal: boolean;
}

function wanted(planned: unknown): BridgeWanted {
  const p = parseState(plannedSchema, planned, 'planned');
  checkLinkName(p.bridge);
  const subnet = parseCanonicalCidr(p.subnet);
  if (!subnet) throw invalidAttribute('planned.subnet', `${JSON.stringify(p.subnet)} is not an IPv4 network in CIDR form without host bits (like 10.1.0.0/24)`);
  const gw = ipv4ToNumber(p.gateway);
  if (gw === undefined || !cidrContains(subnet, gw)) {
    throw invalidAttribute('planned.gateway', `${JSON.stringify(p.gateway)} is not an IPv4 address inside ${p.subnet}`);
  }
  if (isNetworkOrBroadcast(subnet, gw)) {
    throw invalidAttribute('planned.gateway', `${p.gateway} is the network or broadcast address of ${p.subnet}`);
  }
  return {
    name: p.name,
    bridge: p.bridge,
    subnet,
    gateway: p.gateway,
    ipRange: p.ip_range ?? null,
    nat: p.nat,
    mtu: p.mtu ?? null,
    internal: p.internal,
  };
}

export class BridgeNetwork implements ResourceHandler {
  constructor(
    private readonly ip: IpRoute,
    private readonly firewall: BridgeFirewall,
    private readonly log: AgentLog,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const known = parseState(knownSchema, state, 'state');
    checkLinkName(known.bridge);
    return this.observe(known.bridge, known.name ?? known.bridge, known.gateway, known.ip_range ?? null);
  }

  async import(id: string): Promise<ResourceState | null> {
    checkLinkName(id);
    return this.observe(id, id, null, null);
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(wanted(planned), progress);
      case 'update':
        return this.update(parseState(knownSchema, prior, 'prior'), wanted(planned), progress);
      case 'delete':
        return this.delete(parseState(knownSchema, prior, 'prior').bridge, progress);
    }
  }

  private async create(want: BridgeWanted, progress: Progress): Promise<ResourceState> {
    progress(`creating bridge ${want.bridge}`);
    // Straight to adding it (a fresh host's path: one ip process that also reads the new
    // link back); only when the add fails is the name looked at.
    const made = await this.ip.tryCreateBridge(want.bridge, want.mtu, `${want.gateway}/${want.subnet.prefix}`);
    if (!made.made && made.stage === 'add') {
      const existing = await this.ip.link(want.bridge);
      if (!existing) throw new AgentFailure('E_COMMAND_FAILED', `ip link add ${want.bridge} failed: ${failureText(made.output)}`);
      return this.adopt(existing, want, progress);
    }
    let rules: BridgeRulesFound;
    try {
      if (!made.made) throw new AgentFailure('E_COMMAND_FAILED', `configuring the new bridge ${want.bridge} failed: ${failureText(made.output)}`);
      rules = await this.setRules(want, progress);
    } catch (e) {
      this.log.warn(`creating ${want.bridge} failed, removing what was made: ${(e as Error).message}`);
      await this.firewall.remove(want.bridge).catch(() => {});
      await this.ip.deleteLink(want.bridge).catch(() => {});
      throw e;
    }
    return describe(made.link, want.name, want.gateway, want.ipRange, rules);
  }

  /**
   * Bridge names are derived from the network's name, so a tsi- bridge of this exact name
   * is this network's, left by a run that died between creating it and recording it in
   * state: adopt it and converge, so that the next apply finishes the job. Only a bridge
   * that carries no address, or exactly the planned one, is this run's: one with another
   * address belongs to another configuration and is left alone.
   */
  private async adopt(existing: Link, want: BridgeWanted, progress: Progress): Promise<ResourceState> {
    const planned = `${want.gateway}/${want.subnet.prefix}`;
    const v4 = existing.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefix}`);
    if (existing.kind !== 'bridge' || v4.some((a) => a !== planned)) {
      throw new AgentFailure(
        'E_ALREADY_EXISTS',
        `a link named ${want.bridge} already exists (kind ${existing.kind ?? 'device'}${v4.length ? `, addresses ${v4.join(', ')}` : ''}) and is not this network's; delete it, import it with \`tsinfra import\`, or give the network another name`,
      );
    }
    this.log.info(`adopting existing bridge ${want.bridge} (left by an interrupted run)`);
    progress(`adopting existing bridge ${want.bridge}`);
    return this.settled(want, await this.converge(existing, want, progress));
  }

  private async update(prior: z.output<typeof knownSchema>, want: BridgeWanted, progress: Progress): Promise<ResourceState> {
    if (prior.bridge !== want.bridge) {
      throw new AgentFailure(RPC_ERRORS.invalid, `planned.bridge: renaming ${prior.bridge} to ${want.bridge} needs a replacement, not an update`);
    }
    const link = await this.bridgeLink(want.bridge);
    if (!link) throw new AgentFailure('E_NOT_FOUND', `bridge ${want.bridge} no longer exists; refresh and plan again`);
    return this.settled(want, await this.converge(link, want, progress));
  }

  private async delete(bridge: string, progress: Progress): Promise<null> {
    checkLinkName(bridge);
    const link = await this.bridgeLink(bridge);
    progress(`removing firewall rules of ${bridge}`);
    await this.firewall.remove(bridge);
    if (link) {
      progress(`deleting bridge ${bridge}`);
      await this.ip.deleteLink(bridge);
    }
    return null;
  }

  /** Brings an existing bridge to the wanted mtu, address, state and rules; returns the rules it now has. */
  private async converge(link: Link, want: BridgeWanted, progress: Progress): Promise<BridgeRulesFound> {
    await convergeBridgeLink(this.ip, link, want, progress);
    return this.setRules(want, progress);
  }

  private async setRules(want: BridgeWanted, progress: Progress): Promise<BridgeRulesFound> {
    // An internal network never reaches out, so it is never masqueraded.
    const masquerade = want.nat && !want.internal ? formatCidr(want.subnet) : null;
    progress(`${masquerade ? 'enabling' : 'disabling'} NAT${want.internal ? ', isolating' : ''} for ${want.bridge}`);
    await this.firewall.set(want.bridge, { masquerade, isolate: want.internal });
    if (masquerade) await enableIpv4Forwarding(this.log);
    return { nat: masquerade !== null, internal: want.internal };
  }

  /** The state after a change: the link as the kernel has it, the rules as converge just made them (no second listing). */
  private async settled(want: BridgeWanted, rules: BridgeRulesFound): Promise<ResourceState> {
    const state = await this.observe(want.bridge, want.name, want.gateway, want.ipRange, rules);
    if (!state) throw new AgentFailure('E_VANISHED', `bridge ${want.bridge} disappeared while it was being configured`);
    return state;
  }

  /** The link if it is a bridge, null if absent; refuses other kinds of link. */
  private async bridgeLink(bridge: string): Promise<Link | null> {
    const link = await this.ip.link(bridge);
    if (link && link.kind !== 'bridge') {
      throw new AgentFailure('E_NOT_A_BRIDGE', `link ${bridge} is a ${link.kind ?? 'physical device'}, not a bridge; leaving it alone`);
    }
    return link;
  }

  private async observe(
    bridge: string,
    name: string,
    expectedGateway: string | null | undefined,
    ipRange: string | null,
    knownRules?: BridgeRulesFound,
  ): Promise<ResourceState | null> {
    const link = await this.bridgeLink(bridge);
    if (!link) return null;
    const rules = knownRules ?? (await this.firewall.read(bridge));
    return describe(link, name, expectedGateway, ipRange, rules);
  }
}

/** A bridge's state from its link and its rules. */
function describe(link: Link, name: string, expectedGateway: string | null | undefined, ipRange: string | null, rules: BridgeRulesFound): ResourceState {
  const gw = gatewayAddress(link, expectedGateway);
  const subnet = gw ? networkOf(gw.address, gw.prefix) : undefined;
  return {
    id: link.name,
    name,
    driver: 'bridge',
    bridge: link.name,
    subnet: subnet ? formatCidr(subnet) : null,
    gateway: gw?.address ?? null,
    ip_range: ipRange,
    nat: rules.nat,
    mtu: link.mtu,
    internal: rules.internal,
  };
}

function failureText(out: CommandOutput): string {
  return out.stderr.trim() || `exit ${out.code}`;
}
