// Connecting a container's network namespace to bridge and macvlan networks (see
// container-links.ts for the layout). The namespace is named by the pid of a process inside it.
//
//   attach:  read the host's links (1 `ip`)        bridges: mtu, gateway, subnet; parents; leftovers
//            macvlan networks: their records        (network-records.ts, written by the network resource)
//            remove leftovers of this container     (only after an earlier crash)
//            with macvlans: read the container's links (1 `nsenter ip`), remove leftovers there
//            addresses from the IPAM                (static ip, or the one it holds, or a new one)
//            host side, one `ip -batch`             veths (peers created inside the container);
//                                                   macvlans made, tagged, moved inside and renamed
//            container side, one `nsenter ip -batch` addresses, links up, default route
//            any failure: remove the veths and the macvlans this call made, release the addresses it took
//   detach:  delete the host ends (the peers go with them); with the pid, the macvlans too
//            (without it they go with the namespace); addresses stay reserved
//   release: give the addresses back (the container is deleted)
import { existsSync } from 'node:fs';
import type { AgentLog } from '../log.js';
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import { findProgram, type CommandRunner } from '../system/command.js';
import {
  MAX_NETWORKS_PER_CONTAINER,
  checkContainerId,
  containerMacvlans,
  containerScript,
  containerVeths,
  hostScript,
  hostVethName,
  macForAddress,
  macvlanAlias,
  parseLinks,
  type LinkInfo,
  type LinkPlan,
  type MacvlanPlan,
  type VethPlan,
} from './container-links.js';
import type { Ipam } from './ipam.js';
import { formatCidr, networkOf, parseCanonicalCidr } from './ipv4-cidr.js';
import { checkLinkName } from './link-name.js';
import type { MacvlanRecord, NetworkRecords } from './network-records.js';
import type { PortForwarding, PortMapping } from './port-forwarding.js';

export interface NetworkRequest {
  /** The network's id: its bridge, or a macvlan network's record. */
  readonly bridge: string;
  /** Static address, or null for one from the IPAM. */
  readonly ip: string | null;
  /** The network's ip_range, which dynamic addresses come from. */
  readonly ipRange?: string | null | undefined;
}

export interface ContainerAttachment {
  /** The network's id. */
  readonly bridge: string;
  /** Inside the container: eth0, eth1... */
  readonly ifname: string;
  /** null for a macvlan, which has no host end. */
  readonly hostVeth: string | null;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly mac: string;
}

export interface ObservedAttachment {
  /** The network's id (a veth's master; a macvlan's alias). */
  readonly bridge: string | null;
  /** null for a macvlan, which has no host end. */
  readonly hostVeth: string | null;
  readonly up: boolean;
  /** From inside the container, when its pid was given and it still runs. */
  readonly ifname: string | null;
  readonly ip: string | null;
}

function netnsPath(pid: number): string {
  return `/proc/${pid}/ns/net`;
}

/** What a requested network turned out to be on this host. */
type Target = { readonly kind: 'bridge'; readonly link: LinkInfo } | { readonly kind: 'macvlan'; readonly record: MacvlanRecord; readonly parent: LinkInfo };

export class ContainerNetworks {
  /** `records`: where macvlan networks are found; without it, only bridges are. */
  constructor(
    private readonly runner: CommandRunner,
    private readonly ipam: Ipam,
    private readonly ports: PortForwarding,
    private readonly log: AgentLog,
    private readonly records?: Pick<NetworkRecords, 'get'>,
  ) {}

