// Compiles a seccomp filter, already resolved for one architecture (syscall numbers and
// their rules in match order), into a classic BPF program:
//
//   A = arch            not this architecture (32-bit compat calls) -> KILL_PROCESS
//   A = nr              x86_64: nr >= 0x40000000 (x32 ABI) -> EPERM (nr -1: default)
//   binary search on nr -> the syscall's rules -> default action
//   rule: compare each argument (64 bits as two 32-bit halves, high first); all hold ->
//         the rule's action; one fails -> the next rule of the syscall
//
// Kernel layout of struct seccomp_data: int nr; u32 arch; u64 instruction_pointer;
// u64 args[6]. Both architectures are little-endian: the low half of args[i] is at
// 16 + 8i, the high half at 20 + 8i.
import { AgentFailure } from '../../rpc/failure.js';
import { BpfAssembler, JEQ, JGE, JGT, MAX_INSTRUCTIONS, type Label } from './bpf-assembler.js';
import { EPERM, errno, type ArgComparison, type SeccompAction } from './seccomp-model.js';
import type { SeccompArch } from './syscall-numbers.js';

export interface FilterRule {
  readonly args: readonly ArgComparison[];
  readonly action: SeccompAction;
}

export interface ResolvedFilter {
  readonly arch: SeccompArch;
  readonly defaultAction: SeccompAction;
  /** Syscall number -> its rules, first match wins. */
  readonly syscalls: ReadonlyMap<number, readonly FilterRule[]>;
}

const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
const X32_SYSCALL_BIT = 0x40000000;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARGS = 16;

const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_KILL_THREAD = 0;
const SECCOMP_RET_TRAP = 0x00030000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_LOG = 0x7ffc0000;
const SECCOMP_RET_ALLOW = 0x7fff0000;

export function actionValue(action: SeccompAction): number {
  switch (action.type) {
    case 'allow':
      return SECCOMP_RET_ALLOW;
    case 'errno':
      return SECCOMP_RET_ERRNO | (action.errno & 0xffff);
    case 'kill-thread':
      return SECCOMP_RET_KILL_THREAD;
    case 'kill-process':
      return SECCOMP_RET_KILL_PROCESS;
    case 'trap':
      return SECCOMP_RET_TRAP;
    case 'log':
      return SECCOMP_RET_LOG;
  }
}

/** Syscall numbers tested one by one below this many; a binary search above. */
const LINEAR_SEARCH_MAX = 4;

export function compileSeccompFilter(filter: ResolvedFilter): Buffer {
  const asm = new BpfAssembler();
  const kill = asm.label();
  const fallback = asm.label();
  const archOk = asm.label();
  const dispatch = asm.label();

  asm.load(OFFSET_ARCH);
  asm.jump(JEQ, AUDIT_ARCH[filter.arch], archOk, kill);
  asm.bind(archOk);
  asm.load(OFFSET_NR);
  if (filter.arch === 'x86_64') {
    // x32 calls are the x86_64 numbers with this bit set: they would slip past every rule.
    const x32 = asm.label();
    const x32Deny = asm.label();
    asm.jump(JGE, X32_SYSCALL_BIT, x32, dispatch);
    asm.bind(x32);
    asm.jump(JEQ, 0xffffffff, fallback, x32Deny);
    asm.bind(x32Deny);
    asm.ret(actionValue(errno(EPERM)));
  }
  asm.bind(dispatch);

  const numbers = [...filter.syscalls.keys()].sort((a, b) => a - b);
  const entries = numbers.map((nr) => ({ nr, label: asm.label() }));
  emitSearch(asm, entries, fallback);
  for (const { nr, label } of entries) {
    asm.bind(label);
    emitRules(asm, filter.syscalls.get(nr)!, filter.defaultAction);
  }
  asm.bind(fallback);
  asm.ret(actionValue(filter.defaultAction));
  asm.bind(kill);
  asm.ret(SECCOMP_RET_KILL_PROCESS);

  const program = asm.assemble();
  if (program.length / 8 > MAX_INSTRUCTIONS) {
    throw new AgentFailure(
      'E_SECCOMP_PROFILE',
      `the seccomp profile compiles to ${program.length / 8} BPF instructions, more than the kernel's limit of ${MAX_INSTRUCTIONS}: use fewer rules or argument comparisons`,
    );
  }
  return program;
}

