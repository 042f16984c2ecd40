// The v2 manager on this machine's hybrid "unified" cgroup2 mount, which has no
// controllers but has the core of v2: cgroup.procs, cgroup.freeze, cgroup.kill, cpu.stat
// and eBPF device filters. Limits are tested under pure v2 in test/vm/cgroups-v2.test.ts;
// here, that they are refused with the controller named.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { attachedDeviceFilters } from '../../../../agent/runtime/cgroups/bpf.js';
import { DEFAULT_DEVICE_RULES, type CgroupManager } from '../../../../agent/runtime/cgroups/cgroup-manager.js';
import { cgroupFacts, detectCgroupManager } from '../../../../agent/runtime/cgroups/detect.js';
import { mknod } from '../../../../agent/runtime/libc.js';
import { randomParent, TestProcesses } from './cgroup-scenarios.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const facts = cgroupFacts();
const skip = facts.version === 'hybrid' ? false : `needs the hybrid layout's ${UNIFIED} mount (this host: ${facts.version}); pure v2 runs in the VM tier`;

describe('cgroup v2 manager on the hybrid unified mount', { skip }, () => {
  let manager: CgroupManager;
  const processes = new TestProcesses();
  let scratch: string;

  before(async () => {
    manager = detectCgroupManager({ root: UNIFIED, parent: randomParent() });
    scratch = await mkdtemp(join(tmpdir(), 'tsit-cgroup-'));
    await manager.create('c1');
  });

  after(async () => {
    await processes.killAll();
    await manager.killAll('c1').catch(() => undefined);
    await manager.destroy('c1');
    await manager.destroyParent();
    await rm(scratch, { recursive: true, force: true });
  });

  it('is picked for a cgroup2 root', () => {
    assert.equal(manager.version, 2);
    assert.deepEqual(manager.paths('c1'), [join(UNIFIED, manager.parent, 'c1')]);
  });

  it('refuses limits whose controller is not enabled, naming it', async () => {
    await assert.rejects(
      manager.set('c1', { memory: 64 << 20 }),
      (e: Error & { code?: string }) => e.code === 'E_CGROUP_UNSUPPORTED' && /memory controller/.test(e.message) && e.message.includes('subtree_control'),
    );
    await manager.set('c1', {});
    assert.deepEqual(await manager.observe('c1', {}), {});
  });

  it('installs an eBPF device filter that denies what is not listed, and replaces it on re-apply', async () => {
    const kmsg = join(scratch, 'kmsg');
    mknod(kmsg, 0o020600, 1, 11);
    await manager.setDevices('c1', DEFAULT_DEVICE_RULES);
    await manager.setDevices('c1', DEFAULT_DEVICE_RULES);
    assert.equal(attachedDeviceFilters(manager.paths('c1')[0]!).length, 1, 'the old program was detached');
    const script = 'head -c1 /dev/urandom > /dev/null || exit 1; true < "$0" || exit 3';
    const inside = await processes.exited(processes.start(['sh', '-c', script, kmsg], { manager, id: 'c1' }));
    assert.equal(inside.code, 3, inside.stderr);
    assert.match(inside.stderr, /Operation not permitted/);
  });

  it('moves processes in, freezes, thaws, counts cpu and kills them all', async () => {
    const sleeper = processes.start(['sleep', '1000']);
    await manager.addProcess('c1', sleeper.pid!);
    assert.deepEqual(await manager.pids('c1'), [sleeper.pid]);
    await manager.freeze('c1');
    assert.equal(await manager.isFrozen('c1'), true);
    await manager.thaw('c1');
    assert.equal(await manager.isFrozen('c1'), false);
    const stats = await manager.stats('c1');
    assert.equal(stats.pids, 1);
    assert.equal(stats.memoryLimit, null);
    assert.match(await readFile(join(manager.paths('c1')[0]!, 'cgroup.procs'), 'utf8'), new RegExp(`^${sleeper.pid}$`, 'm'));
    await manager.killAll('c1');
    assert.equal((await processes.exited(sleeper)).signal, 'SIGKILL');
    assert.deepEqual(await manager.pids('c1'), []);
  });
});
