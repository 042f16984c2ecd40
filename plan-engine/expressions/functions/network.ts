// CIDR arithmetic for IPv4 and IPv6. Addresses are BigInts so one code path serves
// both families; prefixes are taken at their network address, as Terraform does
// ("10.1.2.3/16" is 10.1.0.0/16).
import type { Value } from '../../values.js';
import { fail, FunctionFailure, integerArg, stringArg, type FunctionDef } from './function-def.js';

interface Prefix {
  readonly addr: bigint; // the network address (host bits cleared)
  readonly length: number;
  readonly bits: 32 | 128;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIPv4(s: string): bigint | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  let out = 0n;
  for (const part of m.slice(1)) {
    if (part.length > 1 && part.startsWith('0')) return undefined; // ambiguous octal-looking octets are rejected
    const n = Number(part);
    if (n > 255) return undefined;
    out = (out << 8n) | BigInt(n);
  }
  return out;
}

function parseIPv6(s: string): bigint | undefined {
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    // An embedded IPv4 address (::ffff:10.0.0.1) supplies the last two groups.
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string): number[] | undefined => {
    if (h === '') return [];
    const groups = h.split(':');
    if (groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
    return groups.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const known = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (known > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
  } else {
    groups = [...head, ...tail];
    if (groups.length !== 8) return undefined;
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function parsePrefix(s: string): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) return undefined;
  const length = Number(lenText);
  const v4 = parseIPv4(ip);
  const bits = v4 !== undefined ? 32 : 128;
  const addr = v4 ?? parseIPv6(ip);
  if (addr === undefined || length > bits) return undefined;
  return { addr: addr & mask(length, bits), length, bits };
}

function mask(length: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - length)) - 1n);
}

export function formatIp(addr: bigint, bits: 32 | 128): string {
  if (bits === 32) return [24n, 16n, 8n, 0n].map((sh) => String((addr >> sh) & 0xffn)).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((addr >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: the longest run (at least two) of zero groups becomes "::", the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function prefixArg(args: readonly Value[], i: number): Prefix | FunctionFailure {
  const s = stringArg(args, i, 'prefix');
  if (s instanceof FunctionFailure) return s;
  return parsePrefix(s) ?? fail(`invalid CIDR expression ${JSON.stringify(s)}: an address and a prefix length are required, like "10.0.0.0/16".`, i);
}

export const networkFunctions: Record<string, FunctionDef> = {
  cidrsubnet: {
    description: 'The address of a subnet within a prefix: cidrsubnet(prefix, newbits, netnum).',
    params: [{ name: 'prefix' }, { name: 'newbits' }, { name: 'netnum' }],
    impl: (args) => {
      const p = prefixArg(args, 0);
      if (p instanceof FunctionFailure) return p;
      const newbits = integerArg(args, 1, 'newbits');
      if (newbits instanceof FunctionFailure) return newbits;
      const netnum = integerArg(args, 2, 'netnum');
      if (netnum instanceof FunctionFailure) return netnum;
      const newLength = p.length + newbits;
      if (newbits < 0 || newLength > p.bits) return fail(`insufficient address space to extend prefix of ${p.length} by ${newbits}.`, 1);
      if (netnum < 0 || BigInt(netnum) >= 1n << BigInt(newbits)) {
        return fail(`prefix extension of ${newbits} does not accommodate a subnet numbered ${netnum}.`, 2);
      }
      const addr = p.addr | (BigInt(netnum) << BigInt(p.bits - newLength));
      return `${formatIp(addr, p.bits)}/${newLength}`;
    },
  },

  cidrhost: {
    description: 'The address of a host within a prefix; negative numbers count from the end.',
    params: [{ name: 'prefix' }, { name: 'hostnum' }],
    impl: (args) => {
      const p = prefixArg(args, 0);
      if (p instanceof FunctionFailure) return p;
      const hostnum = integerArg(args, 1, 'hostnum');
      if (hostnum instanceof FunctionFailure) return hostnum;
      const size = 1n << BigInt(p.bits - p.length);
      const n = hostnum < 0 ? size + BigInt(hostnum) : BigInt(hostnum);
      if (n < 0n || n >= size) return fail(`prefix of ${p.length} does not accommodate a host numbered ${hostnum}.`, 1);
      return formatIp(p.addr | n, p.bits);
    },
  },

  cidrnetmask: {
    description: 'The netmask of an IPv4 prefix in dotted form.',
    params: [{ name: 'prefix' }],
    impl: (args) => {
      const p = prefixArg(args, 0);
      if (p instanceof FunctionFailure) return p;
      if (p.bits !== 32) return fail('only IPv4 prefixes have a netmask.', 0);
      return formatIp(mask(p.length, 32), 32);
    },
  },
};
