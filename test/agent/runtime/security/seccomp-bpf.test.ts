import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BpfAssembler, JEQ, JGE } from '../../../../agent/runtime/security/bpf-assembler.js';
import { compileSeccompFilter, type FilterRule } from '../../../../agent/runtime/security/seccomp-bpf.js';
import { ALLOW, errno, type ArgComparison } from '../../../../agent/runtime/security/seccomp-model.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, RET, runFilter } from './bpf-interpreter.js';

function program(syscalls: [number, FilterRule[]][], arch: 'x86_64' | 'aarch64' = 'x86_64') {
  return compileSeccompFilter({ arch, defaultAction: ALLOW, syscalls: new Map(syscalls) });
}

const x64 = (nr: number, ...args: bigint[]) => ({ nr, arch: AUDIT_ARCH_X86_64, args });

describe('BPF assembler', () => {
  it('encodes struct sock_filter entries little-endian', () => {
    const asm = new BpfAssembler();
    asm.load(4);
    asm.ret(0x7fff0000);
    const out = asm.assemble();
    assert.equal(out.toString('hex'), '2000000004000000' + '060000000000ff7f');
  });

  it('reaches targets more than 255 instructions away, on both branches, through trampolines', () => {
    for (const farBranch of ['true', 'false', 'both'] as const) {
      const asm = new BpfAssembler();
      const far = asm.label();
      const near = asm.label();
      asm.load(0);
      asm.jump(JEQ, 7, farBranch === 'false' ? near : far, farBranch === 'true' ? near : far);
      asm.bind(near);
      asm.ret(1);
      for (let i = 0; i < 600; i++) asm.ret(1000 + i); // padding, never reached
      asm.bind(far);
      asm.ret(2);
      const out = asm.assemble();
      const at = (nr: number) => runFilter(out, { nr, arch: 0 });
      if (farBranch === 'true') assert.deepEqual([at(7), at(8)], [2, 1]);
      if (farBranch === 'false') assert.deepEqual([at(7), at(8)], [1, 2]);
      if (farBranch === 'both') assert.deepEqual([at(7), at(8)], [2, 2]);
    }
  });

  it('keeps chains of far jumps right when trampolines push other targets farther', () => {
    const asm = new BpfAssembler();
    const targets = Array.from({ length: 40 }, () => asm.label());
    asm.load(0);
    targets.forEach((t, i) => {
      const next = asm.label();
      asm.jump(JEQ, i, t, next);
      asm.bind(next);
    });
    asm.ret(9999);
    targets.forEach((t, i) => {
      asm.bind(t);
      for (let j = 0; j < 20; j++) asm.ret(i);
    });
    const out = asm.assemble();
    for (let i = 0; i < 40; i++) assert.equal(runFilter(out, { nr: i, arch: 0 }), i);
    assert.equal(runFilter(out, { nr: 40, arch: 0 }), 9999);
  });

  it('refuses backward jumps and unbound labels (bugs)', () => {
    const asm = new BpfAssembler();
    const l = asm.label();
    asm.bind(l);
    asm.jump(JGE, 1, l, l);
    assert.throws(() => asm.assemble(), /backward/);
    const asm2 = new BpfAssembler();
    asm2.goto(asm2.label());
    assert.throws(() => asm2.assemble(), /never bound/);
  });
});

