// Device allow-list rules: validation, runc's default list, and the text form that the
// v1 devices controller reads and writes ("c 1:3 rwm").
import { AgentFailure } from '../../rpc/failure.js';
import type { DeviceRule } from './cgroup-manager.js';

/** runc's default allow-list (libcontainer/specconv AllowedDevices). */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = Object.freeze([
  { type: 'c', major: '*', minor: '*', access: 'm' }, // mknod of any device node
  { type: 'b', major: '*', minor: '*', access: 'm' },
  { type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { type: 'c', major: 136, minor: '*', access: 'rwm' }, // pts/*
  { type: 'c', major: 10, minor: 200, access: 'rwm' }, // net/tun
]);

const ACCESS_ORDER = 'rwm';

/** Throws E_CGROUP_INVALID for a rule the kernel would read differently than written. */
export function validateDeviceRule(rule: DeviceRule): void {
  const shown = formatDeviceRule(rule);
  const bad = (why: string) => new AgentFailure('E_CGROUP_INVALID', `device rule "${shown}": ${why}`);
  if (!['a', 'b', 'c'].includes(rule.type)) throw bad('type must be a (all), b (block) or c (char)');
  for (const n of [rule.major, rule.minor]) {
    if (n !== '*' && !(Number.isSafeInteger(n) && n >= 0 && n < 2 ** 31)) throw bad('major and minor must be numbers or *');
  }
  if (!/^[rwm]{1,3}$/.test(rule.access) || new Set(rule.access).size !== rule.access.length) {
    throw bad('access must be a non-empty subset of "rwm"');
  }
  // v1 ignores everything after "a", so only the full wildcard means the same on v1 and v2.
  if (rule.type === 'a' && (rule.major !== '*' || rule.minor !== '*' || rule.access.length !== 3)) {
    throw bad('type a (all devices) must be written "a *:* rwm"');
  }
}

export function formatDeviceRule(rule: DeviceRule): string {
  return `${rule.type} ${rule.major}:${rule.minor} ${canonicalAccess(rule.access)}`;
}

export function canonicalAccess(access: string): string {
  return [...ACCESS_ORDER].filter((c) => access.includes(c)).join('');
}

/**
 * The rules as v1's devices.list shows them: one line per type:major:minor with the
 * accesses merged (the kernel merges exceptions with the same device), sorted.
 */
export function canonicalRuleLines(rules: readonly DeviceRule[]): string[] {
  const merged = new Map<string, string>();
  for (const r of rules) {
    const key = `${r.type} ${r.major}:${r.minor}`;
    merged.set(key, canonicalAccess((merged.get(key) ?? '') + r.access));
  }
  return [...merged].map(([key, access]) => `${key} ${access}`).sort();
}
