// The container limits test under cgroup v2 (the VM tier: ../shared/vm boots a guest with
// pure cgroup v2 and every controller). The same CLI, agent and supervisor as on the
// cgroup v1 host; the limits must land in the v2 files with runc's mappings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrs, buildTestImage, containerLab, type ContainerLab } from '../cli/container-lab.js';
import { tsinfra } from '../cli/cli-harness.js';

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

function config(netns: string, image: string, memory: string): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
resource "container" "web" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sleep", "3600"]
  resources {
    memory      = "${memory}"
    memory_swap = "256M"
    pids_limit  = 32
    cpu_shares  = 512
    cpus        = 0.5
  }
}
`;
}

function pidOf(dir: string): number {
  return attrs(dir, 'container.web')['pid'] as number;
}

/** The v2 cgroup directory of a process. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!;
  return join('/sys/fs/cgroup', line.slice(3));
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

describe('container limits under cgroup v2', () => {
  let lab: ContainerLab;
  let image: string;

  before(async () => {
    assert.ok(V2, 'this test runs in the VM tier, under pure cgroup v2 (scripts/vm-tests.sh)');
    lab = await containerLab();
    image = process.env['TSINFRA_TEST_IMAGE'] ?? (await buildTestImage(lab.scratch));
    await lab.cfg.write('main.hcl', config(lab.netns, image, '64M'));
  });
  after(async () => {
    await lab?.close();
  });

  test('the limits are in the v2 files, mapped as runc maps them', async () => {
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const dir = cgroupOf(pidOf(lab.cfg.dir));
    assert.ok(dir.includes(lab.cgroupParent), dir);
    assert.equal(read(dir, 'memory.max'), String(64 * 1024 * 1024));
    assert.equal(read(dir, 'memory.swap.max'), String(192 * 1024 * 1024), 'memory_swap minus memory');
    assert.equal(read(dir, 'pids.max'), '32');
    assert.equal(read(dir, 'cpu.weight'), '20', 'cpu.shares 512 -> cpu.weight');
    assert.equal(read(dir, 'cpu.max'), '50000 100000');
  });

  test('memory grows in place on the running container, and a hand-made change is drift', async () => {
    const pid = pidOf(lab.cfg.dir);
    await lab.cfg.write('main.hcl', config(lab.netns, image, '128M'));
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(pidOf(lab.cfg.dir), pid);
    const dir = cgroupOf(pid);
    assert.equal(read(dir, 'memory.max'), String(128 * 1024 * 1024));
    writeFileSync(join(dir, 'pids.max'), '99');
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /pids_limit\s+=\s+99 -> 32/);
  });

  test('destroy leaves no cgroup', async () => {
    const r = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(lab.containerCgroups(), []);
  });
});
