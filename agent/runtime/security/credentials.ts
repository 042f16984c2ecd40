// The init's last identity changes before execve: groups and ids, then capabilities.
// Everything here acts on the calling thread (capabilities, keep-caps) or, through
// glibc's set*id broadcast, on the whole process (ids, groups): call it from the init's
// main thread, which then execs.
//
//   applyCredentials   keep-caps on, setgroups, setresgid, setresuid
//                      (root -> uid N empties the effective set; keep-caps saves the
//                      permitted one, needed to shrink the bounding set next)
//   applyCapabilities  effective = permitted again (CAP_SETPCAP), drop from the bounding
//                      set what the mask lacks, clear ambient, then the final sets:
//                        uid 0:   effective = permitted = mask
//                        uid N:   effective = permitted = {} (as Docker does); a setcap'd
//                                 binary can still gain what the bounding set allows
//                      inheritable is always empty (CVE-2022-24769).
import { readFileSync } from 'node:fs';
import { capset, PR, prctl, setgroups, setresgid, setresuid, SyscallError } from '../libc.js';
import { capabilityNames, type CapabilityName } from './capabilities.js';

export interface ProcessCredentials {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: readonly number[];
}

export function applyCredentials(creds: ProcessCredentials): void {
  prctl(PR.SET_KEEPCAPS, 1);
  setgroups(creds.additionalGids);
  setresgid(creds.gid);
  setresuid(creds.uid);
}

/** The calling thread's capability sets, from /proc/thread-self/status. */
export interface ThreadCapabilities {
  readonly inheritable: bigint;
  readonly permitted: bigint;
  readonly effective: bigint;
  readonly bounding: bigint;
  readonly ambient: bigint;
}

export function readThreadCapabilities(statusPath = '/proc/thread-self/status'): ThreadCapabilities {
  return parseCapabilityStatus(readFileSync(statusPath, 'utf8'));
}

/** The Cap* lines of a /proc/PID/status text. */
export function parseCapabilityStatus(status: string): ThreadCapabilities {
  const field = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    if (!m) throw new Error(`bug: no ${name} line in a /proc status file`);
    return BigInt('0x' + m[1]);
  };
  return { inheritable: field('CapInh'), permitted: field('CapPrm'), effective: field('CapEff'), bounding: field('CapBnd'), ambient: field('CapAmb') };
}

/**
 * Sets the calling thread's capabilities for a container with capability mask `mask`.
 * A container never gets more than the runtime holds: capabilities the thread's
 * permitted set lacks (unknown to the kernel, or a runtime itself confined, as in a
 * nested container) are left out; unavailableCapabilities() tells which, beforehand.
 * Works from the thread's own sets only (no /proc/sys), so it runs after pivot_root.
 */
export function applyCapabilities(mask: bigint, opts: { readonly uid: number; readonly current?: ThreadCapabilities }): void {
  // Read before the credentials change when the uid does: a process that switched uid is
  // no longer dumpable, and its /proc files then belong to root.
  const current = opts.current ?? readThreadCapabilities();
  const keep = mask & current.permitted;
  capset(current.permitted, current.permitted, 0n);
  for (const cap of bits(current.bounding & ~keep)) prctl(PR.CAPBSET_DROP, cap);
  clearAmbient();
  if (opts.uid === 0) capset(keep, keep, 0n);
  else capset(0n, 0n, 0n);
  prctl(PR.SET_KEEPCAPS, 0);
}

/** The capabilities of `mask` this process could not pass on (not in its bounding set). */
export function unavailableCapabilities(mask: bigint, statusPath = '/proc/self/status'): CapabilityName[] {
  return capabilityNames(mask & ~readThreadCapabilities(statusPath).bounding);
}

function bits(mask: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; mask >> BigInt(i) !== 0n; i++) if ((mask >> BigInt(i)) & 1n) out.push(i);
  return out;
}

function clearAmbient(): void {
  try {
    prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL);
  } catch (e) {
    // Kernels before 4.3 have no ambient set, so nothing to clear.
    if (!(e instanceof SyscallError && e.code === 'EINVAL')) throw e;
  }
}