  /** Connects the namespace of `pid` to the networks, in order (eth0 is the first). Leaves nothing behind on failure. */
  async attach(containerId: string, pid: number, networks: readonly NetworkRequest[]): Promise<ContainerAttachment[]> {
    checkContainerId(containerId);
    if (networks.length > MAX_NETWORKS_PER_CONTAINER) {
      throw new AgentFailure('E_TOO_MANY_NETWORKS', `container ${containerId}: at most ${MAX_NETWORKS_PER_CONTAINER} networks per container`);
    }
    const bridges = networks.map((n) => checkLinkName(n.bridge));
    const twice = bridges.find((b, i) => bridges.indexOf(b) !== i);
    if (twice) throw new AgentFailure('E_DUPLICATE_NETWORK', `container ${containerId}: network ${twice} is listed twice`);
    this.checkProcess(containerId, pid);
    if (networks.length === 0) {
      await this.loopbackUp(pid);
      return [];
    }

    let links = await this.hostLinks();
    if (containerVeths(links, containerId).length > 0 || containerMacvlans(links, containerId).length > 0) {
      this.log.info(`container ${containerId}: removing links left by an earlier start`);
      await this.detach(containerId);
      links = await this.hostLinks();
    }

    const targets = networks.map((n) => this.target(containerId, n, links));
    const macvlans = targets.some((t) => t.kind === 'macvlan');
    // A macvlan whose batch failed before it was tagged is known by its host name, if that is new.
    const hostNames = new Set(links.map((l) => l.name));
    const fresh = new Set(targets.flatMap((t, index) => (t.kind === 'macvlan' ? [hostVethName(containerId, index)] : [])).filter((n) => !hostNames.has(n)));
    if (macvlans) await this.removeMacvlans(containerId, pid, 'removing macvlans left by an earlier start');

    const taken: string[] = [];
    try {
      const plans = networks.map((n, index) => {
        const plan = this.plan(containerId, n, index, targets[index]!);
        if (plan.newlyAllocated) taken.push(n.bridge);
        return plan.link;
      });
      await this.runner.run(['ip', '-batch', '-'], { stdin: hostScript(containerId, pid, plans), mutates: true });
      await this.inNetns(pid, containerScript(plans));
      return plans.map((p) => ({
        bridge: p.kind === 'macvlan' ? p.network : p.bridge,
        ifname: p.ifname,
        hostVeth: p.kind === 'macvlan' ? null : p.hostVeth,
        ip: p.ip,
        prefix: p.prefix,
        gateway: p.gateway,
        mac: p.mac,
      }));
    } catch (e) {
      const warn = (d: Error) => this.log.warn(`container ${containerId}: cleaning up a failed attach: ${d.message}`);
      await this.removeHostLinks(containerId, (l) => l.kind === 'macvlan' && fresh.has(l.name)).catch(warn);
      if (macvlans) await this.removeMacvlans(containerId, pid).catch(warn);
      for (const bridge of taken) this.ipam.release(bridge, containerId);
      if (isAgentFailure(e) && e.code === 'E_COMMAND_FAILED') {
        throw new AgentFailure('E_NETWORK_ATTACH', `container ${containerId}: cannot connect to ${bridges.join(', ')}: ${e.message}`, e.data);
      }
      throw e;
    }
  }

  /**
   * Removes the container's veths (their peers go with them) and, given the pid of a
   * process in its namespace, its macvlans (without it, they go with the namespace).
   * Its addresses stay reserved.
   */
  async detach(containerId: string, pid?: number): Promise<void> {
    checkContainerId(containerId);
    if (pid !== undefined) await this.removeMacvlans(containerId, pid);
    await this.removeHostLinks(containerId, () => false);
  }

  /** Deletes the container's links in the host's namespace: veths, macvlans a failed move left there, and those `alsoDelete` picks. */
  private async removeHostLinks(containerId: string, alsoDelete: (l: LinkInfo) => boolean): Promise<void> {
    const ours = (links: readonly LinkInfo[]) => [
      ...new Set([...containerVeths(links, containerId), ...containerMacvlans(links, containerId), ...links.filter(alsoDelete)].map((l) => l.name)),
    ];
    const doomed = ours(await this.hostLinks());
    if (doomed.length === 0) return;
    // -force: a link whose namespace died meanwhile is already gone; carry on with the others.
    const script = doomed.map((name) => `link del dev ${name}`).join('\n') + '\n';
    await this.runner.tryRun(['ip', '-force', '-batch', '-'], { stdin: script, mutates: true });
    const left = ours(await this.hostLinks());
    if (left.length > 0) {
      throw new AgentFailure('E_NETWORK_DETACH', `container ${containerId}: cannot delete ${left.join(', ')}; delete them with \`ip link del\``);
    }
  }

