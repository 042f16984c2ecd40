// Linux capabilities by name and number (capabilities(7), up to CAP_CHECKPOINT_RESTORE,
// Linux 5.9), the set a container gets by default (runc's and Docker's), and the
// arithmetic of `capabilities { add, drop }`. Pure: the provider validates with it at
// plan time, the supervisor turns it into the mask the init applies (credentials.ts).
import { closestName } from './closest-name.js';

/** Indexed by capability number. */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/** What runc (and Docker) give a container that asks for nothing. */
export const DEFAULT_CAPABILITIES: readonly CapabilityName[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const NUMBERS = new Map<string, number>(CAPABILITY_NAMES.map((name, i) => [name, i]));

/** `CAP_NET_ADMIN` for `NET_ADMIN`, `cap_net_admin` or ` Net_Admin `; `ALL`; undefined when unknown. */
export function canonicalCapability(input: string): CapabilityName | 'ALL' | undefined {
  const up = input.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  return NUMBERS.has(full) ? (full as CapabilityName) : undefined;
}

/** The capability's number, undefined for an unknown name (any spelling canonicalCapability accepts). */
export function capabilityNumber(name: string): number | undefined {
  const c = canonicalCapability(name);
  return c === undefined || c === 'ALL' ? undefined : NUMBERS.get(c);
}

/** The mask of known capability names; throws on an unknown one (validate first). */
export function capabilityMask(names: Iterable<string>): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new Error(`bug: unknown capability ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/** The names of the capabilities in `mask`, by number (bits beyond the known ones are ignored). */
export function capabilityNames(mask: bigint): CapabilityName[] {
  return CAPABILITY_NAMES.filter((_, i) => (mask >> BigInt(i)) & 1n);
}

/** Every capability this code knows (a privileged container). */
export function allCapabilitiesMask(): bigint {
  return (1n << BigInt(CAPABILITY_NAMES.length)) - 1n;
}

export function hasCapability(mask: bigint, name: string): boolean {
  const n = capabilityNumber(name);
  return n !== undefined && ((mask >> BigInt(n)) & 1n) === 1n;
}

export interface CapabilityChanges {
  readonly add?: readonly string[] | undefined;
  readonly drop?: readonly string[] | undefined;
}

export interface CapabilityError {
  /** Where in `capabilities { add, drop }` the bad name is. */
  readonly path: readonly ['add' | 'drop', number];
  readonly message: string;
}

export type ResolvedCapabilities = { readonly mask: bigint; readonly names: CapabilityName[] } | { readonly errors: CapabilityError[] };

/** Problems with the names in `add` and `drop`; empty when all are known. */
export function validateCapabilities(changes: CapabilityChanges): CapabilityError[] {
  const errors: CapabilityError[] = [];
  for (const key of ['add', 'drop'] as const) {
    (changes[key] ?? []).forEach((name, i) => {
      if (canonicalCapability(name) === undefined) errors.push({ path: [key, i], message: unknownCapabilityMessage(key, i, name) });
    });
  }
  return errors;
}

function unknownCapabilityMessage(key: 'add' | 'drop', index: number, name: string): string {
  // Suggest in the spelling the user chose: with or without CAP_.
  const prefixed = name.trim().toUpperCase().startsWith('CAP_');
  const candidates = CAPABILITY_NAMES.map((c) => (prefixed ? c : c.slice(4)));
  const close = closestName(name.trim(), [...candidates, 'ALL']);
  const hint = close ? ` (did you mean ${close}?)` : '; capability names are those of capabilities(7), with or without CAP_ (NET_ADMIN), or ALL';
  return `capabilities.${key}[${index}]: unknown capability ${JSON.stringify(name)}${hint}`;
}

/**
 * The container's capabilities, as Docker computes them: `add = ["ALL"]` gives every
 * capability except those dropped; `drop = ["ALL"]` gives exactly what `add` lists;
 * otherwise the defaults minus `drop`, plus `add` (so a name in both is kept).
 */
export function resolveCapabilities(changes: CapabilityChanges, base: readonly string[] = DEFAULT_CAPABILITIES): ResolvedCapabilities {
  const errors = validateCapabilities(changes);
  if (errors.length > 0) return { errors };
  const add = new Set((changes.add ?? []).map((n) => canonicalCapability(n)!));
  const drop = new Set((changes.drop ?? []).map((n) => canonicalCapability(n)!));
  let names: string[];
  if (add.has('ALL')) names = CAPABILITY_NAMES.filter((c) => !drop.has(c));
  else if (drop.has('ALL')) names = [...add];
  else names = [...base.map((c) => canonicalCapability(c)!).filter((c) => !drop.has(c)), ...add];
  const mask = capabilityMask(names);
  return { mask, names: capabilityNames(mask) };
}
