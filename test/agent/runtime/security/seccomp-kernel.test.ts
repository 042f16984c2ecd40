// The seccomp filters on the real kernel: a child process installs one on its main
// thread and tries system calls. The child keeps root's full capabilities unless a test
// drops them, so an EPERM it sees comes from the filter, not from a capability check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { capabilityMask, DEFAULT_CAPABILITIES } from '../../../../agent/runtime/security/capabilities.js';
import { parseCapabilityStatus } from '../../../../agent/runtime/security/credentials.js';
import { buildSeccompProgram, defaultSeccompProfile, loadSeccompProfile, type SeccompProfile } from '../../../../agent/runtime/security/seccomp-profile.js';
import { runSecurityChild } from './run-security-child.js';

const EPERM = 1;
const EFAULT = 14;
const EINVAL = 22;
const ENOSYS = 38;
const DEFAULT_MASK = capabilityMask(DEFAULT_CAPABILITIES);
const PROBES = [
  'getpid',
  'unshare-uts',
  'mount',
  'kexec_load',
  'init_module',
  'clone3',
  'clone-newns',
  'personality-query',
  'personality-no-randomize',
  'file-io',
  'mkdir',
  'spawn-true',
  ...(arch() === 'x64' ? ['x32-getpid'] : []),
];

function program(profile: SeccompProfile, caps: bigint): string {
  return buildSeccompProgram(profile, caps, arch()).toString('base64');
}

