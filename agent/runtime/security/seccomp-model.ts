// A seccomp profile as tsinfra holds it: the shape of Docker's JSON profiles (a default
// action and rules naming syscalls, with argument comparisons and conditions on the
// container's capabilities, the architecture and the kernel), with values already checked.
// The default profile is written in it, and Docker-format files are read into it.
//
// Matching: for a syscall, the rules that name it are tried in profile order and the
// first whose comparisons all hold decides; when none does, the default action applies.

export type SeccompAction =
  | { readonly type: 'allow' }
  | { readonly type: 'errno'; readonly errno: number }
  | { readonly type: 'kill-thread' }
  | { readonly type: 'kill-process' }
  | { readonly type: 'trap' }
  | { readonly type: 'log' };

export type ArgOperator = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked-eq';

/** `args[index] OP value` on the full 64-bit argument; masked-eq is `(args[index] & mask) == value`. */
export interface ArgComparison {
  readonly index: number;
  readonly op: ArgOperator;
  readonly value: bigint;
  readonly mask?: bigint;
}

export interface RuleFilter {
  /** Capability names, CAP_ form. */
  readonly caps?: readonly string[];
  /** Architecture names as Docker writes them (amd64, arm64, x32, ...). */
  readonly arches?: readonly string[];
  /** `major.minor`: the running kernel is at least this. */
  readonly minKernel?: string;
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly args: readonly ArgComparison[];
  /** The rule counts only when every listed capability is in the container's set, the architecture is listed, the kernel is recent enough. */
  readonly includes?: RuleFilter;
  /** The rule is skipped when any listed capability is in the container's set, the architecture is listed, or the kernel is that recent. */
  readonly excludes?: RuleFilter;
}

export interface SeccompProfile {
  /** `default` or the file it was read from, for messages. */
  readonly source: string;
  readonly defaultAction: SeccompAction;
  readonly rules: readonly SeccompRule[];
}

export const EPERM = 1;
export const ENOSYS = 38;

export const ALLOW: SeccompAction = { type: 'allow' };

export function errno(n: number): SeccompAction {
  return { type: 'errno', errno: n };
}
