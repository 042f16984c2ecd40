import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { capabilityMask, DEFAULT_CAPABILITIES } from '../../../../agent/runtime/security/capabilities.js';
import { buildSeccompProgram, defaultSeccompProfile, kernelAtLeast, loadSeccompProfile } from '../../../../agent/runtime/security/seccomp-profile.js';
import { knownSyscallNames, syscallNumber, type SeccompArch } from '../../../../agent/runtime/security/syscall-numbers.js';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, RET, runFilter } from './bpf-interpreter.js';

const DEFAULT_MASK = capabilityMask(DEFAULT_CAPABILITIES);
const AUDIT: Record<SeccompArch, number> = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };

/** What `program` decides for `name(args)` on `arch`. */
function decide(program: Buffer, arch: SeccompArch, name: string, ...args: bigint[]): number {
  const nr = syscallNumber(arch, name);
  assert.ok(nr !== undefined, `${name} on ${arch}`);
  return runFilter(program, { nr, arch: AUDIT[arch], args });
}

function failure(code: string, pattern: RegExp) {
  return (e: Error & { code?: string }) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('default seccomp profile', () => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    it(`${arch}: refuses what Docker refuses for default capabilities, allows the rest`, () => {
      const p = buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, arch);
      const EPERM = RET.errno(1);
      for (const name of [
        'mount',
        'umount2',
        'unshare',
        'setns',
        'pivot_root',
        'kexec_load',
        'kexec_file_load',
        'init_module',
        'finit_module',
        'delete_module',
        'bpf',
        'keyctl',
        'add_key',
        'request_key',
        'ptrace',
        'process_vm_readv',
        'process_vm_writev',
        'kcmp',
        'reboot',
        'acct',
        'swapon',
        'swapoff',
        'settimeofday',
        'clock_settime',
        'clock_adjtime',
        'mbind',
        'set_mempolicy',
        'get_mempolicy',
        'move_pages',
        'userfaultfd',
        'perf_event_open',
        'quotactl',
        'lookup_dcookie',
        'open_by_handle_at',
        'name_to_handle_at',
        'fsopen',
        'fsconfig',
        'fsmount',
        'fspick',
        'open_tree',
        'move_mount',
        'mount_setattr',
        'nfsservctl',
        'syslog',
        'vhangup',
      ]) {
        assert.equal(decide(p, arch, name), EPERM, name);
      }
      if (arch === 'x86_64') {
        for (const name of ['iopl', 'ioperm', 'uselib', 'ustat', 'sysfs', '_sysctl', 'create_module', 'get_kernel_syms', 'query_module']) {
          assert.equal(decide(p, arch, name), EPERM, name);
        }
      }
      for (const name of ['read', 'write', 'openat', 'execve', 'getpid', 'mkdirat', 'chroot', 'socket', 'setresuid', 'capset', 'prctl', 'seccomp', 'wait4']) {
        assert.equal(decide(p, arch, name), RET.ALLOW, name);
      }
      assert.equal(decide(p, arch, 'clone3'), RET.errno(38));
      assert.equal(decide(p, arch, 'clone', 0x11n /* SIGCHLD: fork */), RET.ALLOW);
      assert.equal(decide(p, arch, 'clone', 0x3d0f00n /* pthread_create's flags */), RET.ALLOW);
      for (const flag of [0x20000n, 0x02000000n, 0x04000000n, 0x08000000n, 0x10000000n, 0x20000000n, 0x40000000n]) {
        assert.equal(decide(p, arch, 'clone', 0x11n | flag), EPERM, `clone with 0x${flag.toString(16)}`);
      }
      for (const persona of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) assert.equal(decide(p, arch, 'personality', persona), RET.ALLOW);
      for (const persona of [6n, 0x40000n, 0x0400000n]) assert.equal(decide(p, arch, 'personality', persona), EPERM);
      assert.equal(decide(p, arch, 'socket', 40n), EPERM);
      assert.equal(decide(p, arch, 'socket', 2n), RET.ALLOW);
    });
  }

  it('names only syscalls that exist somewhere', () => {
    for (const rule of defaultSeccompProfile.rules) {
      for (const name of rule.names) assert.ok(knownSyscallNames().has(name), name);
    }
  });

  it('lifts each group with the capability Docker ties it to', () => {
    const with_ = (...caps: string[]) => buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK | capabilityMask(caps), 'x86_64');
    const admin = with_('SYS_ADMIN');
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'fsopen', 'bpf', 'perf_event_open', 'syslog', 'sethostname']) {
      assert.equal(decide(admin, 'x86_64', name), RET.ALLOW, name);
    }
    assert.equal(decide(admin, 'x86_64', 'clone', 0x20000n | 0x11n), RET.ALLOW);
    assert.equal(decide(admin, 'x86_64', 'clone3'), RET.ALLOW);
    assert.equal(decide(admin, 'x86_64', 'pivot_root'), RET.errno(1), 'Docker refuses pivot_root even with CAP_SYS_ADMIN');
    assert.equal(decide(admin, 'x86_64', 'ptrace'), RET.errno(1));
    const groups: [string, string[]][] = [
      ['SYS_PTRACE', ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp']],
      ['SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['SYS_BOOT', ['reboot']],
      ['SYS_TIME', ['settimeofday', 'clock_settime', 'clock_adjtime']],
      ['SYS_RAWIO', ['iopl', 'ioperm']],
      ['SYS_PACCT', ['acct']],
      ['SYS_NICE', ['mbind', 'set_mempolicy', 'get_mempolicy', 'move_pages']],
      ['BPF', ['bpf']],
      ['PERFMON', ['perf_event_open']],
      ['DAC_READ_SEARCH', ['open_by_handle_at']],
    ];
    for (const [cap, names] of groups) {
      const p = with_(cap);
      for (const name of names) assert.equal(decide(p, 'x86_64', name), RET.ALLOW, `${name} with ${cap}`);
      assert.equal(decide(p, 'x86_64', 'mount'), RET.errno(1), `mount with ${cap}`);
    }
    // Without CAP_SYS_CHROOT (dropped), chroot is refused.
    const noChroot = buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK & ~capabilityMask(['SYS_CHROOT']), 'x86_64');
    assert.equal(decide(noChroot, 'x86_64', 'chroot'), RET.errno(1));
  });

  it('accepts os.arch() spellings and refuses other architectures', () => {
    assert.deepEqual(buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, 'x64'), buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, 'x86_64'));
    assert.deepEqual(buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, 'arm64'), buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, 'aarch64'));
    assert.throws(
      () => buildSeccompProgram(defaultSeccompProfile, DEFAULT_MASK, 'riscv64'),
      failure('E_SECCOMP_ARCH', /x86_64 and aarch64 only, this host is riscv64/),
    );
  });
});

