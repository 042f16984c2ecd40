// Who sees whom in /etc/hosts: the running containers of each network on this host, and
// for each container the peers it shares a network with, under their resource name and
// their aliases on that network (as Docker's per-network aliases), plus the containers
// of its networks on other hosts (remote-peers.ts). Pure bookkeeping: the supervisor
// renders (hosts-file.ts) and writes the files of the members returned by `join`,
// `leave` and `onNetwork`.
import type { HostsPeer } from './hosts-file.js';
import type { RemotePeer } from './remote-peers.js';

export interface HostsMembership {
  readonly bridge: string;
  readonly ip: string;
  readonly aliases: readonly string[];
}

export interface HostsMember {
  /** Container id. */
  readonly id: string;
  /** The name every peer knows it by (the resource name). */
  readonly name: string;
  readonly networks: readonly HostsMembership[];
}

/** The containers of a network on other hosts. */
export type RemotePeerLookup = (network: string) => readonly RemotePeer[];

export class HostsDirectory {
  private readonly members = new Map<string, HostsMember>();

  constructor(
    members: Iterable<HostsMember> = [],
    private readonly remote: RemotePeerLookup = () => [],
  ) {
    for (const m of members) this.members.set(m.id, m);
  }

  /**
   * Adds or replaces a member; returns the ids whose hosts files must be rewritten:
   * the member itself and everyone sharing a network with it, before or after.
   */
  join(member: HostsMember): string[] {
    const before = this.neighbours(member.id);
    this.members.set(member.id, member);
    return [...new Set([member.id, ...before, ...this.neighbours(member.id)])];
  }

  /** Removes a member; returns the ids of those that shared a network with it. */
  leave(id: string): string[] {
    const before = this.neighbours(id);
    this.members.delete(id);
    return before;
  }

  has(id: string): boolean {
    return this.members.has(id);
  }

  /** The member's addresses, in the order of its networks. */
  ownAddresses(id: string): string[] {
    return (this.members.get(id)?.networks ?? []).map((n) => n.ip);
  }

  /** The member's own names: its resource name and its aliases on every network. */
  ownNames(id: string): string[] {
    const m = this.members.get(id);
    return m ? [...new Set([m.name, ...m.networks.flatMap((n) => n.aliases)])] : [];
  }

  /** Every other member reachable on a shared network, once per shared network, the member's network order first. */
  peersOf(id: string): HostsPeer[] {
    const me = this.members.get(id);
    if (!me) return [];
    const peers: HostsPeer[] = [];
    for (const mine of me.networks) {
      for (const other of this.members.values()) {
        if (other.id === id) continue;
        for (const theirs of other.networks) {
          if (theirs.bridge === mine.bridge) peers.push({ ip: theirs.ip, names: [...new Set([other.name, ...theirs.aliases])] });
        }
      }
    }
    return peers;
  }

  /** The containers on other hosts of the member's networks, each network once, in the member's network order. */
  remotePeersOf(id: string): HostsPeer[] {
    const bridges = new Set((this.members.get(id)?.networks ?? []).map((n) => n.bridge));
    return [...bridges].flatMap((b) => this.remote(b).map((p) => ({ ip: p.ip, names: [...new Set([p.name, ...p.aliases])] })));
  }

  /** Ids of the members on a network: whose files change when its remote peers do. */
  onNetwork(bridge: string): string[] {
    return [...this.members.values()].filter((m) => m.networks.some((n) => n.bridge === bridge)).map((m) => m.id);
  }

  /** Ids of the other members sharing at least one network with `id`. */
  neighbours(id: string): string[] {
    const me = this.members.get(id);
    if (!me) return [];
    const bridges = new Set(me.networks.map((n) => n.bridge));
    return [...this.members.values()].filter((o) => o.id !== id && o.networks.some((n) => bridges.has(n.bridge))).map((o) => o.id);
  }
}
