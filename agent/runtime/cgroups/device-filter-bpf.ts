// The cgroup v2 device allow-list as an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE), as
// runc's devicefilter generates it. The kernel runs the program on every open/mknod of
// a device node by a process in the cgroup; it returns 1 to allow, 0 to deny.
//
// Context (struct bpf_cgroup_dev_ctx): u32 access_type = (access << 16) | type at 0,
// u32 major at 4, u32 minor at 8. Program:
//
//   r2 = type; r3 = access; r4 = major; r5 = minor       (prologue)
//   for each rule:                                        (a block; any mismatch jumps past it)
//     if r2 != TYPE goto next                             (not for type "a")
//     r1 = r3 & ACCESS; if r1 != r3 goto next             (not for "rwm": asked for more than allowed)
//     if r4 != MAJOR goto next                            (not for "*")
//     if r5 != MINOR goto next                            (not for "*")
//     r0 = 1; exit
//   r0 = 0; exit                                          (everything else is denied)
import type { DeviceRule } from './cgroup-manager.js';
import { validateDeviceRule } from './device-rules.js';

/** BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_* from linux/bpf.h. */
export const DEVCG_TYPE = { b: 1, c: 2 } as const;
export const DEVCG_ACCESS = { m: 1, r: 2, w: 4 } as const;

// Opcodes: class | operation | source (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W = 0x61;
const ALU64_AND_K = 0x57;
const ALU64_RSH_K = 0x77;
const ALU64_MOV_X = 0xbf;
const ALU64_MOV_K = 0xb7;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const JMP_EXIT = 0x95;

export interface Instruction {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

const op = (code: number, dst: number, src: number, off: number, imm: number): Instruction => ({ code, dst, src, off, imm });

function accessMask(access: string): number {
  return [...access].reduce((mask, c) => mask | DEVCG_ACCESS[c as keyof typeof DEVCG_ACCESS], 0);
}

/** The instructions of the filter for `rules` (an allow-list). */
export function deviceFilterInstructions(rules: readonly DeviceRule[]): Instruction[] {
  for (const rule of rules) validateDeviceRule(rule);
  const out: Instruction[] = [
    op(LDX_MEM_W, 2, 1, 0, 0),
    op(ALU64_AND_K, 2, 0, 0, 0xffff),
    op(LDX_MEM_W, 3, 1, 0, 0),
    op(ALU64_RSH_K, 3, 0, 0, 16),
    op(LDX_MEM_W, 4, 1, 4, 0),
    op(LDX_MEM_W, 5, 1, 8, 0),
  ];
  const allowAll = op(ALU64_MOV_K, 0, 0, 0, 1);
  // "a *:* rwm" allows everything: what follows would be unreachable, which the verifier refuses.
  if (rules.some((r) => r.type === 'a')) return [...out, allowAll, op(JMP_EXIT, 0, 0, 0, 0)];
  for (const rule of rules) {
    // Conditional jumps carry a placeholder offset, fixed once the block's length is known.
    const block: Instruction[] = [];
    if (rule.type !== 'a') block.push(op(JMP_JNE_K, 2, 0, -1, DEVCG_TYPE[rule.type]));
    if (rule.access.length < 3) block.push(op(ALU64_MOV_X, 1, 3, 0, 0), op(ALU64_AND_K, 1, 0, 0, accessMask(rule.access)), op(JMP_JNE_X, 1, 3, -1, 0));
    if (rule.major !== '*') block.push(op(JMP_JNE_K, 4, 0, -1, rule.major));
    if (rule.minor !== '*') block.push(op(JMP_JNE_K, 5, 0, -1, rule.minor));
    block.push(allowAll, op(JMP_EXIT, 0, 0, 0, 0));
    // A jump's offset counts from the next instruction: to the end of the block.
    out.push(...block.map((insn, i) => (insn.off === -1 ? { ...insn, off: block.length - i - 1 } : insn)));
  }
  out.push(op(ALU64_MOV_K, 0, 0, 0, 0), op(JMP_EXIT, 0, 0, 0, 0));
  return out;
}

/** struct bpf_insn encoding: u8 code, u8 dst:4 src:4, s16 off, s32 imm (little-endian hosts). */
export function encodeInstructions(program: readonly Instruction[]): Buffer {
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    buf.writeUInt8(insn.code, i * 8);
    buf.writeUInt8((insn.src << 4) | insn.dst, i * 8 + 1);
    buf.writeInt16LE(insn.off, i * 8 + 2);
    buf.writeInt32LE(insn.imm, i * 8 + 4);
  });
  return buf;
}
