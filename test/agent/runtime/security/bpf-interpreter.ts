// Runs a classic BPF seccomp program over a seccomp_data of our choosing, so the unit
// tests can check what a filter decides for many syscalls and argument values (the
// kernel tests check that the kernel agrees on the cases a process can try).

export interface SeccompData {
  readonly nr: number;
  readonly arch: number;
  readonly args?: readonly bigint[];
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

export function runFilter(program: Buffer, data: SeccompData): number {
  const mem = Buffer.alloc(64);
  mem.writeInt32LE(data.nr | 0, 0);
  mem.writeUInt32LE(data.arch, 4);
  (data.args ?? []).forEach((a, i) => mem.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  const length = program.length / 8;
  let pc = 0;
  let a = 0;
  for (;;) {
    if (pc >= length) throw new Error(`BPF: ran past the end at ${pc}`);
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k > 60) throw new Error(`BPF: bad load offset ${k}`);
        a = mem.readUInt32LE(k);
        pc++;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        pc++;
        break;
      case 0x06: // ret #k
        return k;
      case 0x05: // ja
        pc += 1 + k;
        break;
      case 0x15: // jeq
        pc += 1 + (a === k ? jt : jf);
        break;
      case 0x25: // jgt
        pc += 1 + (a > k ? jt : jf);
        break;
      case 0x35: // jge
        pc += 1 + (a >= k ? jt : jf);
        break;
      default:
        throw new Error(`BPF: unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

export const RET = {
  ALLOW: 0x7fff0000,
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0,
  TRAP: 0x00030000,
  LOG: 0x7ffc0000,
  errno: (n: number) => 0x00050000 | n,
};
