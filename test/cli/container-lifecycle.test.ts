// End to end: busybox containers through the real CLI, the agent, the supervisor and the
// staged init, on the real kernel, inside a throw-away network namespace with a cgroup
// parent of its own. Everything the runs create is removed by the lab's close().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns } from '../agent/throwaway-netns.js';
import { attrs, buildTestImage, containerLab, stateOf, waitFor, type ContainerLab } from './container-lab.js';
import { tsinfra } from './cli-harness.js';

function config(netns: string, image: string, extra = '', webMemory = '64M'): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}

resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}

resource "network" "front" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.78.0.0/24"
}

resource "container" "web" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && echo web started && exec httpd -f -p 80 -h /www"]
  env     = { GREETING = "hi" }

  resources {
    memory     = "${webMemory}"
    pids_limit = 32
    cpu_shares = 512
  }

  network {
    id      = network.front.id
    aliases = ["www"]
  }

  port {
    host_port      = 8080
    container_port = 80
  }
}

resource "container" "client" {
  host    = host.lab
  image   = image.busybox.id
  command = ["sleep", "3600"]
  network { id = network.front.id }
}

resource "container" "sidecar" {
  host         = host.lab
  image        = image.busybox.id
  command      = ["sleep", "3600"]
  network_mode = "container:web"
  stop_timeout = "1s"
  depends_on   = [container.web]
}

