// Credentials and capabilities on the real kernel: a child applies them to its main
// thread as the init does, reports its own /proc/thread-self/status, then execs cat of
// /proc/self/status, which shows what the container's process would get.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { capabilityMask, capabilityNames, DEFAULT_CAPABILITIES, resolveCapabilities } from '../../../../agent/runtime/security/capabilities.js';
import { parseCapabilityStatus, readThreadCapabilities, unavailableCapabilities } from '../../../../agent/runtime/security/credentials.js';
import { runSecurityChild } from './run-security-child.js';

const DEFAULT_MASK = capabilityMask(DEFAULT_CAPABILITIES);
const CAT_STATUS = ['/bin/cat', '/proc/self/status'];
const lastCapability = () => Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));

describe('credentials and capabilities on the kernel', () => {
  it('uid 0 keeps exactly the mask: effective, permitted and bounding; nothing inheritable or ambient', () => {
    const { status, report, execOutput } = runSecurityChild({
      credentials: { uid: 0, gid: 0, additionalGids: [] },
      capabilities: DEFAULT_MASK.toString(16),
      exec: CAT_STATUS,
    });
    assert.equal(status, 0);
    assert.deepEqual(report.caps, { inheritable: '0', permitted: 'a80425fb', effective: 'a80425fb', bounding: 'a80425fb', ambient: '0' });
    const after = parseCapabilityStatus(execOutput);
    assert.deepEqual(after, { inheritable: 0n, permitted: DEFAULT_MASK, effective: DEFAULT_MASK, bounding: DEFAULT_MASK, ambient: 0n });
    assert.match(execOutput, /^Uid:\s+0\s+0\s+0\s+0$/m);
  });

  it('drop ALL, add NET_BIND_SERVICE leaves that one capability', () => {
    const r = resolveCapabilities({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    assert.ok('mask' in r);
    const { status, execOutput } = runSecurityChild({
      credentials: { uid: 0, gid: 0, additionalGids: [] },
      capabilities: r.mask.toString(16),
      exec: CAT_STATUS,
    });
    assert.equal(status, 0);
    const after = parseCapabilityStatus(execOutput);
    assert.equal(after.effective, 0x400n);
    assert.equal(after.permitted, 0x400n);
    assert.equal(after.bounding, 0x400n);
  });

  it('uid 1000: ids and groups set, effective and permitted empty, bounding = mask', () => {
    const { status, report, execOutput } = runSecurityChild({
      credentials: { uid: 1000, gid: 1001, additionalGids: [1002, 1003] },
      capabilities: DEFAULT_MASK.toString(16),
      noNewPrivileges: true,
      exec: CAT_STATUS,
    });
    assert.equal(status, 0);
    assert.deepEqual(report.caps, { inheritable: '0', permitted: '0', effective: '0', bounding: 'a80425fb', ambient: '0' });
    assert.deepEqual(parseCapabilityStatus(execOutput), { inheritable: 0n, permitted: 0n, effective: 0n, bounding: DEFAULT_MASK, ambient: 0n });
    assert.match(execOutput, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(execOutput, /^Gid:\s+1001\s+1001\s+1001\s+1001$/m);
    assert.match(execOutput, /^Groups:\s+1002 1003\s*$/m);
    assert.match(execOutput, /^NoNewPrivs:\s+1$/m);
  });

  it('a mask with every capability (privileged) is cut to what the kernel knows and the runtime holds', () => {
    const everything = (1n << 63n) - 1n;
    const { status, execOutput } = runSecurityChild({
      credentials: { uid: 0, gid: 0, additionalGids: [] },
      capabilities: everything.toString(16),
      exec: CAT_STATUS,
    });
    assert.equal(status, 0);
    const own = readThreadCapabilities('/proc/self/status');
    const expected = ((1n << BigInt(lastCapability() + 1)) - 1n) & own.permitted;
    assert.equal(parseCapabilityStatus(execOutput).bounding, expected);
    assert.equal(parseCapabilityStatus(execOutput).effective, expected);
    assert.deepEqual(unavailableCapabilities(everything & ((1n << BigInt(lastCapability() + 1)) - 1n)), capabilityNames(~own.bounding & ((1n << 41n) - 1n)));
  });
});
