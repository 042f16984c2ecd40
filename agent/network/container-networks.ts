// Connecting a container's network namespace to bridge networks (see container-links.ts
// for the layout). The namespace is named by the pid of a process inside it.
//
//   attach:  read the host's links (1 `ip`)        bridges: mtu, gateway, subnet; leftovers
//            remove leftovers of this container     (only after an earlier crash)
//            addresses from the IPAM                (static ip, or the one it holds, or a new one)
//            host side, one `ip -batch`             veths, peers created inside the container
//            container side, one `nsenter ip -batch` addresses, links up, default route
//            any failure: remove the veths, release the addresses this call took
//   detach:  delete the host ends (the peers go with them); addresses stay reserved
//   release: give the addresses back (the container is deleted)
import { existsSync } from 'node:fs';
import type { AgentLog } from '../log.js';
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import { findProgram, type CommandRunner } from '../system/command.js';
import {
  MAX_NETWORKS_PER_CONTAINER,
  checkContainerId,
  containerScript,
  containerVeths,
  hostScript,
  hostVethName,
  macForAddress,
  parseLinks,
  type LinkInfo,
  type VethPlan,
} from './container-links.js';
import type { Ipam } from './ipam.js';
import { formatCidr, networkOf } from './ipv4-cidr.js';
import { checkLinkName } from './link-name.js';
import type { PortForwarding, PortMapping } from './port-forwarding.js';

export interface NetworkRequest {
  /** The network's bridge. */
  readonly bridge: string;
  /** Static address, or null for one from the IPAM. */
  readonly ip: string | null;
  /** The network's ip_range, which dynamic addresses come from. */
  readonly ipRange?: string | null | undefined;
}

export interface ContainerAttachment {
  readonly bridge: string;
  /** Inside the container: eth0, eth1... */
  readonly ifname: string;
  readonly hostVeth: string;
  readonly ip: string;
  readonly prefix: number;
  readonly gateway: string;
  readonly mac: string;
}

export interface ObservedAttachment {
  readonly bridge: string | null;
  readonly hostVeth: string;
  readonly up: boolean;
  /** From inside the container, when its pid was given and it still runs. */
  readonly ifname: string | null;
  readonly ip: string | null;
}

function netnsPath(pid: number): string {
  return `/proc/${pid}/ns/net`;
}

export class ContainerNetworks {
  constructor(
    private readonly runner: CommandRunner,
    private readonly ipam: Ipam,
    private readonly ports: PortForwarding,
    private readonly log: AgentLog,
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
    if (containerVeths(links, containerId).length > 0) {
      this.log.info(`container ${containerId}: removing links left by an earlier start`);
      await this.detach(containerId);
      links = await this.hostLinks();
    }

    const taken: string[] = [];
    try {
      const plans = networks.map((n, index) => {
        const plan = this.plan(containerId, n, index, links);
        if (plan.newlyAllocated) taken.push(n.bridge);
        return plan.veth;
      });
      await this.runner.run(['ip', '-batch', '-'], { stdin: hostScript(containerId, pid, plans), mutates: true });
      await this.inNetns(pid, containerScript(plans));
      return plans.map((p) => ({ bridge: p.bridge, ifname: p.ifname, hostVeth: p.hostVeth, ip: p.ip, prefix: p.prefix, gateway: p.gateway, mac: p.mac }));
    } catch (e) {
      await this.detach(containerId).catch((d: Error) => this.log.warn(`container ${containerId}: cleaning up a failed attach: ${d.message}`));
      for (const bridge of taken) this.ipam.release(bridge, containerId);
      if (isAgentFailure(e) && e.code === 'E_COMMAND_FAILED') {
        throw new AgentFailure('E_NETWORK_ATTACH', `container ${containerId}: cannot connect to ${bridges.join(', ')}: ${e.message}`, e.data);
      }
      throw e;
    }
  }

  /** Removes the container's veths (their peers go with them). Its addresses stay reserved. */
  async detach(containerId: string): Promise<void> {
    checkContainerId(containerId);
    const veths = containerVeths(await this.hostLinks(), containerId);
    if (veths.length === 0) return;
    // -force: a link whose namespace died meanwhile is already gone; carry on with the others.
    const script = veths.map((v) => `link del dev ${v.name}`).join('\n') + '\n';
    await this.runner.tryRun(['ip', '-force', '-batch', '-'], { stdin: script, mutates: true });
    const left = containerVeths(await this.hostLinks(), containerId);
    if (left.length > 0) {
      throw new AgentFailure(
        'E_NETWORK_DETACH',
        `container ${containerId}: cannot delete ${left.map((l) => l.name).join(', ')}; delete them with \`ip link del\``,
      );
    }
  }

  /** Gives the container's addresses back on every network. */
  async release(containerId: string): Promise<void> {
    checkContainerId(containerId);
    for (const [bridge, ip] of Object.entries(this.ipam.releaseAll(containerId))) this.log.info(`container ${containerId}: released ${ip} on ${bridge}`);
  }

  /** The container's veths that still exist, in network order; with its pid, also what the container side has. */
  async observe(containerId: string, pid?: number): Promise<ObservedAttachment[]> {
    checkContainerId(containerId);
    const veths = containerVeths(await this.hostLinks(), containerId).sort((a, b) => a.networkIndex - b.networkIndex);
    let inside: LinkInfo[] = [];
    if (pid !== undefined && veths.length > 0 && existsSync(netnsPath(pid))) {
      const argv = ['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-j', '-d', 'addr', 'show'];
      const out = await this.runner.tryRun(argv);
      if (out.code === 0) inside = parseLinks(out.stdout, argv);
    }
    return veths.map((v) => {
      const peer = inside.find((l) => l.index === v.peerIndex && l.peerIndex === v.index);
      return { bridge: v.master, hostVeth: v.name, up: v.up, ifname: peer?.name ?? null, ip: peer?.ipv4[0]?.address ?? null };
    });
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

  private plan(containerId: string, n: NetworkRequest, index: number, links: readonly LinkInfo[]): { veth: VethPlan; newlyAllocated: boolean } {
    const bridge = links.find((l) => l.name === n.bridge);
    if (!bridge || bridge.kind !== 'bridge') {
      throw new AgentFailure(
        'E_NETWORK_NOT_FOUND',
        `container ${containerId}: network bridge ${n.bridge} does not exist on this host; apply the network first`,
      );
    }
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
    const veth: VethPlan = {
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
    return { veth, newlyAllocated: heldBefore === null };
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

  private async inNetns(pid: number, script: string): Promise<void> {
    await this.runner.run(['nsenter', `--net=${netnsPath(pid)}`, this.ipProgram(), '-batch', '-'], { stdin: script, mutates: true });
  }

  /** nsenter looks programs up on its own PATH, which may lack the sbin directories. */
  private ipProgram(): string {
    return findProgram('ip') ?? 'ip';
  }
}