  /** Gives the container's addresses back on every network. */
  async release(containerId: string): Promise<void> {
    checkContainerId(containerId);
    for (const [bridge, ip] of Object.entries(this.ipam.releaseAll(containerId))) this.log.info(`container ${containerId}: released ${ip} on ${bridge}`);
  }

  /**
   * The container's links that still exist, in network order: veths from the host's side;
   * with its pid, also what the container side has, and its macvlans (seen only from inside).
   */
  async observe(containerId: string, pid?: number): Promise<ObservedAttachment[]> {
    checkContainerId(containerId);
    const veths = containerVeths(await this.hostLinks(), containerId);
    let inside: LinkInfo[] = [];
    if (pid !== undefined && existsSync(netnsPath(pid))) {
      const argv = ['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-j', '-d', 'addr', 'show'];
      const out = await this.runner.tryRun(argv);
      if (out.code === 0) inside = parseLinks(out.stdout, argv);
    }
    const observed = [
      ...veths.map((v) => {
        const peer = inside.find((l) => l.index === v.peerIndex && l.peerIndex === v.index);
        const seen: ObservedAttachment = { bridge: v.master, hostVeth: v.name, up: v.up, ifname: peer?.name ?? null, ip: peer?.ipv4[0]?.address ?? null };
        return { index: v.networkIndex, seen };
      }),
      ...containerMacvlans(inside, containerId).map((m) => {
        const seen: ObservedAttachment = { bridge: m.network, hostVeth: null, up: m.up, ifname: m.name, ip: m.ipv4[0]?.address ?? null };
        return { index: m.networkIndex, seen };
      }),
    ];
    return observed.sort((a, b) => a.index - b.index).map((o) => o.seen);
  }

  /** See PortForwarding.publish. */
  async publish(containerId: string, containerIp: string, ports: readonly PortMapping[]): Promise<void> {
    await this.ports.publish(containerId, containerIp, ports);
  }

  unpublish(containerId: string): Promise<void> {
    return this.ports.unpublish(containerId);
  }

  /** Brings `lo` up in the namespace: a container with network_mode "none" still has its loopback. */
  async loopbackUp(pid: number): Promise<void> {
    await this.inNetns(pid, 'link set dev lo up\n');
  }

  /** A bridge link of that name, else a macvlan network's record (with its parent); no side effects. */
  private target(containerId: string, n: NetworkRequest, links: readonly LinkInfo[]): Target {
    const bridge = links.find((l) => l.name === n.bridge);
    if (bridge?.kind === 'bridge') return { kind: 'bridge', link: bridge };
    const record = this.records?.get(n.bridge);
    if (!record) {
      throw new AgentFailure(
        'E_NETWORK_NOT_FOUND',
        `container ${containerId}: network bridge ${n.bridge} does not exist on this host; apply the network first`,
      );
    }
    const parent = links.find((l) => l.name === record.parent);
    if (!parent) {
      throw new AgentFailure(
        'E_NETWORK_NOT_READY',
        `container ${containerId}: the parent ${record.parent} of macvlan network ${n.bridge} does not exist on this host; apply the network again`,
      );
    }
    return { kind: 'macvlan', record, parent };
  }

