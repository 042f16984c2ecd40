// `overlay_network`: one layer-2 network across hosts. On each member the agent makes a
// bridge and a VXLAN device with one forwarding entry per other member (head-end
// replication to the underlay addresses the planner computed: no multicast, no store
// shared between hosts). Each member hands out addresses from its own slice of the
// subnet (overlay-members.ts), and after every apply each member learns the names of
// the containers on the others (reconcile), so that they resolve across hosts.
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { AgentError } from '../transport/types.js';
import { UNKNOWN, isObject, type Value, type ValueObject } from '../plan-engine/values.js';
import { ipv4ToNumber, parseCanonicalCidr } from '../agent/network/ipv4-cidr.js';
import { DEFAULT_VXLAN_PORT, vxlanNameFor } from '../agent/network/overlay-names.js';
import { defaultHostPrefix, planMembers, sliceCount } from './overlay-members.js';
import { defaultObjectName, interfaceName, isSafeName } from './names.js';
import type { AppliedResource, ApplyRequest, HostSessions, PathDiagnostic, ResourceProvider } from './provider.js';

const VNI_MAX = 2 ** 24 - 1;

const cidr = z.string().refine((s) => parseCanonicalCidr(s) !== undefined, {
  message: 'must be an IPv4 network in CIDR notation with no host bits set, such as 10.90.0.0/16',
});
const ipv4 = z.string().refine((s) => ipv4ToNumber(s) !== undefined, { message: 'must be an IPv4 address such as 192.168.1.10' });
/** `host.h1` as written in HCL evaluates to the host's object; its id is the address. */
const hostRef = z.union([z.string().startsWith('host.'), z.looseObject({ id: z.string().startsWith('host.'), address: z.string().nullable().optional() })]);

export const overlayNetworkSchema = z.strictObject({
  hosts: z.array(hostRef).min(1),
  subnet: cidr,
  name: z.string().refine(isSafeName, { message: 'may contain letters, digits, ".", "_" and "-" only (no "..", at most 63 characters)' }).optional(),
  vni: z.number().int().min(1).max(VNI_MAX).optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  nat: z.boolean().optional(),
  host_prefix: z.number().int().min(1).max(30).optional(),
  /** Where a host's address is a name, or not the one the others reach it at: `{ h1 = "10.0.0.11" }`. */
  underlay_addresses: z.record(z.string(), ipv4).optional(),
});
type OverlayConfig = z.infer<typeof overlayNetworkSchema>;
type HostRef = z.infer<typeof hostRef>;

const hostId = (h: HostRef): string => (typeof h === 'string' ? h : h.id);

/** `underlay_addresses` keys may be `h1` or `host.h1`. */
function underlayOverride(c: OverlayConfig, host: string): string | undefined {
  return c.underlay_addresses?.[host] ?? c.underlay_addresses?.[host.slice('host.'.length)];
}

/** The member hosts with their underlay addresses, or why one has none. */
function underlays(c: OverlayConfig): { addresses: Map<string, string>; problems: PathDiagnostic[] } {
  const addresses = new Map<string, string>();
  const problems: PathDiagnostic[] = [];
  c.hosts.forEach((h, i) => {
    const id = hostId(h);
    if (addresses.has(id)) {
      problems.push({ code: 'E_DUPLICATE_HOST', summary: `${id} is listed twice in hosts`, path: ['hosts', i] });
      return;
    }
    const own = typeof h === 'string' ? undefined : (h.address ?? undefined);
    const address = underlayOverride(c, id) ?? (own !== undefined && ipv4ToNumber(own) !== undefined ? own : undefined);
    if (address === undefined) {
      problems.push({
        code: 'E_UNDERLAY_ADDRESS',
        summary: `${id} has no IPv4 address the other members can send overlay traffic to`,
        detail: `Its address is ${own === undefined ? 'not set' : JSON.stringify(own)}. Set underlay_addresses = { ${JSON.stringify(id.slice(5))} = "A.B.C.D" } on this overlay_network.`,
        path: ['hosts', i],
      });
      return;
    }
    addresses.set(id, address);
  });
  const twice = [...addresses].find(([h, a]) => [...addresses].some(([o, b]) => o !== h && b === a));
  if (twice) problems.push({ code: 'E_DUPLICATE_UNDERLAY', summary: `Two member hosts have the underlay address ${twice[1]}`, path: ['hosts'] });
  return { addresses, problems };
}

function hostPrefixOf(c: OverlayConfig, subnetPrefix: number): number {
  return c.host_prefix ?? defaultHostPrefix(subnetPrefix);
}

/** A VNI from the name when none is given: the same network gets the same one on every run. */
function defaultVni(name: string): number {
  return (createHash('sha256').update(`overlay:${name}`).digest().readUInt32BE(0) % VNI_MAX) + 1;
}

