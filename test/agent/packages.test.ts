// Installing host tools: which package manager, which package names, the retry after
// fetching package lists, and that a tool still missing afterwards is a failure. The
// commands go to a recording runner and the PATH lookups to a set of "installed"
// programs (the real install runs in the VM tier: test/vm/storage-packages.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostPackages } from '../../agent/system/packages.js';
import type { CommandOutput, CommandRunner, RunOptions } from '../../agent/system/command.js';

class Host implements CommandRunner {
  readonly commands: string[] = [];
  constructor(
    readonly installed: Set<string>,
    /** What a command does: its exit code, and the programs it installs. */
    private readonly effects: (argv: string) => { code: number; provides?: string[] },
  ) {}
  async run(argv: readonly string[], options?: RunOptions): Promise<CommandOutput> {
    return this.tryRun(argv, options);
  }
  async tryRun(argv: readonly string[], options?: RunOptions): Promise<CommandOutput> {
    const line = argv.join(' ');
    this.commands.push(`${options?.env?.['DEBIAN_FRONTEND'] ? 'DEBIAN_FRONTEND=noninteractive ' : ''}${line}`);
    const e = this.effects(line);
    for (const p of e.provides ?? []) this.installed.add(p);
    return { code: e.code, stdout: '', stderr: e.code ? 'E: Unable to locate package lvm2' : '' };
  }
  find = (program: string) => (this.installed.has(program) ? `/usr/sbin/${program}` : undefined);
}

describe('host packages', () => {
  test('tools already there: nothing runs', async () => {
    const host = new Host(new Set(['lvm', 'thin_check', 'apt-get']), () => ({ code: 0 }));
    assert.deepEqual(await new HostPackages(host, host.find).ensure(['lvm2', 'thin-provisioning-tools']), { installed: [], manager: null });
    assert.deepEqual(host.commands, []);
  });

  test('apt: the missing ones, non-interactively; with no package lists, update and try again', async () => {
    let updated = false;
    const host = new Host(new Set(['apt-get', 'thin_check']), (line) => {
      if (line.startsWith('apt-get update')) {
        updated = true;
        return { code: 0 };
      }
      return updated ? { code: 0, provides: ['lvm'] } : { code: 100 };
    });
    const r = await new HostPackages(host, host.find).ensure(['lvm2', 'thin-provisioning-tools']);
    assert.deepEqual(r, { installed: ['lvm2'], manager: 'apt-get' });
    assert.deepEqual(host.commands, [
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lvm2',
      'DEBIAN_FRONTEND=noninteractive apt-get update -q',
      'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lvm2',
    ]);
  });

  test("dnf: RHEL's name for the thin tools", async () => {
    const host = new Host(new Set(['dnf']), () => ({ code: 0, provides: ['lvm', 'thin_check'] }));
    const r = await new HostPackages(host, host.find).ensure(['lvm2', 'thin-provisioning-tools']);
    assert.deepEqual(r.installed, ['lvm2', 'device-mapper-persistent-data']);
    assert.deepEqual(host.commands, ['DEBIAN_FRONTEND=noninteractive dnf install -y -q lvm2 device-mapper-persistent-data']);
  });

  test('no package manager, a failing one, or one that installs nothing: a clear failure', async () => {
    const none = new Host(new Set(), () => ({ code: 0 }));
    await assert.rejects(new HostPackages(none, none.find).ensure(['lvm2']), { code: 'E_NO_PACKAGE_MANAGER' });
    const failing = new Host(new Set(['apt-get']), () => ({ code: 100 }));
    await assert.rejects(new HostPackages(failing, failing.find).ensure(['lvm2']), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_INSTALL_FAILED');
      assert.match(e.message, /installing lvm2 with apt-get failed \(lvm2 still missing\): E: Unable to locate package lvm2/);
      return true;
    });
    const hollow = new Host(new Set(['apk']), () => ({ code: 0 }));
    await assert.rejects(new HostPackages(hollow, hollow.find).ensure(['lvm2']), /lvm2 still missing/);
  });
});
