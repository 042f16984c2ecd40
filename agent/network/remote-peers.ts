// Containers of a network that live on other hosts (overlay networks): the engine sends
// each member host the list of the others' containers (`network.peers`), and the
// supervisor lists them in the managed /etc/hosts of the containers on that network.
// Kept on disk, one file per network, so that a new supervisor (an upgrade, a crash)
// and containers started later still know them:
//   <state>/networks/<network id>.peers.json   0600, replaced atomically
// The directory is shared with the network records of other drivers (`<id>.json`):
// only files ending in `.peers.json` are ours.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { replaceFileDurably } from '../system/durable-file.js';
import { checkHostName } from './hosts-file.js';
import { checkLinkName, isSafeLinkName } from './link-name.js';

export interface RemotePeer {
  /** The container's resource name: what its peers resolve it by. */
  readonly name: string;
  /** Its aliases on this network. */
  readonly aliases: readonly string[];
  readonly ip: string;
}

const SUFFIX = '.peers.json';

const peersFile = z.object({
  network: z.string(),
  peers: z.array(z.object({ name: z.string(), aliases: z.array(z.string()), ip: z.string() })),
});

/**
 * Checks every name and address, drops repeated aliases, and orders the peers (by name,
 * then address): the same set in another order is the same list.
 */
export function normalizePeers(network: string, peers: readonly RemotePeer[]): RemotePeer[] {
  const out = peers.map((p, i) => {
    const where = `network ${network}: peer ${i + 1}`;
    const name = checkHostName(p.name, `${where}: name`);
    const aliases = [...new Set(p.aliases.map((a) => checkHostName(a, `${where} (${name}): alias`)))].filter((a) => a !== name);
    if (!isIPv4(p.ip)) throw new AgentFailure('E_INVALID_IP', `${where} (${name}): ${JSON.stringify(p.ip)} is not an IPv4 address`);
    return { name, aliases, ip: p.ip };
  });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

export class RemotePeerStore {
  private readonly byNetwork = new Map<string, readonly RemotePeer[]>();

  private constructor(private readonly dir: string) {}

  /** Loads what is recorded under `dir`; a file that cannot be read is reported and skipped. */
  static open(dir: string, warn: (message: string) => void = () => undefined): RemotePeerStore {
    const store = new RemotePeerStore(dir);
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX));
    } catch {
      return store;
    }
    for (const file of names) {
      const network = file.slice(0, -SUFFIX.length);
      try {
        if (!isSafeLinkName(network)) throw new Error('not a network id');
        const parsed = peersFile.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
        if (parsed.network !== network) throw new Error(`it is about network ${JSON.stringify(parsed.network)}`);
        const peers = normalizePeers(network, parsed.peers);
        if (peers.length > 0) store.byNetwork.set(network, peers);
      } catch (e) {
        warn(`ignoring ${join(dir, file)}: ${(e as Error).message}`);
      }
    }
    return store;
  }

  peersOn(network: string): readonly RemotePeer[] {
    return this.byNetwork.get(network) ?? [];
  }

  /** Networks with remote peers. */
  networks(): string[] {
    return [...this.byNetwork.keys()];
  }

  /**
   * Replaces the network's remote peers (none: forgets them) and records it on disk.
   * Returns whether anything changed; the same list again writes nothing.
   */
  set(network: string, peers: readonly RemotePeer[]): boolean {
    checkLinkName(network);
    const wanted = normalizePeers(network, peers);
    if (JSON.stringify(wanted) === JSON.stringify(this.peersOn(network))) return false;
    const path = join(this.dir, network + SUFFIX);
    if (wanted.length === 0) {
      rmSync(path, { force: true });
      this.byNetwork.delete(network);
    } else {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      replaceFileDurably(path, JSON.stringify({ network, peers: wanted }) + '\n');
      this.byNetwork.set(network, wanted);
    }
    return true;
  }
}