export const overlayNetworkProvider: ResourceProvider = {
  type: 'overlay_network',
  nestedBlocks: {},
  schema: overlayNetworkSchema,
  updatable: ['hosts', 'members', 'mtu', 'nat', 'underlay_addresses'],
  computed: ['id', 'bridge', 'vxlan', 'members'],
  sensitive: [],
  usesAgent: true,

  check(raw) {
    const c = raw as OverlayConfig;
    const out: PathDiagnostic[] = [];
    if (!Array.isArray(c.hosts) || typeof c.subnet !== 'string') return out;
    out.push(...underlays(c).problems);
    const subnet = parseCanonicalCidr(c.subnet)!;
    const hostPrefix = hostPrefixOf(c, subnet.prefix);
    if (hostPrefix < subnet.prefix || hostPrefix > 30) {
      out.push({
        code: 'E_INVALID_CIDR',
        summary: `host_prefix ${hostPrefix} must be between the subnet's prefix (${subnet.prefix}) and 30`,
        path: ['host_prefix'],
      });
    } else if (c.hosts.length > sliceCount(subnet, hostPrefix)) {
      out.push({
        code: 'E_OVERLAY_FULL',
        summary: `Subnet ${c.subnet} has room for ${sliceCount(subnet, hostPrefix)} hosts of /${hostPrefix} each, not ${c.hosts.length}`,
        detail: 'Each member host hands out addresses from its own slice of the subnet. Use a larger subnet or a longer host_prefix.',
        path: ['hosts'],
      });
    }
    return out;
  },

  plan(raw, prior, ctx) {
    const c = raw as OverlayConfig & ValueObject;
    const name = (c.name as string | undefined) ?? defaultObjectName(ctx.name, ctx.instanceKey);
    const bridge = typeof name === 'string' ? interfaceName(name) : UNKNOWN;
    const subnet = typeof c.subnet === 'string' ? parseCanonicalCidr(c.subnet) : undefined;
    const hosts = Array.isArray(c.hosts) ? c.hosts.map((h) => (typeof h === 'string' || isObject(h) ? hostId(h as HostRef) : UNKNOWN)) : UNKNOWN;
    let members: Value = UNKNOWN;
    if (subnet && Array.isArray(c.hosts) && (c.hosts as unknown[]).every((h) => typeof h === 'string' || isObject(h))) {
      const priorMembers = isObject(prior?.['members']) ? (prior['members'] as Record<string, ValueObject>) : undefined;
      // A different slice size re-lays every member out: keep nothing of the old one.
      const samePrefix = prior?.['host_prefix'] === hostPrefixOf(c, subnet.prefix);
      const planned = planMembers(subnet, hostPrefixOf(c, subnet.prefix), underlays(c).addresses, samePrefix ? priorMembers : undefined);
      if (planned) {
        members = Object.fromEntries(
          Object.entries(planned).map(([host, m]) => {
            // The MTU a member found on its underlay stays as it was unless mtu is set.
            const seen = priorMembers?.[host]?.['mtu'];
            return [host, { ...m, mtu: c.mtu ?? (typeof seen === 'number' ? seen : UNKNOWN) }];
          }),
        );
      }
    }
    return {
      id: bridge,
      name,
      bridge,
      vxlan: typeof bridge === 'string' ? vxlanNameFor(bridge) : UNKNOWN,
      hosts,
      subnet: c.subnet,
      vni: c.vni ?? (typeof name === 'string' ? defaultVni(name) : UNKNOWN),
      port: c.port ?? DEFAULT_VXLAN_PORT,
      mtu: c.mtu ?? null,
      nat: c.nat ?? true,
      host_prefix: subnet ? hostPrefixOf(c, subnet.prefix) : UNKNOWN,
      underlay_addresses: c.underlay_addresses ?? null,
      members,
    };
  },

  apply() {
    throw new Error('bug: overlay_network spans hosts; the engine applies it through multiHost');
  },

  multiHost: {
    read: readMembers,
    apply: applyMembers,
  },

  reconcile: publishNames,
};

// ---- the parts on each host ------------------------------------------------------

type Members = Record<string, ValueObject>;

function membersOf(state: ValueObject | null): Members {
  const m = state?.['members'];
  return isObject(m) ? (m as Members) : {};
}

/** What the agent on `host` is asked for: the `network` resource with driver "overlay". */
function partOn(state: ValueObject, host: string): ValueObject {
  const m = membersOf(state)[host]!;
  return {
    id: state['id']!,
    name: state['name']!,
    driver: 'overlay',
    bridge: state['bridge']!,
    vxlan: state['vxlan']!,
    vni: state['vni']!,
    port: state['port']!,
    mtu: state['mtu'] ?? null,
    subnet: state['subnet']!,
    gateway: m['gateway']!,
    ip_range: m['ip_range']!,
    local: m['underlay']!,
    remotes: m['remotes']!,
    nat: state['nat']!,
    internal: false,
  };
}

