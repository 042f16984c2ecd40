// A fleet over real SSH: five fake hosts (../shared/testhosts: netns + sshd), one
// configuration with `for_each` over their addresses. The first apply installs the agent
// on each and creates a bridge, an image and a container there; a re-plan shows no
// changes; a host with an unknown key is refused while the others are done.
//
// The hosts share this machine's kernel: each host's containers are found (and cleaned
// up after a failure) by the ids recorded in that host's own /var/lib/tsinfra.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountCgroups } from '../transport/install/test-hosts.js';
import { testHostsUp, type TestHost, type TestHosts } from '../transport/ssh/test-hosts.js';
import { buildTestImage } from './container-lab.js';
import { configDir, tsinfra } from './cli-harness.js';

const SET = { prefix: 'tsf', net: '10.213.30', dir: '/tmp/tsinfra-hosts-tsf' };

function config(hosts: TestHosts, image: string, knownHosts = hosts.knownHosts): string {
  return `
variable "addresses" {
  type    = list(string)
  default = ${JSON.stringify(hosts.hosts.map((h) => h.address))}
}

host "node" {
  for_each         = toset(var.addresses)
  address          = each.value
  private_key_file = "${hosts.key}"
  known_hosts_file = "${knownHosts}"
}

resource "network" "front" {
  for_each = toset(var.addresses)
  host     = host.node[each.key]
  driver   = "bridge"
  subnet   = "10.77.0.0/24"
}

resource "image" "busybox" {
  for_each = toset(var.addresses)
  host     = host.node[each.key]
  source   = "oci-archive:${image}"
}

resource "container" "web" {
  for_each     = toset(var.addresses)
  host         = host.node[each.key]
  image        = image.busybox[each.key].id
  command      = ["sleep", "3600"]
  stop_timeout = "100ms"
  network { id = network.front[each.key].id }
}
`;
}

/** Kills what the hosts' supervisors started (by the container ids each host recorded) and the supervisors. */
function cleanUpHost(h: TestHost): void {
  const pidFile = join(h.hostDir, 'run/tsinfra/supervisor.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // gone
    }
  }
  const containers = join(h.hostDir, 'var/lib/tsinfra/containers');
  const ids = existsSync(containers) ? readdirSync(containers) : [];
  for (const id of ids) {
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', controller, 'tsinfra', id);
      if (!existsSync(dir)) continue;
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const id of ids) {
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', controller, 'tsinfra', id);
      for (let i = 0; i < 20 && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch {
          execFileSync('sleep', ['0.05']);
        }
      }
    }
  }
}

describe('a fleet of five hosts over SSH', () => {
  let hosts: TestHosts;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  let image: string;

  before(async () => {
    hosts = await testHostsUp(5, SET);
    for (const h of hosts.hosts) mountCgroups(h);
    cfg = await configDir({});
    image = await buildTestImage(cfg.dir);
    await cfg.write('main.hcl', config(hosts, image));
  });
  after(async () => {
    if (cfg && hosts) await tsinfra(['destroy', '--auto-approve', cfg.dir]).catch(() => undefined);
    for (const h of hosts?.hosts ?? []) cleanUpHost(h);
    await hosts?.down();
    await cfg?.remove();
  });

  test('the first apply installs the agent and creates a network, an image and a container on every host', async () => {
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Apply complete! Resources: 15 added/);
    assert.match(r.stdout, /HOST/, 'a per-host summary table');
    for (const h of hosts.hosts) {
      const versions = readdirSync(join(h.hostDir, 'var/lib/tsinfra/agent')).filter((n) => /^\d/.test(n));
      assert.equal(versions.length, 1, `one agent version on ${h.name}`);
      assert.equal(readdirSync(join(h.hostDir, 'var/lib/tsinfra/containers')).length, 1, `one container on ${h.name}`);
    }
  });

  test('a re-plan shows no changes', async () => {
    const r = await tsinfra(['plan', '--detailed-exitcode', cfg.dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test('an unreachable host is reported while the others complete; a later apply finishes the job', async () => {
    const h4 = hosts.hosts[3]!;
    const route = ['route', 'add', 'prohibit', `${h4.address}/32`];
    execFileSync('ip', route);
    try {
      await cfg.write('main.hcl', config(hosts, image).replace('command      = ["sleep", "3600"]', 'command      = ["sleep", "3602"]'));
      const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(`host.node["${h4.address}"]`), r.stderr);
      assert.match(r.stdout, /4 added, 0 changed, 4 destroyed/);
      assert.match(r.stdout, new RegExp(`host\\.node\\["${h4.address.replace(/\./g, '\\.')}"\\]\\s.*\\b1\\b`), 'the summary lists the failed host');
    } finally {
      execFileSync('ip', ['route', 'del', 'prohibit', `${h4.address}/32`]);
    }
    const again = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /1 added, 0 changed, 1 destroyed/);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
    await cfg.write('main.hcl', config(hosts, image));
  });

  test('a host with an unknown key is refused, with its fingerprint, and nothing is done on it; the others are', async () => {
    // known_hosts without h5: its key is unknown.
    const partial = join(cfg.dir, 'known_hosts_partial');
    const h5 = hosts.hosts[4]!;
    writeFileSync(
      partial,
      readFileSync(hosts.knownHosts, 'utf8')
        .split('\n')
        .filter((l) => !l.includes(h5.address))
        .join('\n'),
    );
    const before = readdirSync(join(h5.hostDir, 'var/lib/tsinfra/containers'));
    await cfg.write('main.hcl', config(hosts, image, partial).replace('command      = ["sleep", "3600"]', 'command      = ["sleep", "3601"]'));
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /\[E_HOST_KEY_UNKNOWN\]/);
    assert.ok(r.stderr.includes(h5.address) && /SHA256:[A-Za-z0-9+/]{43}/.test(r.stderr) && /nothing was done on the host/.test(r.stderr), r.stderr);
    assert.deepEqual(readdirSync(join(h5.hostDir, 'var/lib/tsinfra/containers')), before, 'h5 untouched');
    assert.match(r.stdout, /4 added, 0 changed, 4 destroyed/);
    // Back to the trusted keys: everything converges.
    await cfg.write('main.hcl', config(hosts, image));
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
  });
});