  private plan(containerId: string, n: NetworkRequest, index: number, target: Target): { link: LinkPlan; newlyAllocated: boolean } {
    if (target.kind === 'macvlan') return this.planMacvlan(containerId, n, index, target.record, target.parent);
    const bridge = target.link;
    const gw = bridge.ipv4[0];
    if (!gw)
      throw new AgentFailure(
        'E_NETWORK_NOT_READY',
        `container ${containerId}: network bridge ${n.bridge} has no IPv4 address (gateway); apply the network again`,
      );
    const subnet = networkOf(gw.address, gw.prefix)!;
    const heldBefore = this.ipam.addressOf(n.bridge, containerId);
    const ip = this.ipam.allocate({
      network: n.bridge,
      subnet: formatCidr(subnet),
      gateway: gw.address,
      ipRange: n.ipRange ?? this.ipam.rangeOf(n.bridge),
      owner: containerId,
      requested: n.ip,
    });
    const link: VethPlan = {
      index,
      bridge: n.bridge,
      hostVeth: hostVethName(containerId, index),
      ifname: `eth${index}`,
      mtu: bridge.mtu,
      ip,
      prefix: gw.prefix,
      gateway: gw.address,
      mac: macForAddress(ip),
    };
    return { link, newlyAllocated: heldBefore === null };
  }

  private planMacvlan(
    containerId: string,
    n: NetworkRequest,
    index: number,
    record: MacvlanRecord,
    parent: LinkInfo,
  ): { link: MacvlanPlan; newlyAllocated: boolean } {
    const subnet = parseCanonicalCidr(record.subnet);
    if (!subnet) throw new AgentFailure('E_NETWORK_RECORD', `network ${record.id}: its record holds the subnet ${JSON.stringify(record.subnet)}`);
    const heldBefore = this.ipam.addressOf(record.id, containerId);
    const ip = this.ipam.allocate({
      network: record.id,
      subnet: record.subnet,
      gateway: record.gateway,
      ipRange: n.ipRange ?? record.ip_range,
      owner: containerId,
      requested: n.ip,
    });
    const link: MacvlanPlan = {
      kind: 'macvlan',
      index,
      network: record.id,
      parent: record.parent,
      mode: record.mode,
      hostName: hostVethName(containerId, index),
      ifname: `eth${index}`,
      mtu: record.mtu ?? parent.mtu,
      ip,
      prefix: subnet.prefix,
      gateway: record.gateway,
      mac: macForAddress(ip),
      alias: macvlanAlias(containerId, index, record.id),
      defaultRoute: !record.internal,
    };
    return { link, newlyAllocated: heldBefore === null };
  }

  /** Deletes the container's macvlans inside the namespace of `pid`; a dead namespace has none. */
  private async removeMacvlans(containerId: string, pid: number, why?: string): Promise<void> {
    if (!existsSync(netnsPath(pid))) return;
    const doomed = containerMacvlans(await this.containerLinks(pid), containerId);
    if (doomed.length === 0) return;
    if (why) this.log.info(`container ${containerId}: ${why}`);
    const script = doomed.map((l) => `link del dev ${l.name}`).join('\n') + '\n';
    // -force: carry on with the others if one is gone meanwhile.
    await this.runner.tryRun(['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-force', '-batch', '-'], { stdin: script, mutates: true });
    const left = containerMacvlans(await this.containerLinks(pid), containerId);
    if (left.length > 0) {
      throw new AgentFailure(
        'E_NETWORK_DETACH',
        `container ${containerId}: cannot delete ${left.map((l) => l.name).join(', ')} inside process ${pid}'s namespace`,
      );
    }
  }

  private checkProcess(containerId: string, pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`bug: ${pid} is not a pid`);
    if (!existsSync(netnsPath(pid))) {
      throw new AgentFailure('E_NO_PROCESS', `container ${containerId}: process ${pid} has exited, so its network namespace cannot be connected`);
    }
  }

  private async hostLinks(): Promise<LinkInfo[]> {
    const argv = ['ip', '-j', '-d', 'addr', 'show'];
    return parseLinks((await this.runner.run(argv)).stdout, argv);
  }

  private async containerLinks(pid: number): Promise<LinkInfo[]> {
    const argv = ['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-j', '-d', 'addr', 'show'];
    return parseLinks((await this.runner.run(argv)).stdout, argv);
  }

  private async inNetns(pid: number, script: string): Promise<void> {
    await this.runner.run(['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-batch', '-'], { stdin: script, mutates: true });
  }

  /** nsenter looks programs up on its own PATH, which may lack the sbin directories. */
  private ipProgram(): string {
    return findProgram('ip') ?? 'ip';
  }
}