function emitRules(asm: BpfAssembler, rules: readonly FilterRule[], defaultAction: SeccompAction): void {
  for (const rule of rules) {
    const next = asm.label();
    for (const cmp of rule.args) emitComparison(asm, cmp, next);
    asm.ret(actionValue(rule.action));
    // A rule without comparisons always matches: later ones are dead code.
    if (rule.args.length === 0) return;
    asm.bind(next);
  }
  asm.ret(actionValue(defaultAction));
}

/** With A = nr: jumps to the entry whose number matches, or to `none`. Entries sorted by nr. */
function emitSearch(asm: BpfAssembler, entries: readonly { nr: number; label: Label }[], none: Label): void {
  if (entries.length <= LINEAR_SEARCH_MAX) {
    for (const { nr, label } of entries) {
      const next = asm.label();
      asm.jump(JEQ, nr, label, next);
      asm.bind(next);
    }
    asm.goto(none);
    return;
  }
  const mid = Math.floor(entries.length / 2);
  const upper = asm.label();
  const lower = asm.label();
  asm.jump(JGE, entries[mid]!.nr, upper, lower);
  asm.bind(lower);
  emitSearch(asm, entries.slice(0, mid), none);
  asm.bind(upper);
  emitSearch(asm, entries.slice(mid), none);
}

const LOW = 0xffffffffn;

/** Falls through when `cmp` holds, jumps to `fail` otherwise. Leaves A clobbered. */
function emitComparison(asm: BpfAssembler, cmp: ArgComparison, fail: Label): void {
  const lowOffset = OFFSET_ARGS + 8 * cmp.index;
  const highOffset = lowOffset + 4;
  const hi = (v: bigint) => Number((v >> 32n) & LOW);
  const lo = (v: bigint) => Number(v & LOW);
  const pass = asm.label();
  const checkLow = asm.label();
  const v = cmp.value;
  switch (cmp.op) {
    case 'eq':
    case 'ne': {
      const [onEqual, onDiffer] = cmp.op === 'eq' ? [pass, fail] : [fail, pass];
      asm.load(highOffset);
      asm.jump(JEQ, hi(v), checkLow, onDiffer);
      asm.bind(checkLow);
      asm.load(lowOffset);
      asm.jump(JEQ, lo(v), onEqual, onDiffer);
      break;
    }
    case 'masked-eq': {
      const mask = cmp.mask ?? 0xffffffffffffffffn;
      asm.load(highOffset);
      asm.and(hi(mask));
      asm.jump(JEQ, hi(v), checkLow, fail);
      asm.bind(checkLow);
      asm.load(lowOffset);
      asm.and(lo(mask));
      asm.jump(JEQ, lo(v), pass, fail);
      break;
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      // Unsigned: the high halves decide unless equal, then the low halves do.
      const greater = cmp.op === 'gt' || cmp.op === 'ge' ? pass : fail;
      const notGreater = greater === pass ? fail : pass;
      const highEqual = asm.label();
      asm.load(highOffset);
      asm.jump(JGT, hi(v), greater, highEqual);
      asm.bind(highEqual);
      asm.jump(JEQ, hi(v), checkLow, notGreater);
      asm.bind(checkLow);
      asm.load(lowOffset);
      // gt: lo > v; ge: lo >= v; lt = not ge; le = not gt.
      const code = cmp.op === 'gt' || cmp.op === 'le' ? JGT : JGE;
      asm.jump(code, lo(v), greater, notGreater);
      break;
    }
  }
  asm.bind(pass);
}
