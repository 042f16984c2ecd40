// Where each cgroup v1 controller is mounted, from /proc/self/mountinfo: a controller
// may share a hierarchy with others (Debian mounts "cpu,cpuacct" together), and the
// directory name is no proof of what is mounted there.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** mountinfo escapes spaces and the like as \040 (octal). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Controller -> mount point, for the v1 hierarchies mounted right under `root`. */
export function parseV1Hierarchies(mountinfo: string, root: string): Map<V1Controller, string> {
  const found = new Map<V1Controller, string>();
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mount-point options [optional fields] - fstype source super-options
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = unescape(left.split(' ')[4] ?? '');
    const [fstype, , superOptions = ''] = right.split(' ');
    if (fstype !== 'cgroup' || dirname(mountPoint) !== root) continue;
    for (const option of superOptions.split(',')) {
      if ((V1_CONTROLLERS as readonly string[]).includes(option) && !found.has(option as V1Controller)) found.set(option as V1Controller, mountPoint);
    }
  }
  return found;
}

export function findV1Hierarchies(root: string): Map<V1Controller, string> {
  return parseV1Hierarchies(readFileSync('/proc/self/mountinfo', 'utf8'), root);
}
