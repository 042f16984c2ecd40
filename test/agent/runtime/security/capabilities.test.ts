import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allCapabilitiesMask,
  canonicalCapability,
  CAPABILITY_NAMES,
  capabilityMask,
  capabilityNames,
  capabilityNumber,
  DEFAULT_CAPABILITIES,
  resolveCapabilities,
  validateCapabilities,
} from '../../../../agent/runtime/security/capabilities.js';

describe('capability names', () => {
  it('numbers them as the kernel does, CAP_CHOWN 0 to CAP_CHECKPOINT_RESTORE 40', () => {
    assert.equal(CAPABILITY_NAMES.length, 41);
    assert.equal(capabilityNumber('CAP_CHOWN'), 0);
    assert.equal(capabilityNumber('NET_ADMIN'), 12);
    assert.equal(capabilityNumber('sys_admin'), 21);
    assert.equal(capabilityNumber('CAP_AUDIT_WRITE'), 29);
    assert.equal(capabilityNumber('cap_bpf'), 39);
    assert.equal(capabilityNumber('CHECKPOINT_RESTORE'), 40);
    assert.equal(capabilityNumber('ALL'), undefined);
    assert.equal(capabilityNumber('NET_ADMN'), undefined);
  });

  it('accepts any case, with or without CAP_, and ALL', () => {
    assert.equal(canonicalCapability('net_admin'), 'CAP_NET_ADMIN');
    assert.equal(canonicalCapability(' Cap_Net_Admin '), 'CAP_NET_ADMIN');
    assert.equal(canonicalCapability('all'), 'ALL');
    assert.equal(canonicalCapability('CAP_ALL'), undefined);
  });

  it('the default set is runc and Docker default: mask 0xa80425fb', () => {
    assert.equal(capabilityMask(DEFAULT_CAPABILITIES), 0xa80425fbn);
    assert.equal(allCapabilitiesMask(), (1n << 41n) - 1n);
    assert.deepEqual(capabilityNames(0x1400n), ['CAP_NET_BIND_SERVICE', 'CAP_NET_ADMIN']);
  });
});

describe('resolveCapabilities', () => {
  const ok = (r: ReturnType<typeof resolveCapabilities>) => {
    if ('errors' in r) assert.fail(r.errors.map((e) => e.message).join('; '));
    return r;
  };

  it('gives the default set when nothing changes', () => {
    const r = ok(resolveCapabilities({}));
    assert.equal(r.mask, 0xa80425fbn);
    assert.equal(r.names.length, 14);
  });

  it('drop ALL, add NET_BIND_SERVICE gives just that one', () => {
    const r = ok(resolveCapabilities({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] }));
    assert.deepEqual(r.names, ['CAP_NET_BIND_SERVICE']);
    assert.equal(r.mask, 1n << 10n);
  });

  it('removes what drop lists, then adds what add lists', () => {
    const r = ok(resolveCapabilities({ drop: ['cap_net_raw', 'MKNOD'], add: ['CAP_SYS_ADMIN', 'net_admin'] }));
    assert.ok(!r.names.includes('CAP_NET_RAW'));
    assert.ok(!r.names.includes('CAP_MKNOD'));
    assert.ok(r.names.includes('CAP_SYS_ADMIN'));
    assert.ok(r.names.includes('CAP_NET_ADMIN'));
    // A name in both lists is kept (drop first, then add), as Docker does.
    assert.ok(ok(resolveCapabilities({ drop: ['CHOWN'], add: ['CHOWN'] })).names.includes('CAP_CHOWN'));
  });

  it('add ALL gives every capability except those dropped', () => {
    const r = ok(resolveCapabilities({ add: ['ALL'], drop: ['SYS_MODULE'] }));
    assert.equal(r.names.length, 40);
    assert.ok(!r.names.includes('CAP_SYS_MODULE'));
    assert.equal(ok(resolveCapabilities({ add: ['all'] })).mask, allCapabilitiesMask());
  });

  it('reports unknown names with their path and a suggestion in the spelling used', () => {
    const r = resolveCapabilities({ add: ['NET_ADMN', 'CAP_SYS_ADMNI'], drop: ['frobnicate'] });
    assert.ok('errors' in r);
    assert.deepEqual(
      r.errors.map((e) => e.path),
      [
        ['add', 0],
        ['add', 1],
        ['drop', 0],
      ],
    );
    assert.match(r.errors[0]!.message, /capabilities\.add\[0\]: unknown capability "NET_ADMN" \(did you mean NET_ADMIN\?\)/);
    assert.match(r.errors[1]!.message, /did you mean CAP_SYS_ADMIN\?/);
    assert.match(r.errors[2]!.message, /unknown capability "frobnicate"; capability names are those of capabilities\(7\)/);
  });

  it('validateCapabilities is the same check without resolving', () => {
    assert.deepEqual(validateCapabilities({ add: ['NET_ADMIN'], drop: ['ALL'] }), []);
    assert.equal(validateCapabilities({ add: [''] }).length, 1);
  });
});
