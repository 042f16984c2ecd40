// Value forms the container and volume attributes use (sizes, durations, signals,
// users, cpusets, paths, host names), as zod leaf schemas for the configuration and
// as canonical forms for the planned state. The canonical forms are what the agent
// reports on refresh too (a memory limit read from the cgroup is formatted the same
// way), so that equal values compare equal and no drift appears out of nothing.
import { isIP } from 'node:net';
import { constants } from 'node:os';
import { z } from 'zod';
import { isUnknown, type Value } from '../plan-engine/values.js';
import { canonicalCpuList } from '../agent/runtime/cgroups/limit-mapping.js';
import { parseDuration } from '../agent/runtime/durations.js';
import { formatSize, tryParseSize } from '../agent/runtime/sizes.js';

// ---- sizes -----------------------------------------------------------------------

const SIZE_MESSAGE = 'must be a size such as 512K, 200M, 10G or 1T (binary units), or a whole number of bytes';

/** A custom check rather than a union, so that a wrong type reads "must be a size" too. */
export const sizeSchema = z.custom<string | number>((v) => (typeof v === 'string' || typeof v === 'number') && tryParseSize(v) !== undefined, {
  message: SIZE_MESSAGE,
});

/** The canonical form of a size (`"200M"`), unknown and null passed through. */
export function canonicalSize(v: Value | undefined): Value {
  if (v === undefined || v === null || isUnknown(v)) return v ?? null;
  const bytes = tryParseSize(v as string | number);
  return bytes === undefined ? v : formatSize(bytes);
}

export function sizeBytes(v: Value | undefined): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  return tryParseSize(v);
}

// ---- durations -------------------------------------------------------------------

export const durationSchema = z.string().refine((s) => parseDuration(s) !== undefined, { message: 'must be a duration such as 500ms, 10s, 1m or 1h' });

// ---- signals ---------------------------------------------------------------------

/** `SIGTERM` for `SIGTERM`, `TERM` or `term`; undefined for an unknown signal. */
export function signalName(s: string): string | undefined {
  const up = s.trim().toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  return Object.hasOwn(constants.signals, name) ? name : undefined;
}

export const signalSchema = z.string().refine((s) => signalName(s) !== undefined, { message: 'must be a signal name such as SIGTERM, SIGINT or SIGQUIT' });

// ---- users -----------------------------------------------------------------------

/** `uid`, `uid:gid`, `name`, `name:group` (names as useradd accepts them). */
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

export const userSchema = z.string().refine((s) => USER.test(s), { message: 'must be uid, uid:gid, name or name:group' });

// ---- cpusets ---------------------------------------------------------------------

/** The kernel's form of a CPU list (`0-3,8`, as cpuset.cpus reads back); undefined when malformed or empty. */
export function canonicalCpuset(s: string): string | undefined {
  const c = canonicalCpuList(s);
  return c === '' ? undefined : c;
}

export const cpusetSchema = z.string().refine((s) => canonicalCpuset(s) !== undefined, { message: 'must be a list of CPUs such as 0,1 or 0-3,8' });

// ---- paths, names, addresses -----------------------------------------------------

/** An absolute path without `.` or `..` segments. */
export function isCleanAbsolutePath(p: string): boolean {
  return p.startsWith('/') && !p.includes('\0') && p.split('/').every((seg) => seg !== '.' && seg !== '..');
}

export const absolutePathSchema = z.string().refine(isCleanAbsolutePath, { message: 'must be an absolute path without "." or ".." segments' });

/** A host name as /etc/hosts and the kernel accept it: dot-separated labels of letters, digits and '-'. */
export function isHostname(s: string): boolean {
  return s.length > 0 && s.length <= 253 && s.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

export const hostnameSchema = z.string().refine(isHostname, { message: 'must be a host name: letters, digits, "-" and "." (labels of at most 63 characters)' });

export const ipv4Schema = z.string().refine((s) => isIP(s) === 4, { message: 'must be an IPv4 address such as 10.1.0.5' });
export const ipSchema = z.string().refine((s) => isIP(s) !== 0, { message: 'must be an IPv4 or IPv6 address' });
