// `network`: a bridge (with optional NAT) or a macvlan network on one host.
// Bridge: the agent creates a Linux bridge named `tsi-...`, assigns the gateway,
// sets the MTU and, with nat, masquerades the subnet through nftables.
import { z } from 'zod';
import { UNKNOWN, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import { cidrContains, ipv4ToNumber, numberToIpv4, parseCanonicalCidr } from '../agent/network/ipv4-cidr.js';
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
});
type NetworkConfig = z.infer<typeof networkSchema>;

export const networkProvider: ResourceProvider = {
  type: 'network',
  nestedBlocks: {},
  schema: networkSchema,
  updatable: ['nat', 'mtu', 'internal', 'ip_range'],
  computed: ['id', 'bridge'],
  sensitive: [],
  usesAgent: true,

  check(raw) {
    const c = raw as NetworkConfig;
    const out: PathDiagnostic[] = [];
    if (c.driver === 'macvlan') {
      out.push({ code: 'E_UNSUPPORTED', summary: 'macvlan networks are not supported by this version of tsinfra yet', path: ['driver'] });
      return out;
    }
    if (typeof c.subnet !== 'string') {
      if (c.subnet === undefined) out.push({ code: 'E_MISSING_ATTRIBUTE', summary: 'A bridge network needs a "subnet"', path: ['subnet'] });
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
    for (const k of ['parent', 'vlan', 'mode'] as const) {
      if (c[k] !== undefined) out.push({ code: 'E_NOT_FOR_DRIVER', summary: `"${k}" applies to macvlan networks only`, path: [k] });
    }
    return out;
  },

  plan(raw, _prior, ctx) {
    const c = raw as NetworkConfig & ValueObject;
    const name = (c.name as string | undefined) ?? defaultObjectName(ctx.name, ctx.instanceKey);
    const subnet = typeof c.subnet === 'string' ? parseCanonicalCidr(c.subnet) : undefined;
    const internal = c.internal ?? false;
    const bridge = typeof name === 'string' ? interfaceName(name) : UNKNOWN;
    return {
      driver: c.driver,
      name,
      subnet: c.subnet ?? null,
      gateway: c.gateway ?? (subnet ? numberToIpv4(subnet.network + 1) : c.subnet === undefined ? null : UNKNOWN),
      ip_range: c.ip_range ?? null,
      nat: c.nat ?? !internal,
      internal,
      mtu: c.mtu ?? 1500,
      bridge,
      // The id is the bridge's name: known at plan time, so references to it need not wait.
      id: bridge,
    };
  },

  apply(req, session) {
    return applyThroughAgent('network', req, session);
  },
};