/** A member as recorded, from what its agent answered. */
function memberFrom(part: ValueObject): ValueObject {
  return { underlay: part['local']!, ip_range: part['ip_range']!, gateway: part['gateway']!, remotes: part['remotes']!, mtu: part['mtu'] ?? null };
}

/** Runs `work` on every host at once; all their failures in one error. */
async function onEveryHost<T>(hosts: readonly string[], work: (host: string) => Promise<T>): Promise<Map<string, T>> {
  const results = await Promise.allSettled(hosts.map(work));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ host: hosts[i]!, error: r.reason as unknown }] : []));
  if (failed.length) {
    const first = failed[0]!.error;
    if (!(first instanceof AgentError) && failed.length === 1) throw first;
    const message = failed.map((f) => `${f.host}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
    throw new AgentError(first instanceof AgentError ? first.code : 'E_OVERLAY', message, failed.map((f) => f.host).join(', '));
  }
  return new Map(results.map((r, i) => [hosts[i]!, (r as PromiseFulfilledResult<T>).value]));
}

async function readMembers(state: ValueObject, sessions: HostSessions): Promise<ValueObject | null> {
  const hosts = Object.keys(membersOf(state));
  const parts = await onEveryHost(hosts, async (host) => {
    const session = await sessions(host);
    const res = await session.call('resource.read', { items: [{ type: 'network', state: partOn(state, host) }] });
    const item = res.items[0];
    if (!item) throw new AgentError('E_RPC_INVALID', 'the agent answered a read of one object with no item', host);
    if ('error' in item) throw new AgentError(item.error.code, item.error.message, host);
    return item.state as ValueObject | null;
  });
  const members: Members = {};
  // A VXLAN device re-made by hand with another VNI or port is not this overlay's part:
  // its member drops out like a missing one, and the apply makes it again.
  const ours = (part: ValueObject) => part['vni'] === state['vni'] && part['port'] === state['port'];
  for (const [host, part] of parts) if (part && ours(part)) members[host] = memberFrom(part);
  if (![...parts.values()].some((p) => p !== null)) return null;
  // A member whose part is gone drops out of `members`: the plan puts it back. NAT lost on
  // any member is NAT lost: the update sets it on all.
  const nat = [...parts.values()].every((p) => p === null || p['nat'] === true);
  return { ...state, nat, members };
}

async function applyMembers(req: ApplyRequest, sessions: HostSessions): Promise<ValueObject | null> {
  const before = membersOf(req.prior);
  const after = membersOf(req.planned);
  const hosts = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  const parts = await onEveryHost(hosts, async (host) => {
    const session = await sessions(host);
    const planned = req.planned && host in after ? partOn(req.planned, host) : null;
    const prior = req.prior && host in before ? partOn(req.prior, host) : null;
    if (!planned) {
      // A member leaving forgets the others' names first, then loses its part.
      await session.call('network.peers', { network: String(req.prior!['id']), peers: [] });
    }
    const action = !planned ? 'delete' : prior ? 'update' : 'create';
    const r = await session.call('resource.apply', { type: 'network', action, address: `${req.address} on ${host}`, prior, planned });
    return r.state as ValueObject | null;
  });
  if (!req.planned) return null;
  const members: Members = {};
  for (const [host, part] of parts) if (part && host in after) members[host] = memberFrom(part);
  return { ...req.planned, members };
}

// ---- names across hosts ----------------------------------------------------------

/** Each member learns the containers of the other members on this overlay, by name and alias. */
async function publishNames(own: AppliedResource, all: readonly AppliedResource[], sessions: HostSessions): Promise<void> {
  const id = own.attributes['id'];
  if (typeof id !== 'string') return;
  const attached = all.flatMap((r) => {
    if (r.type !== 'container') return [];
    const ips = r.attributes['ip_addresses'];
    const ip = isObject(ips) ? ips[id] : undefined;
    if (typeof ip !== 'string') return [];
    const entry = (Array.isArray(r.attributes['network']) ? r.attributes['network'] : []).find((n) => isObject(n) && n['id'] === id);
    const aliases = isObject(entry) && Array.isArray(entry['aliases']) ? entry['aliases'].filter((a): a is string => typeof a === 'string') : [];
    return [{ host: r.host, peer: { name: r.name, aliases, ip } }];
  });
  await onEveryHost(Object.keys(membersOf(own.attributes)), async (host) => {
    const session = await sessions(host);
    const peers = attached.filter((a) => a.host !== host).map((a) => a.peer);
    await session.call('network.peers', { network: id, peers });
  });
}
