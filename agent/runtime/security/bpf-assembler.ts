// A small assembler for classic BPF (struct sock_filter), enough for seccomp filters:
// loads from seccomp_data, AND, conditional jumps to labels, returns.
//
// Classic BPF jumps only forward, and a conditional jump's offsets are 8 bits (at most
// 255 instructions). A jump whose target is farther goes through a trampoline: an
// unconditional `ja` (32-bit offset) placed right after it. Layout is repeated until no
// jump needs a new trampoline (each added one can only push targets farther, so this
// ends).

export type Label = { readonly id: number };

type Item =
  | { readonly kind: 'stmt'; readonly code: number; readonly k: number }
  | { readonly kind: 'jump'; readonly code: number; readonly k: number; readonly jt: Label; readonly jf: Label; farT: boolean; farF: boolean }
  | { readonly kind: 'bind'; readonly label: Label };

const BPF_LD_W_ABS = 0x20;
const BPF_ALU_AND_K = 0x54;
const BPF_RET_K = 0x06;
const BPF_JA = 0x05;
export const JEQ = 0x15;
export const JGT = 0x25;
export const JGE = 0x35;

/** The kernel's limit on a filter's length (BPF_MAXINSNS). */
export const MAX_INSTRUCTIONS = 4096;

export class BpfAssembler {
  private readonly items: Item[] = [];
  private nextLabel = 0;

  label(): Label {
    return { id: this.nextLabel++ };
  }

  /** The next instruction emitted is `label`'s target. */
  bind(label: Label): void {
    this.items.push({ kind: 'bind', label });
  }

  /** A = 32-bit word at `offset` of seccomp_data. */
  load(offset: number): void {
    this.items.push({ kind: 'stmt', code: BPF_LD_W_ABS, k: offset });
  }

  and(k: number): void {
    this.items.push({ kind: 'stmt', code: BPF_ALU_AND_K, k });
  }

  ret(k: number): void {
    this.items.push({ kind: 'stmt', code: BPF_RET_K, k });
  }

  /** if (A op k) goto jt else goto jf; op is JEQ, JGT or JGE (unsigned). */
  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jump', code, k, jt, jf, farT: false, farF: false });
  }

  /** Unconditional jump (as a conditional one with both branches alike, so far targets get the same trampolines). */
  goto(target: Label): void {
    this.jump(JEQ, 0, target, target);
  }

  /** The program as struct sock_filter entries: u16 code, u8 jt, u8 jf, u32 k (little-endian). */
  assemble(): Buffer {
    let positions = this.layout();
    for (;;) {
      let changed = false;
      for (const [index, item] of this.items.entries()) {
        if (item.kind !== 'jump') continue;
        const from = positions.items[index]! + 1;
        if (!item.farT && positions.target(item.jt) - from > 255) item.farT = changed = true;
        if (!item.farF && positions.target(item.jf) - from > 255) item.farF = changed = true;
      }
      if (!changed) break;
      positions = this.layout();
    }
    const out = Buffer.alloc(positions.length * 8);
    let at = 0;
    const put = (code: number, jt: number, jf: number, k: number) => {
      out.writeUInt16LE(code, at * 8);
      out.writeUInt8(jt, at * 8 + 2);
      out.writeUInt8(jf, at * 8 + 3);
      out.writeUInt32LE(k >>> 0, at * 8 + 4);
      at++;
    };
    for (const item of this.items) {
      if (item.kind === 'stmt') put(item.code, 0, 0, item.k);
      if (item.kind !== 'jump') continue;
      const from = at + 1;
      const tTarget = positions.target(item.jt);
      const fTarget = positions.target(item.jf);
      // Trampolines sit right after the jump: the true one first.
      const tSlot = item.farT ? 0 : -1;
      const fSlot = item.farF ? (item.farT ? 1 : 0) : -1;
      put(item.code, tSlot >= 0 ? tSlot : tTarget - from, fSlot >= 0 ? fSlot : fTarget - from, item.k);
      if (item.farT) put(BPF_JA, 0, 0, tTarget - (at + 1));
      if (item.farF) put(BPF_JA, 0, 0, fTarget - (at + 1));
    }
    return out;
  }

  private layout(): { items: number[]; length: number; target: (l: Label) => number } {
    const items: number[] = [];
    const bound = new Map<number, number>();
    let pc = 0;
    for (const item of this.items) {
      items.push(pc);
      if (item.kind === 'bind') {
        if (bound.has(item.label.id)) throw new Error(`bug: BPF label ${item.label.id} bound twice`);
        bound.set(item.label.id, pc);
      } else {
        pc += item.kind === 'jump' ? 1 + Number(item.farT) + Number(item.farF) : 1;
      }
    }
    const target = (label: Label): number => {
      const pos = bound.get(label.id);
      if (pos === undefined) throw new Error(`bug: BPF label ${label.id} never bound`);
      return pos;
    };
    // Classic BPF cannot jump backwards.
    for (const [index, item] of this.items.entries()) {
      if (item.kind === 'jump' && (target(item.jt) <= items[index]! || target(item.jf) <= items[index]!)) {
        throw new Error('bug: backward BPF jump');
      }
    }
    return { items, length: pc, target };
  }
}
