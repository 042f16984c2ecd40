// Container addresses on bridge networks, one JSON file per bridge on the host:
//
//   <stateDir>/ipam/<bridge>.json   (0600, replaced atomically: temp file, fsync, rename)
//   { "version": 1, "subnet": "10.1.0.0/24", "last": "10.1.0.7", "addresses": { "10.1.0.2": "<owner>" } }
//
// Owners are container ids. An owner holds at most one address per network and gets
// it back when it asks again, so a restarted container keeps its address. Dynamic
// allocation walks forward from the last address handed out and wraps around (as
// Docker does), so an address that was just released is not reused at once.
//
// Only the supervisor allocates. Every operation reads, changes and writes the file in
// one synchronous step, so two calls in this process can never interleave.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { replaceFileDurably } from '../system/durable-file.js';
import { cidrContains, formatCidr, ipv4ToNumber, numberToIpv4, parseCanonicalCidr, type Ipv4Cidr } from './ipv4-cidr.js';
import { checkLinkName } from './link-name.js';
import { networkFileIds } from './network-files.js';

export interface AllocationRequest {
  /** The bridge's link name: one address space per bridge. */
  readonly network: string;
  /** Canonical CIDR of the network: `10.1.0.0/24`. */
  readonly subnet: string;
  readonly gateway: string;
  /** Dynamic (and requested) addresses must lie in this CIDR when given. */
  readonly ipRange?: string | null | undefined;
  /** The container id. */
  readonly owner: string;
  /** A static address; without it one is picked. */
  readonly requested?: string | null | undefined;
}

export interface AddressHolder {
  readonly address: string;
  readonly owner: string;
}

const FILE_VERSION = 1;
const ipamFile = z.strictObject({
  version: z.literal(FILE_VERSION),
  subnet: z.string(),
  last: z.string().nullable(),
  addresses: z.record(z.string(), z.string()),
});
type IpamFile = z.infer<typeof ipamFile>;

/** The addresses a network may hand out: [first, last] minus the reserved ones. */
interface Pool {
  readonly subnet: Ipv4Cidr;
  readonly range: Ipv4Cidr | null;
  readonly first: number;
  readonly last: number;
  readonly reserved: ReadonlySet<number>;
}

function broadcastOf(c: Ipv4Cidr): number {
  return (c.network | (0xffffffff >>> c.prefix)) >>> 0;
}

function poolOf(req: AllocationRequest): Pool {
  const subnet = parseCanonicalCidr(req.subnet);
  if (!subnet) throw new AgentFailure('E_INVALID_SUBNET', `network ${req.network}: ${JSON.stringify(req.subnet)} is not an IPv4 network in CIDR form`);
  const gateway = ipv4ToNumber(req.gateway);
  if (gateway === undefined || !cidrContains(subnet, gateway)) {
    throw new AgentFailure('E_INVALID_GATEWAY', `network ${req.network}: gateway ${JSON.stringify(req.gateway)} is not an address inside ${req.subnet}`);
  }
  let range: Ipv4Cidr | null = null;
  if (req.ipRange) {
    range = parseCanonicalCidr(req.ipRange) ?? null;
    if (!range || range.prefix < subnet.prefix || !cidrContains(subnet, range.network)) {
      throw new AgentFailure('E_INVALID_SUBNET', `network ${req.network}: ip_range ${JSON.stringify(req.ipRange)} is not a network inside ${req.subnet}`);
    }
  }
  const reserved = new Set([gateway]);
  // /31 and /32 have no network or broadcast address (RFC 3021).
  if (subnet.prefix <= 30) {
    reserved.add(subnet.network);
    reserved.add(broadcastOf(subnet));
  }
  const span = range ?? subnet;
  return { subnet, range, first: span.network, last: broadcastOf(span), reserved };
}

function inPool(pool: Pool, n: number): boolean {
  return n >= pool.first && n <= pool.last && !pool.reserved.has(n);
}

