// LVM's rules for volume group and logical volume names (lvm(8), "VALID NAMES"), checked
// before any command runs: a name is passed to lvm2 as an argument and becomes a path
// under /dev, so anything else (a "/", "..", a leading "-" read as an option) is refused.

const ALLOWED = /^[A-Za-z0-9+_.-]+$/;
/** Names lvm2 gives its own sub-volumes; an LV name may not contain them. */
const RESERVED_PARTS = [
  '_cdata',
  '_cmeta',
  '_corig',
  '_iorig',
  '_mimage',
  '_mlog',
  '_pmspare',
  '_rimage',
  '_rmeta',
  '_tdata',
  '_tmeta',
  '_vdata',
  '_vorigin',
  '_wcorig',
];
const RESERVED_PREFIXES = ['pvmove', 'snapshot'];
/** lvm2's limit for a VG or LV name (NAME_LEN 128, with its terminating NUL). */
export const MAX_LVM_NAME = 127;

/** Why `name` is not a valid volume group name, or undefined when it is. */
export function volumeGroupNameProblem(name: string): string | undefined {
  return commonProblem(name) ?? (name === 'snapshot' || name === 'pvmove' ? `"${name}" is reserved by LVM` : undefined);
}

/** Why `name` is not a valid logical volume name, or undefined when it is. */
export function logicalVolumeNameProblem(name: string): string | undefined {
  const common = commonProblem(name);
  if (common) return common;
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `may not start with "${prefix}" (reserved by LVM)`;
  const part = RESERVED_PARTS.find((p) => name.includes(p));
  if (part) return `may not contain "${part}" (LVM names its internal volumes so)`;
  return undefined;
}

function commonProblem(name: string): string | undefined {
  if (name === '') return 'may not be empty';
  if (name.length > MAX_LVM_NAME) return `is longer than ${MAX_LVM_NAME} characters`;
  if (!ALLOWED.test(name)) return 'may contain letters, digits and "+", "_", ".", "-" only';
  if (name === '.' || name === '..') return `"${name}" is not a name`;
  if (name.startsWith('-')) return 'may not start with "-"';
  return undefined;
}
