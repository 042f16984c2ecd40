// The container runtime's behaviours through the CLI, on the real kernel: restart
// policies with back-off, the OOM killer inside a container's limit, pausing through the
// freezer, stats, and what a container sees (mounts, volumes, user, read-only rootfs,
// extra_hosts, localtime).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrs, buildTestImage, containerLab, waitFor, type ContainerLab } from './container-lab.js';
import { tsinfra } from './cli-harness.js';

function hcl(netns: string, image: string, body: string): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
${body}
`;
}

function supervisorLog(lab: ContainerLab): string {
  return readFileSync(join(lab.env['TSINFRA_AGENT_STATE_DIR']!, 'supervisor.log'), 'utf8');
}

describe('container runtime behaviours', () => {
  let lab: ContainerLab;
  let image: string;

  before(async () => {
    lab = await containerLab();
    image = await buildTestImage(lab.scratch);
  });
  after(async () => {
    await lab.close();
  });

  test('on-failure with max_retries = 3 restarts exactly 3 times, with growing delays, then stays stopped', async () => {
    await lab.cfg.write(
      'main.hcl',
      hcl(
        lab.netns,
        image,
        `resource "container" "flaky" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sh", "-c", "echo attempt; exit 3"]
  restart {
    policy      = "on-failure"
    max_retries = 3
  }
}`,
      ),
    );
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await waitFor(() => (supervisorLog(lab).match(/container\.flaky .*exited \(status 3\)/g) ?? []).length === 4, 'four exits').catch((e: Error) => {
      throw new Error(`${e.message}; supervisor log:\n${supervisorLog(lab)}`);
    });
    // No fifth start comes.
    await new Promise((res) => setTimeout(res, 1500));
    const log = supervisorLog(lab);
    assert.equal((log.match(/container\.flaky .*exited \(status 3\)/g) ?? []).length, 4);
    const delays = [...log.matchAll(/container\.flaky: restarting in (\d+) ms/g)].map((m) => Number(m[1]));
    assert.deepEqual(delays, [100, 200, 400]);
    const refresh = await tsinfra(['apply', '--refresh-only', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(refresh.code, 0, refresh.stderr);
    const a = attrs(lab.cfg.dir, 'container.flaky');
    assert.equal(a['status'], 'stopped');
    assert.equal(a['restart_count'], 3);
    const logs = await tsinfra(['logs', 'container.flaky', '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal((logs.stdout.match(/attempt/g) ?? []).length, 4);
    assert.equal((await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env })).code, 0);
  });

  test('a memory hog is OOM-killed inside its limit; the host carries on', async () => {
    await lab.cfg.write(
      'main.hcl',
      hcl(
        lab.netns,
        image,
        `resource "container" "hog" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sh", "-c", "echo eating; x=$(head -c 200000000 /dev/zero | tr '\\\\0' a); echo survived"]
  resources {
    memory      = "32M"
    memory_swap = "32M"
  }
}`,
      ),
    );
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await waitFor(() => /container\.hog .*exited/.test(supervisorLog(lab)), 'the hog to exit');
    // dd touches a 128M buffer: the kernel's OOM killer ends it with SIGKILL.
    assert.match(supervisorLog(lab), /container\.hog .*exited \(status 137, killed by the OOM killer\)/);
    const logs = await tsinfra(['logs', 'container.hog', '--dir', lab.cfg.dir], { env: lab.env });
    assert.match(logs.stdout, /eating/);
    assert.doesNotMatch(logs.stdout, /records in/, 'dd never finished');
    assert.equal((await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env })).code, 0);
  });

  test('what the container sees: volume, bind, tmpfs, user, env, read-only rootfs, extra_hosts, localtime', async () => {
    const shared = join(lab.scratch, 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'greeting'), 'from the host\n');
    await lab.cfg.write(
      'main.hcl',
      hcl(
        lab.netns,
        image,
        `resource "volume" "cache" {
  host = host.lab
}
resource "container" "box" {
  host             = host.lab
  image            = image.busybox.id
  command          = ["sleep", "3600"]
  user             = "1000:1000"
  working_dir      = "/tmp"
  env              = { MODE = "test" }
  read_only_rootfs = true
  localtime        = true
  hostname         = "boxy"
  extra_hosts      = { "db.local" = "10.1.0.5" }
  mount {
    type   = "volume"
    source = volume.cache.id
    target = "/cache"
  }
  mount {
    type      = "bind"
    source    = "${shared}"
    target    = "/shared"
    read_only = true
  }
  tmpfs {
    target = "/tmp"
    size   = "8M"
  }
}`,
      ),
    );
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const exec = (script: string) => tsinfra(['exec', 'container.box', '--dir', lab.cfg.dir, '--', 'sh', '-c', script], { env: lab.env });
    const who = await exec('id -u; id -g; pwd; echo $MODE; hostname');
    assert.equal(who.stdout, '1000\n1000\n/tmp\ntest\nboxy\n', who.stderr);
    assert.equal((await exec('cat /shared/greeting')).stdout, 'from the host\n');
    assert.notEqual((await exec('touch /shared/x')).code, 0, 'a read-only bind mount');
    assert.notEqual((await exec('touch /rootfs-file')).code, 0, 'a read-only rootfs');
    assert.equal((await exec('echo ok > /tmp/file && cat /tmp/file')).stdout, 'ok\n', 'tmpfs is writable');
    assert.match((await exec('grep " /tmp " /proc/mounts')).stdout, /tmpfs \/tmp tmpfs .*size=8192k/);
    assert.match((await exec('cat /etc/hosts')).stdout, /10\.1\.0\.5\s+db\.local/);
    assert.match((await exec('ls -l /etc/localtime')).stdout, /localtime/);
    // The volume belongs to the container's user only if made so; as root it is writable.
    const root = await tsinfra(['exec', 'container.box', '--dir', lab.cfg.dir, '--user', '0', '--', 'sh', '-c', 'echo kept > /cache/f && cat /cache/f'], {
      env: lab.env,
    });
    assert.equal(root.stdout, 'kept\n', root.stderr);
    const caps = await exec('grep CapEff /proc/self/status');
    assert.match(caps.stdout, /CapEff:\s+0000000000000000/, 'a non-root user has no capabilities');
  });

  test('paused through the freezer, resumed in place', async () => {
    const text = readFileSync(join(lab.cfg.dir, 'main.hcl'), 'utf8');
    await lab.cfg.write('main.hcl', text.replace('hostname         = "boxy"', 'hostname         = "boxy"\n  state            = "paused"'));
    const pid = attrs(lab.cfg.dir, 'container.box')['pid'] as number;
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(attrs(lab.cfg.dir, 'container.box')['status'], 'paused');
    const freezer = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1] === 'freezer')!
      .split(':')[2]!;
    assert.equal(readFileSync(join('/sys/fs/cgroup/freezer', freezer, 'freezer.state'), 'utf8').trim(), 'FROZEN');
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env })).code, 0);
    await lab.cfg.write('main.hcl', text);
    assert.equal((await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env })).code, 0);
    const after = attrs(lab.cfg.dir, 'container.box');
    assert.equal(after['status'], 'running');
    assert.equal(after['pid'], pid);
  });

  test('stats reads the cgroup', async () => {
    const r = await tsinfra(['stats', '--json', '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout;
    assert.match(text, /container\.box/);
    assert.match(text, /"pids":\s*1/);
    assert.equal((await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env })).code, 0);
    assert.deepEqual(lab.containerCgroups(), []);
  });
});