export class Ipam {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'ipam');
  }

  /** The owner's address on the network: the one it holds, the requested one, or the next free one. */
  allocate(req: AllocationRequest): string {
    checkLinkName(req.network);
    const pool = poolOf(req);
    const state = this.load(req.network, pool.subnet);
    const byAddress = state.addresses;
    const held = Object.keys(byAddress).find((a) => byAddress[a] === req.owner);

    if (req.requested) {
      const wanted = this.checkRequested(req, pool);
      const holder = byAddress[wanted];
      if (holder !== undefined && holder !== req.owner) {
        throw new AgentFailure(
          'E_IP_IN_USE',
          `network ${req.network}: address ${wanted} is already held by container ${holder}; choose another ip or remove that container`,
          {
            address: wanted,
            holder,
          },
        );
      }
      if (held === wanted) return wanted;
      if (held !== undefined) delete byAddress[held];
      byAddress[wanted] = req.owner;
      this.save(req.network, state);
      return wanted;
    }

    if (held !== undefined && inPool(pool, ipv4ToNumber(held)!)) return held;
    if (held !== undefined) delete byAddress[held]; // the network's range changed under it

    const taken = new Set(Object.keys(byAddress).map((a) => ipv4ToNumber(a)!));
    const size = pool.last - pool.first + 1;
    const last = state.last === null ? undefined : ipv4ToNumber(state.last);
    const start = last !== undefined && last >= pool.first && last <= pool.last ? last - pool.first + 1 : 0;
    for (let i = 0; i < size; i++) {
      const n = pool.first + ((start + i) % size);
      if (pool.reserved.has(n) || taken.has(n)) continue;
      const address = numberToIpv4(n);
      byAddress[address] = req.owner;
      state.last = address;
      this.save(req.network, state);
      return address;
    }
    throw new AgentFailure(
      'E_IP_EXHAUSTED',
      `network ${req.network}: no free address left in ${req.ipRange ?? req.subnet} (${taken.size} held); remove containers or widen the network's ip_range`,
    );
  }

  /** Gives back the owner's address on one network; returns it, or null when it held none. */
  release(network: string, owner: string): string | null {
    checkLinkName(network);
    const state = this.load(network, null);
    const held = Object.keys(state.addresses).find((a) => state.addresses[a] === owner);
    if (held === undefined) return null;
    delete state.addresses[held];
    this.save(network, state);
    return held;
  }

  /** Gives back the owner's addresses on every network; returns them by network. */
  releaseAll(owner: string): Record<string, string> {
    const released: Record<string, string> = {};
    for (const network of this.networks()) {
      const address = this.release(network, owner);
      if (address !== null) released[network] = address;
    }
    return released;
  }

  /** Who holds which address on the network, by address. */
  holders(network: string): AddressHolder[] {
    checkLinkName(network);
    const { addresses } = this.load(network, null);
    return Object.entries(addresses)
      .map(([address, owner]) => ({ address, owner }))
      .sort((a, b) => ipv4ToNumber(a.address)! - ipv4ToNumber(b.address)!);
  }

  /** The owner's address on the network, or null. */
  addressOf(network: string, owner: string): string | null {
    return this.holders(network).find((h) => h.owner === owner)?.address ?? null;
  }

  /** Forgets a network altogether (the network was deleted). */
  forget(network: string): void {
    checkLinkName(network);
    rmSync(this.file(network), { force: true });
    rmSync(this.rangeFile(network), { force: true });
  }

  /**
   * Records the network's `ip_range` (set by the network resource, which knows it), so
   * containers that name only the network get dynamic addresses from it. null: the whole subnet.
   */
  setRange(network: string, ipRange: string | null): void {
    checkLinkName(network);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (ipRange === null) rmSync(this.rangeFile(network), { force: true });
    else writeFileSync(this.rangeFile(network), ipRange + '\n', { mode: 0o600 });
  }

  /** The recorded `ip_range` of a network, or null. */
  rangeOf(network: string): string | null {
    checkLinkName(network);
    try {
      return readFileSync(this.rangeFile(network), 'utf8').trim() || null;
    } catch {
      return null;
    }
  }

  private rangeFile(network: string): string {
    return join(this.dir, `${network}.range`);
  }

  /** Networks that have a file. */
  networks(): string[] {
    return networkFileIds(this.dir);
  }

  private checkRequested(req: AllocationRequest, pool: Pool): string {
    const requested = req.requested!;
    const n = ipv4ToNumber(requested);
    if (n === undefined) throw new AgentFailure('E_INVALID_IP', `network ${req.network}: ${JSON.stringify(requested)} is not an IPv4 address`);
    if (!cidrContains(pool.subnet, n)) {
      throw new AgentFailure('E_IP_OUT_OF_RANGE', `network ${req.network}: address ${requested} is outside the network's subnet ${formatCidr(pool.subnet)}`);
    }
    if (pool.range && !cidrContains(pool.range, n)) {
      throw new AgentFailure('E_IP_OUT_OF_RANGE', `network ${req.network}: address ${requested} is outside the network's ip_range ${formatCidr(pool.range)}`);
    }
    if (pool.reserved.has(n)) {
      const what = n === ipv4ToNumber(req.gateway) ? 'gateway' : n === pool.subnet.network ? 'network address' : 'broadcast address';
      throw new AgentFailure('E_IP_RESERVED', `network ${req.network}: address ${requested} is the ${what} of ${formatCidr(pool.subnet)}; choose another ip`);
    }
    return numberToIpv4(n);
  }

  private file(network: string): string {
    return join(this.dir, `${network}.json`);
  }

  /** The network's file; with `subnet`, addresses outside it (a network recreated with another subnet) are dropped. */
  private load(network: string, subnet: Ipv4Cidr | null): IpamFile {
    const path = this.file(network);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return { version: FILE_VERSION, subnet: subnet ? formatCidr(subnet) : '', last: null, addresses: {} };
    }
    let parsed: IpamFile;
    try {
      parsed = ipamFile.parse(JSON.parse(text));
    } catch (e) {
      throw new AgentFailure('E_IPAM_STATE', `cannot read the address allocations in ${path} (${(e as Error).message}); repair or delete the file`);
    }
    if (subnet && parsed.subnet !== formatCidr(subnet)) {
      const keep = Object.entries(parsed.addresses).filter(([a]) => cidrContains(subnet, ipv4ToNumber(a) ?? -1));
      const last = parsed.last !== null && cidrContains(subnet, ipv4ToNumber(parsed.last) ?? -1) ? parsed.last : null;
      return { version: FILE_VERSION, subnet: formatCidr(subnet), last, addresses: Object.fromEntries(keep) };
    }
    return parsed;
  }

  private save(network: string, state: IpamFile): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const sorted = Object.fromEntries(Object.entries(state.addresses).sort(([a], [b]) => ipv4ToNumber(a)! - ipv4ToNumber(b)!));
    // Durably: after a crash an address could otherwise be handed out twice.
    replaceFileDurably(this.file(network), JSON.stringify({ ...state, addresses: sorted }, null, 2) + '\n');
  }
}
