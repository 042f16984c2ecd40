// IPv4 address and CIDR arithmetic for network attributes.

export interface Cidr {
  readonly network: number; // as unsigned 32-bit
  readonly prefix: number;
}

export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses `a.b.c.d/p`; `strict` refuses host bits set (10.0.0.1/24). */
export function parseCidr(s: string, strict = true): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const addr = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (addr === undefined || prefix > 32) return undefined;
  const mask = prefixMask(prefix);
  if (strict && (addr & ~mask) >>> 0 !== 0) return undefined;
  return { network: (addr & mask) >>> 0, prefix };
}

export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

export function cidrContains(c: Cidr, addr: number): boolean {
  return ((addr & prefixMask(c.prefix)) >>> 0) === c.network;
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.network)}/${c.prefix}`;
}
