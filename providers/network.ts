// `network`: a bridge (with optional NAT) or a macvlan network on one host.
// Bridge: the agent creates a Linux bridge named `tsi-...`, assigns the gateway,
// sets the MTU and, with nat, masquerades the subnet through nftables.
// Macvlan: containers get an interface of their own on `parent` (a NIC, or a VLAN
// sub-interface `eth0.10` the agent creates with `vlan = 10`), addresses from the
// LAN's subnet; the network's id names it for the containers and the address pool.
import { z } from 'zod';
import { UNKNOWN, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { cidrContains, ipv4ToNumber, numberToIpv4, parseCanonicalCidr } from '../agent/network/ipv4-cidr.js';
import { isInterfaceName } from '../agent/network/network-records.js';
import { defaultObjectName, interfaceName, isSafeName } from './names.js';
import type { PathDiagnostic, ResourceProvider } from './provider.js';

const cidr = z.string().refine((s) => parseCanonicalCidr(s) !== undefined, {
  message: 'must be an IPv4 network in CIDR notation with no host bits set, such as 10.1.0.0/24',
});
const ipv4 = z.string().refine((s) => ipv4ToNumber(s) !== undefined, { message: 'must be an IPv4 address such as 10.1.0.1' });

export const networkSchema = z.strictObject({
  driver: z.enum(['bridge', 'macvlan']),
  name: z.string().refine(isSafeName, { message: 'may contain letters, digits, ".", "_" and "-" only (no "..", at most 63 characters)' }).optional(),
  subnet: cidr.optional(),
  gateway: ipv4.optional(),
  ip_range: cidr.optional(),
  nat: z.boolean().optional(),
  internal: z.boolean().optional(),
  mtu: z.number().int().min(68).max(65535).optional(),
  parent: z.string().optional(),
  vlan: z.number().int().min(1).max(4094).optional(),
  mode: z.enum(['bridge', 'private', 'vepa', 'passthru']).optional(),
  promiscuous: z.boolean().optional(),
});
type NetworkConfig = z.infer<typeof networkSchema>;

export const networkProvider: ResourceProvider = {
  type: 'network',
  nestedBlocks: {},
  schema: networkSchema,
  updatable: ['nat', 'mtu', 'internal', 'ip_range', 'promiscuous'],
  computed: ['id', 'bridge', 'vlan_created'],
  sensitive: [],
  usesAgent: true,

  // The plan reads the host's inventory for macvlan networks: their parent must exist.
  storage: { describe: () => undefined, when: ['parent'] },

  check(raw, ctx) {
    const c = raw as NetworkConfig;
    const out: PathDiagnostic[] = [];
    if (c.driver === 'macvlan') out.push(...checkMacvlan(c), ...checkParentExists(c, ctx.host, ctx.storage?.links));
    else {
      for (const k of ['parent', 'vlan', 'mode', 'promiscuous'] as const) {
        if (c[k] !== undefined) out.push({ code: 'E_NOT_FOR_DRIVER', summary: `"${k}" applies to macvlan networks only`, path: [k] });
      }
    }
    if (typeof c.subnet !== 'string') {
      if (c.subnet === undefined) out.push({ code: 'E_MISSING_ATTRIBUTE', summary: `A ${c.driver} network needs a "subnet"`, path: ['subnet'] });
      return out;
    }
    const subnet = parseCanonicalCidr(c.subnet)!;
    if (subnet.prefix > 30) out.push({ code: 'E_INVALID_CIDR', summary: `Subnet ${c.subnet} is too small for a gateway and containers`, path: ['subnet'] });
    if (typeof c.gateway === 'string' && !cidrContains(subnet, ipv4ToNumber(c.gateway)!)) {
      out.push({ code: 'E_INVALID_GATEWAY', summary: `Gateway ${c.gateway} is not inside subnet ${c.subnet}`, path: ['gateway'] });
    }
    if (typeof c.ip_range === 'string') {
      const r = parseCanonicalCidr(c.ip_range)!;
      if (r.prefix < subnet.prefix || !cidrContains(subnet, r.network)) {
        out.push({ code: 'E_INVALID_CIDR', summary: `ip_range ${c.ip_range} is not inside subnet ${c.subnet}`, path: ['ip_range'] });
      }
    }
    if (c.nat === true && c.internal === true) {
      out.push({ code: 'E_CONFLICT', summary: 'An internal network cannot have nat = true', path: ['nat'] });
    }
    return out;
  },

  plan(raw, prior, ctx) {
    const c = raw as NetworkConfig & ValueObject;
    const name = (c.name as string | undefined) ?? defaultObjectName(ctx.name, ctx.instanceKey);
    const subnet = typeof c.subnet === 'string' ? parseCanonicalCidr(c.subnet) : undefined;
    const internal = c.internal ?? false;
    // The id names the kernel object (the bridge), or for macvlan the network's record and
    // address pool on the host. Known at plan time, so references to it need not wait.
    const id = typeof name === 'string' ? interfaceName(name) : UNKNOWN;
    const common = {
      driver: c.driver,
      name,
      subnet: c.subnet ?? null,
      gateway: c.gateway ?? (subnet ? numberToIpv4(subnet.network + 1) : c.subnet === undefined ? null : UNKNOWN),
      ip_range: c.ip_range ?? null,
      internal,
      id,
    };
    if (c.driver === 'macvlan') {
      return {
        ...common,
        parent: c.parent ?? null,
        vlan: c.vlan ?? null,
        mode: c.mode ?? 'bridge',
        // null: the parent's MTU, as the agent finds it.
        mtu: c.mtu ?? null,
        promiscuous: c.promiscuous ?? false,
        // Whether the agent made the VLAN sub-interface (and so removes it): its finding, kept.
        vlan_created: typeof prior?.['vlan_created'] === 'boolean' ? prior['vlan_created'] : UNKNOWN,
      };
    }
    return { ...common, nat: c.nat ?? !internal, mtu: c.mtu ?? 1500, bridge: id };
  },

  apply(req, session) {
    return applyThroughAgent('network', req, session);
  },
};

/** A VLAN id names its sub-interface: `parent = "eth0.10"` with `vlan = 10`, as the kernel's 8021q naming. */
function checkMacvlan(c: NetworkConfig): PathDiagnostic[] {
  const out: PathDiagnostic[] = [];
  if (c.nat !== undefined)
    out.push({ code: 'E_NOT_FOR_DRIVER', summary: '"nat" applies to bridge networks only: macvlan containers are on the LAN itself', path: ['nat'] });
  if (c.parent === undefined) {
    out.push({ code: 'E_MISSING_ATTRIBUTE', summary: 'A macvlan network needs a "parent" interface, such as "eth0" or "eth0.10"', path: ['parent'] });
    return out;
  }
  if (typeof c.parent !== 'string') return out;
  if (!isInterfaceName(c.parent)) {
    out.push({
      code: 'E_INVALID_INTERFACE',
      summary: `${JSON.stringify(c.parent)} is not an interface name (1 to 15 letters, digits, "_", "." or "-", not starting with "-" or ".")`,
      path: ['parent'],
    });
    return out;
  }
  if (typeof c.vlan === 'number') {
    const dot = c.parent.lastIndexOf('.');
    if (dot <= 0 || c.parent.slice(dot + 1) !== String(c.vlan)) {
      out.push({
        code: 'E_INVALID_VLAN',
        summary: `With vlan = ${c.vlan} the parent must be the sub-interface "<interface>.${c.vlan}", not ${JSON.stringify(c.parent)}`,
        detail: `For example parent = "eth0.${c.vlan}": tsinfra creates it on eth0 if it does not exist.`,
        path: ['parent'],
      });
    }
  }
  return out;
}

/** The parent (or, for a VLAN the agent creates, its base) is on the host, as refresh saw it. */
function checkParentExists(c: NetworkConfig, host: string, links: readonly string[] | undefined): PathDiagnostic[] {
  if (!links || typeof c.parent !== 'string' || links.includes(c.parent)) return [];
  const base = typeof c.vlan === 'number' ? c.parent.slice(0, c.parent.lastIndexOf('.')) : undefined;
  if (base !== undefined && links.includes(base)) return [];
  const missing = base ?? c.parent;
  return [
    {
      code: 'E_NO_PARENT',
      summary: `${host} has no network interface ${JSON.stringify(missing)}${base !== undefined ? ` to put VLAN ${c.vlan} on` : ''}`,
      detail: `Its interfaces: ${links.join(', ') || '(none)'}.`,
      path: ['parent'],
    },
  ];
}
