// A throw-away "LAN" for real-kernel macvlan tests: a bridge in a namespace of its own,
// and "hosts" (namespaces of their own) joined to it by veths, eth0 inside each; a
// host's macvlan driver with the supervisor's side, as in production; and the planned
// state of a macvlan network.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { silentLog } from '../../../agent/log.js';
import { ContainerNetworks } from '../../../agent/network/container-networks.js';
import { IpRoute } from '../../../agent/network/iproute.js';
import { Ipam } from '../../../agent/network/ipam.js';
import { MacvlanNetwork } from '../../../agent/network/macvlan.js';
import { NetworkRecords } from '../../../agent/network/network-records.js';
import { PortForwarding } from '../../../agent/network/port-forwarding.js';
import type { ResourceState } from '../../../agent/rpc/protocol.js';
import { createNetns, deleteNetns } from '../throwaway-netns.js';
import { NetnsRunner } from './netns-fixtures.js';
import { must } from './netns-assertions.js';

const run = promisify(execFile);

export class ThrowawayLan {
  /** The bridge in the LAN's namespace. */
  readonly bridge = 'lanbr';
  private readonly hosts: string[] = [];

  private constructor(readonly netns: string) {}

  /** The LAN's namespace and bridge, up; `routerCidr` (the LAN's router) goes on the bridge when given. */
  static async create(routerCidr?: string): Promise<ThrowawayLan> {
    const lan = new ThrowawayLan(await createNetns());
    try {
      await must(lan.netns, ['ip', 'link', 'add', lan.bridge, 'type', 'bridge']);
      if (routerCidr) await must(lan.netns, ['ip', 'addr', 'add', routerCidr, 'dev', lan.bridge]);
      await must(lan.netns, ['ip', 'link', 'set', lan.bridge, 'up']);
    } catch (e) {
      await lan.close();
      throw e;
    }
    return lan;
  }

  /** A new host namespace whose eth0 is on the LAN; `port` names the veth's end in the LAN. */
  async addHost(port: string): Promise<string> {
    const netns = await createNetns();
    this.hosts.push(netns);
    // Made under another name: Linux 6.1 refuses a new link named like one of the caller's namespace (eth0).
    await run('ip', ['link', 'add', `tsit${port}`, 'netns', netns, 'type', 'veth', 'peer', 'name', port, 'netns', this.netns]);
    await must(netns, ['ip', 'link', 'set', `tsit${port}`, 'name', 'eth0']);
    await must(netns, ['ip', 'link', 'set', 'eth0', 'up']);
    await must(this.netns, ['ip', 'link', 'set', port, 'master', this.bridge, 'up']);
    return netns;
  }

  /** Deletes the LAN and every host namespace on it. */
  async close(): Promise<void> {
    for (const n of [this.netns, ...this.hosts]) await deleteNetns(n);
  }
}

/** A host's macvlan driver over `stateDir`, and what the supervisor uses to attach containers. */
export interface MacvlanHost {
  readonly netns: string;
  readonly runner: NetnsRunner;
  readonly ip: IpRoute;
  readonly records: NetworkRecords;
  readonly macvlan: MacvlanNetwork;
  readonly networks: ContainerNetworks;
}

export function macvlanHost(netns: string, stateDir: string): MacvlanHost {
  const runner = new NetnsRunner(netns);
  const ip = new IpRoute(runner);
  const records = new NetworkRecords(stateDir);
  return {
    netns,
    runner,
    ip,
    records,
    macvlan: new MacvlanNetwork(ip, records, silentLog),
    // The supervisor has its own instances over the same state dir, as in production.
    networks: new ContainerNetworks(runner, new Ipam(stateDir), new PortForwarding(runner), silentLog, new NetworkRecords(stateDir)),
  };
}

/** What identifies a macvlan network on the LAN; the rest of its planned state has defaults. */
export interface MacvlanOnLan {
  readonly id: string;
  readonly name: string;
  readonly parent: string;
  readonly vlan: number | null;
  readonly subnet: string;
  readonly gateway: string;
}

/** The planned state of a macvlan network: mode bridge, no ip_range, mtu, PROMISC or isolation unless `over` says so. */
export function plannedMacvlan(network: MacvlanOnLan, over: Record<string, unknown> = {}): ResourceState {
  const { id, name, parent, vlan, subnet, gateway } = network;
  return {
    id,
    name,
    driver: 'macvlan',
    parent,
    vlan,
    mode: 'bridge',
    subnet,
    gateway,
    ip_range: null,
    mtu: null,
    promiscuous: false,
    internal: false,
    ...over,
  };
}