describe('loadSeccompProfile', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsi-seccomp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
    return path;
  };

  it('knows "default" and "unconfined"', () => {
    assert.equal(loadSeccompProfile('default'), defaultSeccompProfile);
    assert.equal(loadSeccompProfile('unconfined'), null);
  });

  it('reads a Docker-format deny rule with errnoRet', () => {
    const path = file('deny-mkdir.json', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    const profile = loadSeccompProfile(path)!;
    assert.equal(profile.source, path);
    const p = buildSeccompProgram(profile, DEFAULT_MASK, 'x86_64');
    assert.equal(decide(p, 'x86_64', 'mkdir'), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'mkdirat'), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'rmdir'), RET.ALLOW);
    // aarch64 has no mkdir: skipped there, mkdirat still refused.
    assert.equal(decide(buildSeccompProgram(profile, DEFAULT_MASK, 'aarch64'), 'aarch64', 'mkdirat'), RET.errno(1));
  });

  it('reads an allow-list profile with includes, excludes, arch-only names and argument comparisons', () => {
    const path = file('allow-list.json', {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['read', 'write', 'chown32', '_llseek', 'arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW', args: [], comment: 'plain' },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        {
          names: ['clone'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
          excludes: { caps: ['CAP_SYS_ADMIN'] },
        },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
        { names: ['lseek'], action: 'SCMP_ACT_LOG', args: [{ index: 2, value: '0xffffffffffffffff', op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS' },
      ],
    });
    const profile = loadSeccompProfile(path)!;
    const p = buildSeccompProgram(profile, DEFAULT_MASK, 'x86_64', '6.1.0-18-amd64');
    assert.equal(decide(p, 'x86_64', 'read'), RET.ALLOW);
    assert.equal(decide(p, 'x86_64', 'getpid'), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'ptrace'), RET.ALLOW);
    assert.equal(decide(buildSeccompProgram(profile, DEFAULT_MASK, 'x86_64', '4.4.0'), 'x86_64', 'ptrace'), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'arch_prctl'), RET.ALLOW);
    assert.equal(decide(p, 'x86_64', 'mount'), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'clone', 0x11n), RET.ALLOW);
    assert.equal(decide(p, 'x86_64', 'clone', 0x20011n), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'clone3'), RET.errno(38));
    assert.equal(decide(p, 'x86_64', 'socket', 2n), RET.ALLOW);
    assert.equal(decide(p, 'x86_64', 'socket', 40n), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'lseek', 0n, 0n, 0xffffffffffffffffn), RET.LOG);
    assert.equal(decide(p, 'x86_64', 'lseek', 0n, 0n, 0xffffffffn), RET.errno(1));
    assert.equal(decide(p, 'x86_64', 'kill'), RET.KILL_PROCESS);
    const admin = buildSeccompProgram(profile, DEFAULT_MASK | capabilityMask(['SYS_ADMIN']), 'x86_64');
    assert.equal(decide(admin, 'x86_64', 'mount'), RET.ALLOW);
    assert.equal(decide(admin, 'x86_64', 'clone', 0x11n), RET.errno(1), 'the clone rule is excluded with CAP_SYS_ADMIN and nothing else allows clone');
    assert.equal(decide(admin, 'x86_64', 'clone3'), RET.errno(1));
    assert.equal(decide(buildSeccompProgram(profile, DEFAULT_MASK, 'aarch64'), 'aarch64', 'read'), RET.ALLOW);
  });

  it('refuses a relative path, a missing file, a directory and bad JSON, naming the file', () => {
    assert.throws(
      () => loadSeccompProfile('profiles/x.json'),
      failure('E_SECCOMP_PROFILE', /"profiles\/x.json": use "default", "unconfined" or the absolute path/),
    );
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadSeccompProfile(missing), failure('E_SECCOMP_PROFILE', new RegExp(`seccomp profile ${missing} does not exist on this host`)));
    assert.throws(() => loadSeccompProfile(dir), failure('E_SECCOMP_PROFILE', /is not a regular file/));
    const bad = file('bad.json', '{"defaultAction": ');
    assert.throws(() => loadSeccompProfile(bad), failure('E_SECCOMP_PROFILE', new RegExp(`seccomp profile ${bad}: not valid JSON`)));
  });

  it('reports what is wrong inside a profile, with the field and a suggestion', () => {
    const cases: [unknown, RegExp][] = [
      [{ syscalls: [] }, /defaultAction: /],
      [{ defaultAction: 'SCMP_ACT_ALOW' }, /defaultAction: unknown action "SCMP_ACT_ALOW" \(did you mean SCMP_ACT_ALLOW\?\)/],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdri'], action: 'SCMP_ACT_ERRNO' }] },
        /syscalls\[0\]\.names\[0\]: unknown syscall "mkdri" \(did you mean mkdir\?\)/,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }, /syscalls\[0\]\.names: lists no syscall/],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_TRACE' }] },
        /syscalls\[0\]\.action: SCMP_ACT_TRACE is not supported/,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, /errno 70000 is out of range/],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }] }] },
        /syscalls\[0\]\.args\[0\]\.op: unknown comparison "SCMP_CMP_EQUAL"/,
      ],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
        /syscalls\[0\]\.args\[0\]\.index/,
      ],
      [
        {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2 ** 64, op: 'SCMP_CMP_EQ' }] }],
        },
        /too large to be read exactly from a JSON number; write it as a string/,
      ],
      [
        { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMN'] } }] },
        /includes\.caps\[0\]: unknown capability "CAP_SYS_ADMN" \(did you mean CAP_SYS_ADMIN\?\)/,
      ],
      [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/seccomp.sock' }, /listenerPath: seccomp notification listeners are not supported/],
    ];
    cases.forEach(([content, pattern], i) => {
      const path = file(`case-${i}.json`, content);
      assert.throws(() => loadSeccompProfile(path), failure('E_SECCOMP_PROFILE', new RegExp(`seccomp profile ${path}: .*${pattern.source}`)), `case ${i}`);
    });
  });
});

describe('kernelAtLeast', () => {
  it('compares major and minor', () => {
    assert.ok(kernelAtLeast('6.18.44-fc-v595', '4.8'));
    assert.ok(kernelAtLeast('4.8.0', '4.8'));
    assert.ok(!kernelAtLeast('4.7.10', '4.8'));
    assert.ok(!kernelAtLeast('3.10.0-1160.el7.x86_64', '4.8'));
  });
});
