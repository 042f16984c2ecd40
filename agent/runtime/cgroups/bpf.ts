// The bpf(2) calls a cgroup v2 device filter needs, through koffi: load a
// BPF_PROG_TYPE_CGROUP_DEVICE program, attach it to a cgroup directory, and replace the
// program attached before (query, then detach the old ones once the new one is in).
//
// Replacing: the new program is attached (BPF_F_ALLOW_MULTI) before the old ones are
// detached, so that some filter applies at every moment; while both are attached a
// device must pass both, which is never more than either allows.
import koffi from 'koffi';
import { closeSync, constants, openSync } from 'node:fs';
import { AgentFailure } from '../../rpc/failure.js';
import { bpfSyscallNumber, describeErrno, errnoName } from '../libc.js';

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;
// Big enough for every field used here; the kernel zero-fills what it knows beyond our size
// and accepts a larger size when the tail is zero.
const ATTR_SIZE = 144;
const LOG_SIZE = 64 * 1024;
const MAX_QUERY = 64;

type BpfFn = (nr: number, cmd: number, attr: Buffer, size: number) => number | bigint;
let bpfFn: BpfFn | undefined;

function bpf(cmd: number, attr: Buffer): number {
  bpfFn ??= koffi.load('libc.so.6').func('long syscall(long nr, long cmd, void *attr, unsigned int size)') as BpfFn;
  return Number(bpfFn(bpfSyscallNumber(), cmd, attr, attr.length));
}

class BpfError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${errnoName(errno)} (${describeErrno(errno)})`);
  }
}

function call(cmd: number, attr: Buffer, name: string): number {
  const r = bpf(cmd, attr);
  if (r < 0) throw new BpfError(name, koffi.errno());
  return r;
}

function address(buf: Buffer): bigint {
  return BigInt(koffi.address(buf) as number | bigint);
}

/** Loads the program; the caller closes the returned fd. */
function loadProgram(instructions: Buffer): number {
  const license = Buffer.from('Apache\0');
  const load = (log: Buffer | undefined) => {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0);
    attr.writeUInt32LE(instructions.length / 8, 4);
    attr.writeBigUInt64LE(address(instructions), 8);
    attr.writeBigUInt64LE(address(license), 16);
    if (log) {
      attr.writeUInt32LE(1, 24);
      attr.writeUInt32LE(log.length, 28);
      attr.writeBigUInt64LE(address(log), 32);
    }
    attr.write('tsi_devices', 48, 'latin1');
    return call(BPF_PROG_LOAD, attr, 'bpf(BPF_PROG_LOAD)');
  };
  try {
    return load(undefined);
  } catch (e) {
    if (!(e instanceof BpfError) || (e.errno !== 22 && e.errno !== 13)) throw e;
    // Again with the verifier's log, for the message.
    const log = Buffer.alloc(LOG_SIZE);
    try {
      return load(log);
    } catch (again) {
      const text = log
        .toString('latin1', 0, Math.max(0, log.indexOf(0)))
        .trim()
        .split('\n')
        .slice(-5)
        .join(' / ');
      throw new Error(`${(again as Error).message}${text ? `: verifier: ${text}` : ''}`, { cause: again });
    }
  }
}

/** The programs attached to the cgroup directory open as `cgroupFd`, and the attach flags. */
function query(cgroupFd: number): { flags: number; ids: number[] } {
  const ids = Buffer.alloc(MAX_QUERY * 4);
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4);
  attr.writeBigUInt64LE(address(ids), 16);
  attr.writeUInt32LE(MAX_QUERY, 24);
  call(BPF_PROG_QUERY, attr, 'bpf(BPF_PROG_QUERY)');
  const count = attr.readUInt32LE(24);
  return { flags: attr.readUInt32LE(12), ids: Array.from({ length: count }, (_, i) => ids.readUInt32LE(i * 4)) };
}

function programFd(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0);
  return call(BPF_PROG_GET_FD_BY_ID, attr, 'bpf(BPF_PROG_GET_FD_BY_ID)');
}

function attach(cgroupFd: number, progFd: number, flags: number): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  attr.writeUInt32LE(flags, 12);
  call(BPF_PROG_ATTACH, attr, 'bpf(BPF_PROG_ATTACH)');
}

function detach(cgroupFd: number, progFd: number): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8);
  call(BPF_PROG_DETACH, attr, 'bpf(BPF_PROG_DETACH)');
}

function withCgroupDir<T>(dir: string, what: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AgentFailure('E_CGROUP_NOT_FOUND', `${what}: cgroup ${dir} does not exist (create it first)`);
    throw e;
  }
  try {
    return fn(fd);
  } catch (e) {
    if (e instanceof AgentFailure) throw e;
    throw new AgentFailure('E_CGROUP_BPF', `${what}: cannot install the device filter on ${dir}: ${(e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** Attaches `instructions` as the cgroup's device filter, replacing the ones attached before. */
export function replaceDeviceFilter(dir: string, instructions: Buffer, what: string): void {
  withCgroupDir(dir, what, (cgroupFd) => {
    const old = query(cgroupFd);
    const progFd = loadProgram(instructions);
    try {
      if (old.ids.length > 0 && (old.flags & BPF_F_ALLOW_MULTI) === 0) {
        // Attached by someone else without ALLOW_MULTI: attaching with the same flags replaces it.
        attach(cgroupFd, progFd, old.flags);
        return;
      }
      attach(cgroupFd, progFd, BPF_F_ALLOW_MULTI);
      for (const id of old.ids) {
        const oldFd = programFd(id);
        try {
          detach(cgroupFd, oldFd);
        } finally {
          closeSync(oldFd);
        }
      }
    } finally {
      closeSync(progFd);
    }
  });
}

/** Ids of the device programs attached to a cgroup directory (tests, diagnostics). */
export function attachedDeviceFilters(dir: string): number[] {
  return withCgroupDir(dir, 'device filter query', (fd) => query(fd).ids);
}
