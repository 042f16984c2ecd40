// The little IPv4 arithmetic the network handlers need: parse, mask, contain.
import { isIPv4 } from 'node:net';

export interface Ipv4Cidr {
  /** The network address, unsigned 32-bit. */
  readonly network: number;
  readonly prefix: number;
}

export function ipv4ToNumber(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `10.1.0.0/24`; undefined when malformed or when host bits are set. */
export function parseCanonicalCidr(text: string): Ipv4Cidr | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const address = ipv4ToNumber(m[1]!);
  const prefix = Number(m[2]);
  if (address === undefined || prefix > 32) return undefined;
  if ((address & ~mask(prefix)) >>> 0 !== 0) return undefined;
  return { network: address, prefix };
}

/** The network an address with a prefix length belongs to: `10.1.0.1`, 24 -> 10.1.0.0/24. */
export function networkOf(address: string, prefix: number): Ipv4Cidr | undefined {
  const n = ipv4ToNumber(address);
  if (n === undefined || prefix < 0 || prefix > 32) return undefined;
  return { network: (n & mask(prefix)) >>> 0, prefix };
}

export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return (address & mask(cidr.prefix)) >>> 0 === cidr.network;
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${numberToIpv4(cidr.network)}/${cidr.prefix}`;
}