describe('seccomp on the kernel', () => {
  let dir: string;
  let scratchCount = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsi-seccomp-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const scratch = () => {
    const path = join(dir, `scratch-${scratchCount++}`);
    return mkdtempSync(path);
  };

  it('control: without a filter the kernel itself answers the probes', () => {
    const { status, report } = runSecurityChild({ probes: PROBES, scratch: scratch(), exec: ['/bin/true'] });
    assert.equal(status, 0);
    const p = report.probes;
    assert.equal(p['unshare-uts']!.ret, 0);
    assert.equal(p['mount']!.errno, EFAULT);
    assert.equal(p['clone3']!.errno, EINVAL);
    assert.equal(p['clone-newns']!.errno, EINVAL);
    assert.equal(p['personality-no-randomize']!.errno, 0);
    assert.equal(p['mkdir']!.errno, 0);
  });

  it('default profile: namespaces, mounts, kexec and modules refused, clone3 ENOSYS, everyday calls and execve work', () => {
    const { status, report, stderr } = runSecurityChild({
      seccomp: program(defaultSeccompProfile, DEFAULT_MASK),
      noNewPrivileges: true,
      probes: PROBES,
      scratch: scratch(),
      exec: ['/bin/true'],
    });
    assert.equal(status, 0, `exec of /bin/true under the filter failed: ${stderr}`);
    const p = report.probes;
    assert.ok(p['getpid']!.ret > 0);
    assert.equal(p['unshare-uts']!.errno, EPERM);
    assert.equal(p['mount']!.errno, EPERM);
    assert.equal(p['kexec_load']!.errno, EPERM);
    assert.equal(p['init_module']!.errno, EPERM);
    assert.equal(p['clone3']!.errno, ENOSYS);
    assert.equal(p['clone-newns']!.errno, EPERM);
    assert.equal(p['personality-query']!.errno, 0);
    assert.equal(p['personality-no-randomize']!.errno, EPERM);
    assert.deepEqual(p['file-io'], { ret: 0, errno: 0 });
    assert.deepEqual(p['mkdir'], { ret: 0, errno: 0 });
    assert.deepEqual(p['spawn-true'], { ret: 0, errno: 0 }, 'fork and exec from the filtered thread (clone3 -> clone fallback)');
    if (arch() === 'x64') assert.equal(p['x32-getpid']!.errno, EPERM);
  });

  it('default profile with CAP_SYS_ADMIN in the mask lets unshare, mount and namespace clone through', () => {
    const { status, report } = runSecurityChild({
      seccomp: program(defaultSeccompProfile, DEFAULT_MASK | capabilityMask(['SYS_ADMIN'])),
      noNewPrivileges: true,
      probes: PROBES,
      scratch: scratch(),
      exec: ['/bin/true'],
    });
    assert.equal(status, 0);
    const p = report.probes;
    assert.equal(p['unshare-uts']!.ret, 0);
    assert.equal(p['mount']!.errno, EFAULT);
    assert.equal(p['clone3']!.errno, EINVAL);
    assert.equal(p['clone-newns']!.errno, EINVAL);
    assert.equal(p['kexec_load']!.errno === EPERM && p['init_module']!.errno === EPERM, true, 'still refused: they need other capabilities');
  });

  it('the whole init sequence: filter without no_new_privs while root, then uid 1000 and default capabilities', () => {
    const work = scratch();
    const { status, report, execOutput } = runSecurityChild({
      seccomp: program(defaultSeccompProfile, DEFAULT_MASK),
      noNewPrivileges: false,
      credentials: { uid: 1000, gid: 1000, additionalGids: [] },
      capabilities: DEFAULT_MASK.toString(16),
      probes: ['getpid', 'unshare-uts', 'mount'],
      scratch: work,
      exec: ['/bin/cat', '/proc/self/status'],
    });
    assert.equal(status, 0);
    assert.equal(report.probes['unshare-uts']!.errno, EPERM);
    assert.equal(report.probes['mount']!.errno, EPERM);
    assert.match(execOutput, /^Seccomp:\s+2$/m);
    assert.match(execOutput, /^NoNewPrivs:\s+0$/m);
    assert.match(execOutput, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.equal(parseCapabilityStatus(execOutput).bounding, DEFAULT_MASK);
  });

  it('a Docker-format profile refusing mkdir with errnoRet 1, compiled with jumps longer than 255 instructions', () => {
    // 200 never-matching rules on getcwd put the mkdir rules more than 1000 instructions
    // from the syscall search: the kernel accepts the program only if the long jumps are right.
    const padding = Array.from({ length: 200 }, (_, i) => ({
      names: ['getcwd'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 5,
      args: [{ index: 5, value: 0xdead0000 + i, op: 'SCMP_CMP_EQ' }],
    }));
    const path = join(dir, 'deny-mkdir.json');
    writeFileSync(
      path,
      JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [...padding, { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }),
      {
        mode: 0o600,
      },
    );
    const compiled = buildSeccompProgram(loadSeccompProfile(path)!, DEFAULT_MASK, arch());
    assert.ok(compiled.length / 8 > 1000, `${compiled.length / 8} instructions`);
    const { status, report } = runSecurityChild({
      seccomp: compiled.toString('base64'),
      noNewPrivileges: true,
      probes: ['mkdir', 'file-io', 'unshare-uts', 'getpid'],
      scratch: scratch(),
      exec: ['/bin/true'],
    });
    assert.equal(status, 0);
    assert.equal(report.probes['mkdir']!.errno, EPERM);
    assert.deepEqual(report.probes['file-io'], { ret: 0, errno: 0 });
    assert.equal(report.probes['unshare-uts']!.ret, 0, 'only what the profile lists is refused');
  });

  it('a Docker-format profile with an argument comparison', () => {
    const path = join(dir, 'personality.json');
    writeFileSync(
      path,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 0x0040000, op: 'SCMP_CMP_EQ' }] }],
      }),
      { mode: 0o600 },
    );
    const { status, report } = runSecurityChild({
      seccomp: program(loadSeccompProfile(path)!, DEFAULT_MASK),
      noNewPrivileges: true,
      probes: ['personality-no-randomize', 'personality-query'],
      exec: ['/bin/true'],
    });
    assert.equal(status, 0);
    assert.equal(report.probes['personality-no-randomize']!.errno, 13);
    assert.equal(report.probes['personality-query']!.errno, 0);
  });
});
