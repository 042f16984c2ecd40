// Names of kernel objects tsinfra creates: always prefixed `tsi` so that refresh and
// cleanup recognise them and never touch anything else, and short enough for Linux
// interface names (15 characters).
import { createHash } from 'node:crypto';

export const KERNEL_PREFIX = 'tsi';
export const IFNAME_MAX = 15;

/**
 * `tsi-fron-3fa9c1`: the start of the name for people, plus 24 bits of a hash of the
 * whole name so that names sharing a prefix do not collide. Deterministic.
 */
export function interfaceName(name: string): string {
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 6);
  const readable = name
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, IFNAME_MAX - KERNEL_PREFIX.length - hash.length - 2);
  return readable ? `${KERNEL_PREFIX}-${readable}-${hash}` : `${KERNEL_PREFIX}-${hash}`;
}

/** Object names users give (networks, volumes): no path separators, no `..`, a sane charset. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isSafeName(s: string): boolean {
  return SAFE_NAME.test(s) && !s.includes('..');
}

/** The default object name of a resource instance: its name, plus the instance key. */
export function defaultObjectName(name: string, key: number | string | undefined): string {
  return key === undefined ? name : `${name}-${String(key)}`;
}
