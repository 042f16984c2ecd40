import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_DEVICE_RULES, type DeviceRule } from '../../../../agent/runtime/cgroups/cgroup-manager.js';
import {
  DEVCG_ACCESS,
  DEVCG_TYPE,
  deviceFilterInstructions,
  encodeInstructions,
  type Instruction,
} from '../../../../agent/runtime/cgroups/device-filter-bpf.js';

/**
 * Runs the generated program on one device access, for the few opcodes the generator
 * emits: the logic is checked here for many cases; the kernel's verifier and the real
 * filter are exercised by the cgroup v2 tests (on the host's unified mount and in the VM).
 */
function run(program: readonly Instruction[], type: 'b' | 'c', major: number, minor: number, access: string): number {
  const ctx = [([...access] as (keyof typeof DEVCG_ACCESS)[]).reduce((m, c) => m | DEVCG_ACCESS[c], 0) * 65536 + DEVCG_TYPE[type], major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10_000; pc++, steps++) {
    const { code, dst, src, off, imm } = program[pc]!;
    switch (code) {
      case 0x61: // r[dst] = *(u32 *)(r1 + off)
        assert.equal(src, 1);
        r[dst] = ctx[off / 4]!;
        break;
      case 0x57:
        r[dst] = r[dst]! & imm;
        break;
      case 0x77:
        r[dst] = r[dst]! >>> imm;
        break;
      case 0xbf:
        r[dst] = r[src]!;
        break;
      case 0xb7:
        r[dst] = imm;
        break;
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break;
      case 0x5d:
        if (r[dst] !== r[src]) pc += off;
        break;
      case 0x95:
        return r[0]!;
      default:
        assert.fail(`unexpected opcode ${code.toString(16)}`);
    }
  }
  return assert.fail('no exit');
}

describe('device filter eBPF program', () => {
  const program = deviceFilterInstructions(DEFAULT_DEVICE_RULES);

  it('allows the default devices with any access', () => {
    for (const [major, minor] of [
      [1, 3],
      [1, 5],
      [1, 7],
      [1, 8],
      [1, 9],
      [5, 0],
      [5, 1],
      [5, 2],
      [136, 0],
      [136, 7],
      [10, 200],
    ] as const) {
      for (const access of ['r', 'w', 'rw', 'm', 'rwm']) assert.equal(run(program, 'c', major, minor, access), 1, `c ${major}:${minor} ${access}`);
    }
  });

  it('denies other devices, except mknod', () => {
    assert.equal(run(program, 'c', 1, 1, 'r'), 0, '/dev/mem');
    assert.equal(run(program, 'c', 1, 11, 'rw'), 0, '/dev/kmsg');
    assert.equal(run(program, 'b', 254, 0, 'r'), 0, '/dev/vda');
    assert.equal(run(program, 'b', 254, 0, 'm'), 1, 'mknod of a block device');
    assert.equal(run(program, 'c', 1, 1, 'm'), 1, 'mknod of a char device');
    assert.equal(run(program, 'c', 1, 1, 'rm'), 0, 'more than mknod');
    assert.equal(run(program, 'b', 1, 3, 'r'), 0, 'block 1:3 is not char 1:3');
  });

  it('checks the access asked for against the access allowed', () => {
    const readOnly: DeviceRule[] = [{ type: 'b', major: 8, minor: '*', access: 'r' }];
    const p = deviceFilterInstructions(readOnly);
    assert.equal(run(p, 'b', 8, 16, 'r'), 1);
    assert.equal(run(p, 'b', 8, 16, 'rw'), 0);
    assert.equal(run(p, 'b', 9, 16, 'r'), 0);
  });

  it('allows everything for "a *:* rwm" and nothing for an empty list', () => {
    const all = deviceFilterInstructions([{ type: 'a', major: '*', minor: '*', access: 'rwm' }]);
    assert.equal(run(all, 'b', 8, 0, 'rw'), 1);
    assert.equal(run(all, 'c', 1, 1, 'rwm'), 1);
    const none = deviceFilterInstructions([]);
    assert.equal(run(none, 'c', 1, 3, 'r'), 0);
  });

  it('encodes struct bpf_insn', () => {
    const bytes = encodeInstructions([{ code: 0x55, dst: 4, src: 0, off: 3, imm: 136 }]);
    assert.deepEqual([...bytes], [0x55, 0x04, 3, 0, 136, 0, 0, 0]);
    assert.equal(encodeInstructions(program).length, program.length * 8);
  });
});
