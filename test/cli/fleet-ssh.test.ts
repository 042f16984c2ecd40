// A fleet over real SSH: five fake hosts (../shared/testhosts: netns + sshd), one
// configuration with `for_each` over their addresses. The first apply installs the agent
// on each and creates a bridge, an image and a container there; a re-plan shows no
// changes; an agent upgrade keeps the containers running; a container on one host uses
// another host's container address; a host whose sshd stops mid-run, an unreachable
// host and a host with an unknown key are reported while the others are done.
//
// The hosts share this machine's kernel: each host's containers are found (and cleaned
// up after a failure) by the ids recorded in that host's own /var/lib/tsinfra.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountCgroups } from '../transport/install/test-hosts.js';
import { testHostsUp, type TestHost, type TestHosts } from '../transport/ssh/test-hosts.js';
import { buildTestImage } from './container-lab.js';
import { configDir, tsinfra } from './cli-harness.js';
import { tearDownFleet } from './fleet-hosts.js';
import { defaultAgentBundleDir, sealAgentBundle, type AgentBundle } from '../../transport/install/agent-bundle.js';

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

const esc = (s: string) => s.replace(/[.[\]"]/g, (c) => `\\${c}`);

/** The pid of every container on `h` (its init, from the container's cgroup), by container id. */
function containerPids(h: TestHost): Record<string, number> {
  const pids: Record<string, number> = {};
  const containers = join(h.hostDir, 'var/lib/tsinfra/containers');
  for (const id of existsSync(containers) ? readdirSync(containers) : []) {
    const procs = join('/sys/fs/cgroup/pids/tsinfra', id, 'cgroup.procs');
    if (existsSync(procs)) pids[id] = Number(readFileSync(procs, 'utf8').split('\n')[0]);
  }
  return pids;
}

/** The command line of the daemon in `h`'s run directory (`agent.pid`, `supervisor.pid`). */
function daemon(h: TestHost, pidFile: string): { pid: number; cmdline: string } {
  const pid = Number(readFileSync(join(h.hostDir, 'run/tsinfra', pidFile), 'utf8').trim());
  return { pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') };
}

/** A copy of the shipped agent bundle with one changed byte: a new agent version. */
function upgradedBundle(dir: string): AgentBundle {
  cpSync(defaultAgentBundleDir(), dir, { recursive: true });
  appendFileSync(join(dir, 'agent.mjs'), '\n// the next release\n');
  return sealAgentBundle(dir);
}

/**
 * Stops `h`'s sshd hard: the listener and every connection it serves. Returns a process
 * still inside the host's namespaces (its resident agent) to start sshd again from.
 */
function stopSshd(h: TestHost): number {
  const inHost = daemon(h, 'agent.pid').pid;
  const listener = Number(readFileSync(join(h.hostDir, 'sshd.pid'), 'utf8').trim());
  const sessions = execFileSync('ps', ['-o', 'pid=', '--ppid', String(listener)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const pid of [listener, ...sessions]) process.kill(pid, 'SIGKILL');
  return inHost;
}

function startSshd(h: TestHost, inHost: number): void {
  const sshd = ['/usr/sbin/sshd', '-f', join(h.hostDir, 'sshd_config'), '-E', join(h.hostDir, 'sshd.log')];
  execFileSync('nsenter', ['-t', String(inHost), '-n', '-m', '-u', '--', ...sshd]);
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
  after(() => tearDownFleet(hosts, cfg));

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

  test('an agent upgrade is uploaded once per host; the supervisors are replaced and the containers keep running with their pids', async () => {
    const pidsBefore = hosts.hosts.map(containerPids);
    const supervisorsBefore = hosts.hosts.map((h) => daemon(h, 'supervisor.pid').pid);
    const next = upgradedBundle(join(cfg.dir, 'next-agent'));
    const env = { TSINFRA_AGENT_BUNDLE_DIR: next.dir };
    const plan = await tsinfra(['plan', '--detailed-exitcode', cfg.dir], { env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const again = await tsinfra(['apply', '--auto-approve', cfg.dir], { env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /No changes/);
    hosts.hosts.forEach((h, i) => {
      assert.ok(existsSync(join(h.hostDir, 'var/lib/tsinfra/agent', next.version, 'agent.mjs')), `${h.name} has the new version`);
      const log = readFileSync(join(h.hostDir, 'var/lib/tsinfra/agent.log'), 'utf8');
      // Started (and so installed) once: the second run was served by the resident agent of the new build.
      assert.equal(log.split('\n').filter((l) => l.includes(`agent ${next.version} started`)).length, 1, `${h.name}: ${log}`);
      assert.ok(daemon(h, 'agent.pid').cmdline.includes(next.version), `${h.name}: the resident agent is the new one`);
      const supervisor = daemon(h, 'supervisor.pid');
      assert.notEqual(supervisor.pid, supervisorsBefore[i], `${h.name}: the supervisor was replaced`);
      assert.ok(supervisor.cmdline.includes(next.version), supervisor.cmdline);
      assert.deepEqual(containerPids(h), pidsBefore[i], `${h.name}: the containers kept their pids`);
    });
    // Back to the shipped build (the same path the other way): still nothing to change.
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
    hosts.hosts.forEach((h, i) => assert.deepEqual(containerPids(h), pidsBefore[i], h.name));
  });

  test("a container on one host uses another host's container address", async () => {
    const [h1, h2] = [hosts.hosts[0]!, hosts.hosts[1]!];
    const client = `
resource "container" "client" {
  host         = host.node["${h1.address}"]
  image        = image.busybox["${h1.address}"].id
  command      = ["sleep", "3600"]
  stop_timeout = "100ms"
  extra_hosts  = { "peer" = container.web["${h2.address}"].ip_address }
  network { id = network.front["${h1.address}"].id }
}
`;
    await cfg.write('main.hcl', config(hosts, image) + client);
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /1 added, 0 changed, 0 destroyed/);
    const peer = await tsinfra(['state', 'show', `container.web["${h2.address}"]`, '--dir', cfg.dir]);
    const ip = /ip_address\s*=\s*"([\d.]+)"/.exec(peer.stdout)?.[1];
    assert.ok(ip, peer.stdout + peer.stderr);
    const hostsFile = await tsinfra(['exec', 'container.client', '--dir', cfg.dir, '--', 'cat', '/etc/hosts']);
    assert.equal(hostsFile.code, 0, hostsFile.stderr);
    assert.match(hostsFile.stdout, new RegExp(`^${esc(ip)}\\s+peer$`, 'm'));
    await cfg.write('main.hcl', config(hosts, image));
    assert.match((await tsinfra(['apply', '--auto-approve', cfg.dir])).stdout, /0 added, 0 changed, 1 destroyed/);
  });

  test('a host whose sshd stops mid-run is reported while the others complete and are recorded; a later apply finishes the job', async () => {
    const h3 = hosts.hosts[2]!;
    await cfg.write('main.hcl', config(hosts, image).replace('command      = ["sleep", "3600"]', 'command      = ["sleep", "3603"]'));
    const h3Event = new RegExp(`container\\.web\\[${esc(`"${h3.address}"`)}\\]: (Destroying|Creating)`);
    let inHost: number | undefined;
    const r = await tsinfra(['apply', '--auto-approve', '--parallelism', '5', cfg.dir], {
      onStdout: (out) => {
        if (inHost === undefined && h3Event.test(out)) inHost = stopSshd(h3);
      },
    });
    assert.ok(inHost !== undefined, `h3's sshd was stopped during the run: ${r.stdout}`);
    try {
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(`host.node["${h3.address}"]`), r.stderr);
      assert.match(r.stderr, /\[E_SSH_LOST\]/);
      assert.match(r.stderr, /the SSH connection was lost .*during (\S+, )*resource\.apply, which may have finished on the host/);
      assert.match(r.stdout, /4 added, 0 changed, [45] destroyed/);
    } finally {
      startSshd(h3, inHost);
    }
    // The other hosts' new containers are in the state: only h3's is left to do.
    const plan = await tsinfra(['plan', cfg.dir]);
    assert.match(plan.stdout, /Plan: 1 to add, 0 to change, [01] to destroy/);
    for (const h of hosts.hosts) if (h !== h3) assert.ok(!plan.stdout.includes(`container.web["${h.address}"]`), plan.stdout);
    const again = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
    await cfg.write('main.hcl', config(hosts, image));
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
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
    const converged = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(converged.code, 0, converged.stdout + converged.stderr);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
  });
});