describe('seccomp filter', () => {
  it('kills the process for another architecture and refuses x32 calls on x86_64', () => {
    const p = program([[39, [{ args: [], action: errno(1) }]]]);
    assert.equal(runFilter(p, { nr: 39, arch: 0x40000003 /* i386 */ }), RET.KILL_PROCESS);
    assert.equal(runFilter(p, x64(0x40000000 | 39)), RET.errno(1));
    assert.equal(runFilter(p, x64(-1)), RET.ALLOW);
    assert.equal(runFilter(p, x64(39)), RET.errno(1));
    assert.equal(runFilter(p, x64(40)), RET.ALLOW);
    const a = program([[172, [{ args: [], action: errno(1) }]]], 'aarch64');
    assert.equal(runFilter(a, { nr: 172, arch: AUDIT_ARCH_X86_64 }), RET.KILL_PROCESS);
    assert.equal(runFilter(a, { nr: 172, arch: AUDIT_ARCH_AARCH64 }), RET.errno(1));
    assert.equal(runFilter(a, { nr: 0x40000000 | 172, arch: AUDIT_ARCH_AARCH64 }), RET.ALLOW);
  });

  it('finds every listed syscall among many (binary search), and only those', () => {
    const listed = Array.from({ length: 300 }, (_, i) => i * 3 + 1);
    const p = program(listed.map((nr) => [nr, [{ args: [], action: errno(nr % 4000) }]]));
    for (let nr = 0; nr < 905; nr++) {
      const expected = listed.includes(nr) ? RET.errno(nr % 4000) : RET.ALLOW;
      assert.equal(runFilter(p, x64(nr)), expected, `nr ${nr}`);
    }
  });

  it('returns each action code', () => {
    const actions = [ALLOW, errno(38), { type: 'kill-thread' }, { type: 'kill-process' }, { type: 'trap' }, { type: 'log' }] as const;
    const p = compileSeccompFilter({
      arch: 'x86_64',
      defaultAction: errno(1),
      syscalls: new Map(actions.map((action, i) => [i, [{ args: [], action }]])),
    });
    assert.deepEqual(
      actions.map((_, i) => runFilter(p, x64(i))),
      [RET.ALLOW, RET.errno(38), RET.KILL_THREAD, RET.KILL_PROCESS, RET.TRAP, RET.LOG],
    );
    assert.equal(runFilter(p, x64(99)), RET.errno(1));
  });

  it('compares 64-bit arguments by both halves, unsigned', () => {
    const values = [0n, 1n, 0xffffffffn, 0x100000000n, 0x100000001n, 0xfffffffe00000000n, 0xffffffffffffffffn, 0x7e020000n, 0x200n];
    const pivot = 0x100000000n;
    const cases: [ArgComparison, (v: bigint) => boolean][] = [
      [{ index: 2, op: 'eq', value: pivot }, (v) => v === pivot],
      [{ index: 2, op: 'ne', value: pivot }, (v) => v !== pivot],
      [{ index: 2, op: 'gt', value: pivot }, (v) => v > pivot],
      [{ index: 2, op: 'ge', value: pivot }, (v) => v >= pivot],
      [{ index: 2, op: 'lt', value: pivot }, (v) => v < pivot],
      [{ index: 2, op: 'le', value: pivot }, (v) => v <= pivot],
      [{ index: 2, op: 'masked-eq', mask: 0x7e020000n, value: 0n }, (v) => (v & 0x7e020000n) === 0n],
      [{ index: 2, op: 'masked-eq', mask: 0xffff00000000ffffn, value: 0xfffe000000000000n }, (v) => (v & 0xffff00000000ffffn) === 0xfffe000000000000n],
    ];
    for (const [cmp, holds] of cases) {
      const p = program([[5, [{ args: [cmp], action: errno(13) }]]]);
      for (const v of values) {
        const expected = holds(v) ? RET.errno(13) : RET.ALLOW;
        assert.equal(runFilter(p, x64(5, 0n, 0n, v)), expected, `${cmp.op} ${cmp.value} with ${v}`);
      }
    }
  });

  it('ANDs the comparisons of a rule and takes the first matching rule', () => {
    const p = program([
      [
        9,
        [
          {
            args: [
              { index: 0, op: 'eq', value: 1n },
              { index: 1, op: 'eq', value: 2n },
            ],
            action: errno(11),
          },
          { args: [{ index: 0, op: 'eq', value: 1n }], action: errno(12) },
          { args: [], action: errno(13) },
        ],
      ],
    ]);
    assert.equal(runFilter(p, x64(9, 1n, 2n)), RET.errno(11));
    assert.equal(runFilter(p, x64(9, 1n, 3n)), RET.errno(12));
    assert.equal(runFilter(p, x64(9, 0n, 2n)), RET.errno(13));
  });

  it('stays correct when rules put syscalls far apart (long jumps from the search)', () => {
    const padding: FilterRule[] = Array.from({ length: 200 }, (_, i) => ({ args: [{ index: 5, op: 'eq', value: BigInt(1000 + i) }], action: errno(7) }));
    const p = program([
      [1, padding],
      [2, [{ args: [], action: errno(2) }]],
      [300, [{ args: [{ index: 0, op: 'ne', value: 0n }], action: errno(3) }]],
    ]);
    assert.ok(p.length / 8 > 1000);
    assert.equal(runFilter(p, x64(1, 0n, 0n, 0n, 0n, 0n, 1199n)), RET.errno(7));
    assert.equal(runFilter(p, x64(1)), RET.ALLOW);
    assert.equal(runFilter(p, x64(2)), RET.errno(2));
    assert.equal(runFilter(p, x64(300, 5n)), RET.errno(3));
    assert.equal(runFilter(p, x64(300, 0n)), RET.ALLOW);
  });

  it('refuses a program longer than the kernel accepts', () => {
    const huge: FilterRule[] = Array.from({ length: 1000 }, (_, i) => ({ args: [{ index: 0, op: 'eq', value: BigInt(i) }], action: errno(1) }));
    assert.throws(
      () => program([[1, huge]]),
      (e: Error & { code?: string }) => e.code === 'E_SECCOMP_PROFILE' && /kernel's limit of 4096/.test(e.message),
    );
  });
});
