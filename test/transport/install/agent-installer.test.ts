// The agent installer against real sshd hosts (../shared/testhosts): first install,
// nothing to do the second time, a new version, a damaged file, pruning, the installed
// agent answering over an SSH exec channel (its supervisor and a container init started
// from the bundle, koffi loaded from it), a host without Node.js, and sudo.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client, ClientChannel } from 'ssh2';
import { AgentClient } from '../../../transport/agent-client.js';
import { buildAgentBundle, sealAgentBundle, sha256File, type AgentBundle } from '../../../transport/install/agent-bundle.js';
import { installAgent, type AgentInstallation, type InstallOptions } from '../../../transport/install/agent-installer.js';
import { shellJoin } from '../../../transport/install/remote-script.js';
import { AgentError } from '../../../transport/types.js';
import {
  addSudoUsers,
  glibcHostFiles,
  sftpSessions,
  connect,
  hostsDown,
  hostsUp,
  mountCgroups,
  sshdPid,
  type TestHost,
  type TestHostSet,
} from './test-hosts.js';

const SET: TestHostSet = { prefix: 'tsb', net: '10.213.20', dir: '/tmp/tsinfra-hosts-tsb' };

/** A copy of `from` whose agent.mjs differs by a comment: another version. */
function variant(from: AgentBundle, scratch: string, tag: string): AgentBundle {
  const dir = join(scratch, tag);
  execFileSync('cp', ['-r', from.dir, dir]);
  appendFileSync(join(dir, 'agent.mjs'), `\n// test variant ${tag}\n`);
  return sealAgentBundle(dir);
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Pids of `node BUNDLE ARGS...` (node options may come between). */
function pidsRunning(bundle: string, ...args: string[]): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const i = argv.indexOf(bundle);
        return i > 0 && argv[0]!.endsWith('/node') && args.every((a, j) => argv[i + 1 + j] === a);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Starts the installed agent over one exec channel, the way the SSH transport will. */
function openAgent(client: Client, host: string, installation: AgentInstallation, sudo = false): Promise<AgentClient> {
  return new Promise((resolve, reject) => {
    const line = (sudo ? 'sudo -n -- ' : '') + shellJoin(installation.command);
    client.exec(line, (err, channel: ClientChannel) => {
      if (err) return reject(err);
      const closed = new Promise<void>((r) => channel.once('close', () => r()));
      AgentClient.open(
        { fromAgent: channel, toAgent: channel, stderr: channel.stderr },
        {
          host,
          dispose: async () => {
            channel.close();
            await closed;
          },
        },
      ).then(resolve, reject);
    });
  });
}

async function rejectsWith(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const hostFiles = glibcHostFiles;
describe('agent installer over SSH', () => {
  let hosts: TestHost[] = [];
  let scratch: string;
  let a: AgentBundle;
  let b: AgentBundle;
  const clients: Client[] = [];
  /** Undone while the hosts are up (inside them), then after they are down (on the machine). */
  const hostCleanups: (() => void)[] = [];
  const machineCleanups: (() => void)[] = [];

  const agentRoot = (h: TestHost) => join(h.hostDir, 'var/lib/tsinfra/agent');
  const install = (c: Client, h: TestHost, bundle: AgentBundle, more: Partial<InstallOptions> = {}) =>
    installAgent(c, { host: h.name, sudo: false, bundle, ...more });
  const client = async (h: TestHost, user?: string) => {
    const c = await connect(h, user);
    clients.push(c);
    return c;
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tsit-install-'));
    a = await buildAgentBundle({ outDir: join(scratch, 'a') });
    b = variant(a, scratch, 'b');
    hosts = hostsUp(SET, 2);
  });

  after(async () => {
    // sshd's session processes must be gone before their users are deleted.
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('close', () => resolve());
            setTimeout(resolve, 5000).unref();
            c.end();
          }),
      ),
    );
    runAll(hostCleanups);
    if (hosts.length > 0) hostsDown(SET);
    runAll(machineCleanups);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('a first install uploads the bundle for the host: 0700 directories, 0600 files, checksums as built', async () => {
    const h1 = hosts[0]!;
    const result = await install(await client(h1), h1, a);
    assert.equal(result.agent, 'installed');
    assert.equal(result.version, a.version);
    assert.equal(result.machine, 'x86_64');
    assert.equal(result.node.uploaded, false, 'the host has Node.js 20 (the shared /usr/bin/node)');
    assert.deepEqual(result.command, [result.node.path, `/var/lib/tsinfra/agent/${a.version}/agent.mjs`]);
    // agent.mjs, agent-code.cjs and its cache, the glibc koffi module (the host has no musl loader) and agent.json
    assert.equal(result.filesUploaded, 5);

    const root = agentRoot(h1);
    const dir = join(root, a.version);
    assert.equal(mode(root), 0o700);
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(join(dir, 'koffi')), 0o700);
    assert.equal(existsSync(join(dir, 'koffi/musl_x64')), false, 'no module for the C library the host does not have');
    for (const name of hostFiles(a)) {
      assert.equal(mode(join(dir, name)), 0o600, name);
      assert.equal(sha256File(join(dir, name)), a.files[name], name);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8')) as { version: string; node: string; files: Record<string, string> };
    assert.equal(manifest.version, a.version);
    assert.equal(manifest.node, '>=20');
    assert.deepEqual(Object.keys(manifest.files).sort(), ['agent-code.cache', 'agent-code.cjs', 'agent.mjs', 'koffi/linux_x64/koffi.node.br']);
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('.tmp-')),
      [],
      'no temporary directory is left',
    );
    assert.equal(existsSync(join(agentRoot(hosts[1]!), a.version)), false, 'h2 has its own /var/lib/tsinfra');
    assert.ok(sftpSessions(h1) >= 1, 'sshd logs SFTP sessions (the next test counts them)');
  });

  test('a second install uploads nothing and changes nothing', async () => {
    const h1 = hosts[0]!;
    const file = join(agentRoot(h1), a.version, 'agent.mjs');
    const before = statSync(file).mtimeMs;
    const sftpBefore = sftpSessions(h1);
    const result = await install(await client(h1), h1, a);
    assert.equal(result.agent, 'current');
    assert.equal(result.filesUploaded, 0);
    assert.equal(statSync(file).mtimeMs, before);
    assert.equal(sftpSessions(h1), sftpBefore, 'no SFTP session was opened (sshd.log)');
  });

  let supervisorPid = 0;
  test('the installed agent runs over an SSH exec channel: hello, facts, and a supervisor with a container init started from the bundle', async () => {
    const h1 = hosts[0]!;
    mountCgroups(h1);
    const c = await client(h1);
    const installation = await install(c, h1, a);
    const agent = await openAgent(c, h1.name, installation);
    try {
      assert.equal(agent.agent?.hostname, 'h1');
      assert.equal(agent.agent?.nodeVersion, process.version);
      const facts = await agent.call('facts', {});
      assert.equal(facts.hostname, 'h1');
      assert.ok(
        facts.interfaces.some((i) => i.name === 'eth0' && i.addresses.includes(`${h1.address}/24`)),
        JSON.stringify(facts.interfaces),
      );
      // Starts the supervisor (agent.mjs supervisor), which makes a FIFO with koffi's mkfifo
      // and starts a container init (agent.mjs init create ...) that loads koffi too.
      await agent.call('container.prewarm', { count: 1 });
      const bundlePath = `/var/lib/tsinfra/agent/${a.version}/agent.mjs`;
      supervisorPid = await waitFor('the supervisor', () => pidsRunning(bundlePath, 'supervisor')[0]);
      hostCleanups.push(() => stopSupervisor(supervisorPid, bundlePath));
      assert.equal(readFileSync(join(h1.hostDir, 'run/tsinfra/supervisor.pid'), 'utf8').trim(), String(supervisorPid));
      const init = await waitFor('a ready container init', () => {
        const pid = pidsRunning(bundlePath, 'init', 'create')[0];
        // Ready: the init has opened its FIFOs and the supervisor removed their directory.
        return pid !== undefined && readdirSync(join(h1.hostDir, 'run/tsinfra/inits')).length === 0 ? pid : undefined;
      });
      // koffi's native module came from the version directory (no node_modules on the host),
      // unpacked there by the first of them to load it.
      const koffi = `/var/lib/tsinfra/agent/${a.version}/host-cache/koffi/linux_x64/koffi.node`;
      assert.ok(readFileSync(`/proc/${supervisorPid}/maps`, 'utf8').includes(koffi), 'the supervisor mapped the bundled koffi.node');
      assert.ok(readFileSync(`/proc/${init}/maps`, 'utf8').includes(koffi), 'the init mapped the bundled koffi.node');
      const log = readFileSync(join(h1.hostDir, 'var/lib/tsinfra/supervisor.log'), 'utf8');
      assert.doesNotMatch(log, /failed|error/i, log);
      // Still answering after the supervisor work.
      assert.equal((await agent.call('facts', {})).hostname, 'h1');
    } finally {
      await agent.close();
    }
  });

  test('a new version is uploaded once; the running supervisor and sessions of the old version are left alone', async () => {
    const h1 = hosts[0]!;
    const c = await client(h1);
    const old = await openAgent(c, h1.name, await install(c, h1, a));
    try {
      const first = await install(c, h1, b);
      assert.equal(first.agent, 'installed');
      assert.equal(first.filesUploaded, 5, 'a new version directory is uploaded whole');
      const again = await install(c, h1, b);
      assert.equal(again.agent, 'current');
      assert.equal(again.filesUploaded, 0);
      assert.ok(existsSync(join(agentRoot(h1), a.version, 'agent.mjs')), 'the old version stays');
      assert.ok(isAlive(supervisorPid), "the old version's supervisor still runs");
      assert.equal((await old.call('facts', {})).hostname, 'h1', 'the old session still answers');
    } finally {
      await old.close();
    }
  });

  test('a damaged, missing or foreign file in the version directory is found and replaced', async () => {
    const h1 = hosts[0]!;
    const dir = join(agentRoot(h1), b.version);
    appendFileSync(join(dir, 'agent.mjs'), '\n// damaged\n');
    unlinkSync(join(dir, 'koffi/linux_x64/koffi.node.br'));
    writeFileSync(join(dir, 'stray.txt'), 'not ours');
    const result = await install(await client(h1), h1, b);
    assert.equal(result.agent, 'repaired');
    assert.equal(result.filesUploaded, 2);
    for (const name of hostFiles(b)) {
      assert.equal(sha256File(join(dir, name)), b.files[name], name);
      assert.equal(mode(join(dir, name)), 0o600, name);
    }
    assert.equal(existsSync(join(dir, 'stray.txt')), false);
    assert.equal((await install(clients.at(-1)!, h1, b)).agent, 'current');
  });

  test('old versions are pruned to the last three, except one a running process uses', async () => {
    const h1 = hosts[0]!;
    const c = await client(h1);
    const [cv, dv, ev] = ['c', 'd', 'e'].map((t) => variant(a, scratch, t)) as [AgentBundle, AgentBundle, AgentBundle];
    await install(c, h1, cv);
    const d = await install(c, h1, dv);
    // Newest first: d, c, b, a; a is beyond three but its supervisor runs.
    assert.deepEqual(d.pruned, [], `supervisor alive: ${isAlive(supervisorPid)}; ${readFileSync(join(h1.hostDir, 'var/lib/tsinfra/supervisor.log'), 'utf8')}`);
    assert.ok(existsSync(join(agentRoot(h1), a.version)));

    // Our supervisor (started by the test above): SIGTERM leaves containers (none here) and stops its inits.
    stopSupervisor(supervisorPid, `/var/lib/tsinfra/agent/${a.version}/agent.mjs`);
    await waitFor('the supervisor to exit', () => (isAlive(supervisorPid) ? undefined : true));
    await waitFor('the inits to exit', () => (pidsRunning(`/var/lib/tsinfra/agent/${a.version}/agent.mjs`, 'init').length === 0 ? true : undefined));

    const e = await install(c, h1, ev);
    assert.deepEqual([...e.pruned].sort(), [a.version, b.version].sort());
    assert.deepEqual(
      readdirSync(agentRoot(h1))
        .filter((n) => n.startsWith('0.'))
        .sort(),
      [cv.version, dv.version, ev.version].sort(),
    );
  });

  test('a host without Node.js 20 gets this machine’s node; without a matching architecture it is a clear error', async () => {
    const h2 = hosts[1]!;
    // Inside h2's own mount namespace only: /usr/bin/node becomes a Node.js 18 that cannot run the agent.
    const fake = join(scratch, 'node18');
    writeFileSync(fake, '#!/bin/sh\necho v18.19.0\n');
    chmodSync(fake, 0o755);
    const pid = sshdPid(h2);
    execFileSync('nsenter', ['-t', String(pid), '-m', '--', 'mount', '--bind', fake, '/usr/bin/node']);
    hostCleanups.push(() => execFileSync('nsenter', ['-t', String(pid), '-m', '--', 'umount', '/usr/bin/node']));
    const c = await client(h2);

    await rejectsWith(
      install(c, h2, a, { localNode: { path: process.execPath, version: process.version, arch: 'arm64', platform: 'linux' } }),
      'E_NO_NODE_RUNTIME',
      /^h2 has no Node\.js 20 or newer \(\/usr\/bin\/node is v18\.19\.0\).*\(h2 is x86_64\)/,
    );
    assert.equal(existsSync(agentRoot(h2)), false, 'nothing was uploaded');

    const result = await install(c, h2, a);
    assert.equal(result.agent, 'installed');
    assert.deepEqual(result.node, { path: `/var/lib/tsinfra/agent/node-${process.version}/node`, version: process.version, uploaded: true });
    const node = join(agentRoot(h2), `node-${process.version}`, 'node');
    assert.equal(mode(node), 0o700);
    assert.equal(mode(join(agentRoot(h2), `node-${process.version}`)), 0o700);
    assert.equal(sha256File(node), sha256File(process.execPath));

    const again = await install(c, h2, a);
    assert.deepEqual([again.agent, again.filesUploaded, again.node.uploaded], ['current', 0, false]);
    assert.equal(again.node.path, result.node.path);

    const agent = await openAgent(c, h2.name, again);
    try {
      assert.equal(agent.agent?.hostname, 'h2');
      assert.equal((await agent.call('facts', {})).hostname, 'h2');
    } finally {
      await agent.close();
    }
  });

  test('two installers racing for one version: one installs, the other finds it done', async () => {
    const h2 = hosts[1]!;
    const f = variant(a, scratch, 'f');
    const [c1, c2] = await Promise.all([client(h2), client(h2)]);
    const outcomes = (await Promise.all([install(c1, h2, f), install(c2, h2, f)])).map((r) => r.agent).sort();
    assert.ok(
      JSON.stringify(outcomes) === '["installed","raced"]' || JSON.stringify(outcomes) === '["current","installed"]',
      `outcomes: ${outcomes.join(', ')}`,
    );
    const dir = join(agentRoot(h2), f.version);
    for (const name of hostFiles(f)) assert.equal(sha256File(join(dir, name)), f.files[name], name);
    assert.deepEqual(
      readdirSync(agentRoot(h2)).filter((n) => n.includes('.tmp-') || n.includes('.old-')),
      [],
    );
  });

  describe('with sudo as a non-root user', () => {
    const user = `tsit${process.pid.toString(16)}`;
    const denied = `${user}p`;
    before(() => addSudoUsers(user, machineCleanups));

    test('uploads go through a staging directory and are moved into place as root', async () => {
      const h1 = hosts[0]!;
      const c = await client(h1, user);
      const stateDir = '/var/lib/tsinfra/sudo-test';
      const result = await installAgent(c, { host: h1.name, sudo: true, bundle: a, stateDir });
      assert.equal(result.agent, 'installed');
      assert.deepEqual(result.command.slice(0, 2), ['env', `TSINFRA_AGENT_STATE_DIR=${stateDir}`]);
      const dir = join(h1.hostDir, stateDir, 'agent', a.version);
      for (const name of hostFiles(a)) {
        const st = statSync(join(dir, name));
        assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600], name);
      }
      assert.equal(statSync(dir).uid, 0);
      assert.deepEqual(
        readdirSync('/tmp').filter((n) => n.startsWith('tsinfra-upload-')),
        [],
        'the staging directory is gone',
      );
      assert.equal((await installAgent(c, { host: h1.name, sudo: true, bundle: a, stateDir })).filesUploaded, 0);

      const agent = await openAgent(c, h1.name, result, true);
      try {
        assert.equal(agent.agent?.hostname, 'h1');
      } finally {
        await agent.close();
      }
    });

    test('a sudo that wants a password fails clearly and nothing is uploaded', async () => {
      const h1 = hosts[0]!;
      const c = await client(h1, denied);
      await rejectsWith(
        installAgent(c, { host: h1.name, sudo: true, bundle: b, stateDir: '/var/lib/tsinfra/sudo-denied' }),
        'E_SUDO_PASSWORD',
        /^h1: sudo wants a password/,
      );
      assert.equal(existsSync(join(h1.hostDir, 'var/lib/tsinfra/sudo-denied')), false);
    });
  });
});

/** SIGTERM to the supervisor this test started (checked by its command line: pids get reused). */
function stopSupervisor(pid: number, bundlePath: string): void {
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(bundlePath)) process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

function runAll(steps: (() => void)[]): void {
  for (const step of steps.reverse()) {
    try {
      step();
    } catch (e) {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
    }
  }
}