output "web_ip" { value = container.web.ip_address }
${extra}
`;
}

/** The cgroup v1 directory of `pid` for a controller. */
function cgroupDir(pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes(controller));
  assert.ok(line, `pid ${pid} has a ${controller} cgroup`);
  return join('/sys/fs/cgroup', controller, line.split(':')[2]!);
}

describe('containers through the CLI', () => {
  let lab: ContainerLab;
  let image: string;

  before(async () => {
    lab = await containerLab();
    image = await buildTestImage(lab.scratch);
    await lab.cfg.write('main.hcl', config(lab.netns, image));
  });
  after(async () => {
    await lab.close();
  });

  test('apply starts both containers with their limits, in their own namespaces', async () => {
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const web = attrs(lab.cfg.dir, 'container.web');
    assert.equal(web['status'], 'running');
    const pid = web['pid'] as number;
    assert.ok(pid > 1);
    assert.match(String(web['ip_address']), /^10\.78\.0\.\d+$/);
    // PID 1 of its own pid namespace, and other namespaces than the supervisor's.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^NSpid:\s+\d+\s+1$/m);
    for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup']) {
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace`);
    }
    assert.equal(readFileSync(join(cgroupDir(pid, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 * 1024));
    assert.equal(readFileSync(join(cgroupDir(pid, 'pids'), 'pids.max'), 'utf8').trim(), '32');
    assert.equal(readFileSync(join(cgroupDir(pid, 'cpu'), 'cpu.shares'), 'utf8').trim(), '512');
    // The command itself (not only exec'd ones) runs with runc's default capabilities, no_new_privs and seccomp.
    assert.match(status, /^CapEff:\s+00000000a80425fb$/m);
    assert.match(status, /^CapBnd:\s+00000000a80425fb$/m);
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m);
  });

  test('a re-plan shows no changes', async () => {
    const r = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  test('exec runs in the container: pid namespace, capabilities, seccomp', async () => {
    const ps = await tsinfra(['exec', 'container.client', '--dir', lab.cfg.dir, '--', 'sh', '-c', 'echo $$; grep CapEff /proc/self/status; hostname'], {
      env: lab.env,
    });
    assert.equal(ps.code, 0, ps.stderr);
    const [, capLine, host] = ps.stdout.trim().split('\n');
    // runc's default set: 0x00000000a80425fb.
    assert.match(capLine!, /CapEff:\s+00000000a80425fb/);
    assert.equal(host, 'client');
    const denied = await tsinfra(['exec', 'container.client', '--dir', lab.cfg.dir, '--', 'unshare', '-u', 'true'], { env: lab.env });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr + denied.stdout, /Operation not permitted/);
    const code = await tsinfra(['exec', 'container.client', '--dir', lab.cfg.dir, '--', 'sh', '-c', 'exit 7'], { env: lab.env });
    assert.equal(code.code, 7);
  });

  test('containers on one network reach each other by name and alias', async () => {
    for (const name of ['web', 'www']) {
      const r = await tsinfra(['exec', 'container.client', '--dir', lab.cfg.dir, '--', 'wget', '-q', '-O-', `http://${name}/`], { env: lab.env });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'hello-from-web');
    }
    const ping = await tsinfra(['exec', 'container.client', '--dir', lab.cfg.dir, '--', 'ping', '-c', '1', '-W', '2', 'web'], { env: lab.env });
    assert.equal(ping.code, 0, ping.stderr + ping.stdout);
  });

  test('network_mode = "container:web" shares web\'s network namespace', async () => {
    const r = await tsinfra(['exec', 'container.sidecar', '--dir', lab.cfg.dir, '--', 'wget', '-q', '-O-', 'http://127.0.0.1:80/'], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hello-from-web');
    const web = attrs(lab.cfg.dir, 'container.web')['pid'] as number;
    const sidecar = attrs(lab.cfg.dir, 'container.sidecar')['pid'] as number;
    assert.equal(readlinkSync(`/proc/${sidecar}/ns/net`), readlinkSync(`/proc/${web}/ns/net`));
    assert.notEqual(readlinkSync(`/proc/${sidecar}/ns/pid`), readlinkSync(`/proc/${web}/ns/pid`));
  });

  test('the port mapping answers from the host', async () => {
    const gateway = '10.78.0.1';
    const r = await inNetns(lab.netns, ['busybox', 'wget', '-q', '-O-', `http://${gateway}:8080/`]);
    assert.equal(r.stdout.trim(), 'hello-from-web', r.stderr);
  });

  test('logs show what the container wrote', async () => {
    const r = await tsinfra(['logs', 'container.web', '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /web started/);
  });

  test('memory grows in place: same pid, new limit', async () => {
    const before = attrs(lab.cfg.dir, 'container.web')['pid'];
    await lab.cfg.write('main.hcl', config(lab.netns, image, '', '128M'));
    const plan = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(plan.stdout, /container\.web will be updated in place/);
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const pid = attrs(lab.cfg.dir, 'container.web')['pid'] as number;
    assert.equal(pid, before);
    assert.equal(readFileSync(join(cgroupDir(pid, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim(), String(128 * 1024 * 1024));
  });

  test('a limit changed by hand shows as drift', async () => {
    const pid = attrs(lab.cfg.dir, 'container.web')['pid'] as number;
    const file = join(cgroupDir(pid, 'pids'), 'pids.max');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '99');
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /pids_limit\s+=\s+99 -> 32/);
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(file, 'utf8').trim(), '32');
  });

  test('a container killed by hand shows as drift and apply starts it again', async () => {
    const pid = attrs(lab.cfg.dir, 'container.client')['pid'] as number;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${pid}`), 'the killed container to go');
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 2);
    assert.match(plan.stdout, /state\s+=\s+"stopped" -> "running"/);
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    const client = attrs(lab.cfg.dir, 'container.client');
    assert.equal(client['status'], 'running');
    assert.notEqual(client['pid'], pid);
  });

  test('killing the supervisor leaves containers running; the next run adopts them', async () => {
    const pids = ['container.web', 'container.client'].map((a) => attrs(lab.cfg.dir, a)['pid'] as number);
    lab.killSupervisor();
    await new Promise((r) => setTimeout(r, 300));
    for (const pid of pids) assert.ok(existsSync(`/proc/${pid}`), `pid ${pid} still runs`);
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const exec = await tsinfra(['exec', 'container.web', '--dir', lab.cfg.dir, '--', 'hostname'], { env: lab.env });
    assert.equal(exec.stdout.trim(), 'web', `exec into an adopted container: ${exec.stderr}`);
  });

  test('a container that dies while no supervisor watches is cleaned up and started again by apply', async () => {
    const pid = attrs(lab.cfg.dir, 'container.client')['pid'] as number;
    const cgroup = cgroupDir(pid, 'pids');
    lab.killSupervisor();
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !existsSync(`/proc/${pid}`), 'the container to die');
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 2, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /state\s+=\s+"stopped" -> "running"/);
    assert.ok(!existsSync(cgroup), 'its cgroup was removed when the new supervisor found it dead');
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(attrs(lab.cfg.dir, 'container.client')['status'], 'running');
  });

  test('destroy leaves no process, cgroup, veth or port rule', async () => {
    const pids = ['container.web', 'container.client', 'container.sidecar'].map((a) => attrs(lab.cfg.dir, a)['pid'] as number);
    const r = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const pid of pids) assert.ok(!existsSync(`/proc/${pid}`), `pid ${pid} is gone`);
    assert.deepEqual(lab.containerCgroups(), []);
    const links = await inNetns(lab.netns, ['ip', '-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, /tsi[0-9a-f]{8}/);
    const rules = await inNetns(lab.netns, ['nft', 'list', 'ruleset']);
    assert.doesNotMatch(rules.stdout, /dnat/);
  });
});

describe('containers that cannot start', () => {
  let lab: ContainerLab;
  let image: string;

  before(async () => {
    lab = await containerLab();
    image = await buildTestImage(lab.scratch);
  });
  after(async () => {
    await lab.close();
  });

  const cases: [string, string, RegExp][] = [
    ['missing binary', 'command = ["/no/such/program"]', /container\.bad.*no such file/s],
    ['command not on PATH', 'command = ["nosuchcommand"]', /container\.bad.*"nosuchcommand" not found/s],
    ['unknown user', 'command = ["true"]\n  user = "nobody-here"', /container\.bad.*user "nobody-here" is not in the container's \/etc\/passwd/s],
    ['not executable', 'command = ["/etc/passwd"]', /container\.bad.*not executable/s],
  ];
  for (const [what, body, message] of cases) {
    test(`${what}: the reason reaches the CLI and nothing is left behind`, async () => {
      await lab.cfg.write(
        'main.hcl',
        `
host "lab" {
  transport = "local"
  netns     = "${lab.netns}"
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
resource "container" "bad" {
  host  = host.lab
  image = image.busybox.id
  ${body}
}
`,
      );
      const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
      assert.ok(!stateOf(lab.cfg.dir).some((i) => i.address === 'container.bad'), 'no container in the state');
      assert.deepEqual(lab.containerCgroups(), []);
      assert.deepEqual(lab.containerDirs(), []);
    });
  }
});
