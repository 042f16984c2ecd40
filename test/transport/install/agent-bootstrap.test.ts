// The agent's start over one exec channel (install/agent-bootstrap.ts with
// host-bootstrap.ts) against real sshd hosts: a fresh host gets a compressed SFTP upload
// that is verified and moved into place, then the same process answers as the agent; an
// up-to-date host gets no upload; damage is repaired; a host without Node.js 20 is left
// to the installer; sudo as a non-root user stages its upload; a sudo that wants a
// password is refused clearly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AgentClient } from '../../../transport/agent-client.js';
import { bootstrapAgent, type BootstrappedAgent } from '../../../transport/install/agent-bootstrap.js';
import { buildAgentBundle, sealAgentBundle, sha256File, type AgentBundle } from '../../../transport/install/agent-bundle.js';
import { PrivateKeys } from '../../../transport/ssh/private-key.js';
import { SshConnection } from '../../../transport/ssh/ssh-connection.js';
import { AgentError } from '../../../transport/types.js';
import { addSudoUsers, glibcHostFiles, sftpSessions, hostsDown, hostsUp, sshdPid, type TestHost, type TestHostSet } from './test-hosts.js';

const SET: TestHostSet = { prefix: 'tsbb', net: '10.213.25', dir: '/tmp/tsinfra-hosts-tsbb' };

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('agent bootstrap over SSH', () => {
  let hosts: TestHost[] = [];
  let scratch: string;
  let a: AgentBundle;
  let b: AgentBundle;
  const connections: SshConnection[] = [];
  const hostCleanups: (() => void)[] = [];
  const machineCleanups: (() => void)[] = [];

  const agentRoot = (h: TestHost, stateDir = 'var/lib/tsinfra') => join(h.hostDir, stateDir, 'agent');
  const hostFiles = glibcHostFiles;
  const open = async (h: TestHost, user = 'root') => {
    const conn = await SshConnection.open(
      { address: h.name, settings: { address: h.address, user, private_key_file: h.privateKeyPath, known_hosts_file: join(SET.dir, 'known_hosts') } },
      { home: scratch, keys: new PrivateKeys({ prompt: null }) },
    );
    connections.push(conn);
    return conn;
  };
  /** The agent the bootstrap became: hello answered, then closed (it ends with the session). */
  const hello = async (h: TestHost, started: BootstrappedAgent) => {
    const { proc } = started;
    const client = await AgentClient.open({ fromAgent: proc.stdout, toAgent: proc.stdin, stderr: proc.stderr }, { host: h.name });
    try {
      return client.agent!;
    } finally {
      await client.close();
    }
  };

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'tsit-bootstrap-'));
    return buildAgentBundle({ outDir: join(scratch, 'a') }).then((bundle) => {
      a = bundle;
      execFileSync('cp', ['-r', a.dir, join(scratch, 'b')]);
      appendFileSync(join(scratch, 'b', 'agent.mjs'), '\n// the next release\n');
      b = sealAgentBundle(join(scratch, 'b'));
      hosts = hostsUp(SET, 2);
    });
  });

  after(async () => {
    await Promise.all(connections.map((c) => c.close()));
    for (const step of hostCleanups.reverse()) step();
    if (hosts.length > 0) hostsDown(SET);
    for (const step of machineCleanups.reverse()) step();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('a fresh host: one exec and one compressed upload, unpacked, checked and moved into place, then the same process is the agent', async () => {
    const h1 = hosts[0]!;
    const started = await bootstrapAgent(await open(h1), { host: h1.name, sudo: false, bundle: a, lingerMs: 0 });
    assert.ok(started);
    assert.equal(started.agent, 'installed');
    // agent.mjs, agent-code.cjs and its cache, the glibc koffi module and agent.json, in one pack
    assert.equal(started.filesUploaded, 5);
    const raw = hostFiles(a).reduce((sum, name) => sum + statSync(join(a.dir, name)).size, 0);
    assert.ok(started.bytesUploaded < raw / 2, `compressed: ${started.bytesUploaded} of ${raw} bytes went over SFTP`);
    const info = await hello(h1, started);
    assert.equal(info.hostname, 'h1');
    assert.equal(info.agentVersion, a.version);

    const root = agentRoot(h1);
    const dir = join(root, a.version);
    assert.equal(mode(root), 0o700);
    assert.equal(mode(dir), 0o700);
    for (const name of hostFiles(a)) {
      assert.equal(mode(join(dir, name)), 0o600, name);
      assert.equal(sha256File(join(dir, name)), a.files[name], name);
    }
    assert.deepEqual(readdirSync(dir).sort(), ['agent-code.cache', 'agent-code.cjs', 'agent.json', 'agent.mjs', 'koffi'], 'the bundle files only');
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('.tmp-')),
      [],
      'neither the pack nor a temporary directory is left',
    );
    // The Node.js found is recorded for the next runs (path, stamp, version).
    assert.equal(readFileSync(join(root, 'node-runtime'), 'utf8').split('\n')[2], process.version);
    assert.match(readFileSync(join(h1.hostDir, 'var/lib/tsinfra/agent.log'), 'utf8'), new RegExp(`agent ${a.version} started`));
  });

  test('an up-to-date host: no upload, no SFTP session; host-made code caches are not part of the checksums', async () => {
    const h1 = hosts[0]!;
    const cacheDir = join(agentRoot(h1), a.version, 'host-cache');
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'v0-x64.cache'), 'made on the host');
    const sftp = sftpSessions(h1);
    const started = await bootstrapAgent(await open(h1), { host: h1.name, sudo: false, bundle: a, lingerMs: 0 });
    assert.equal(started?.agent, 'current');
    assert.equal(started.filesUploaded, 0);
    assert.equal((await hello(h1, started)).agentVersion, a.version);
    assert.equal(sftpSessions(h1), sftp, 'no SFTP session was opened (sshd.log)');
    assert.ok(existsSync(join(cacheDir, 'v0-x64.cache')));
  });

  test('a damaged file and a foreign one are repaired before the agent starts', async () => {
    const h1 = hosts[0]!;
    const dir = join(agentRoot(h1), a.version);
    appendFileSync(join(dir, 'agent-code.cjs'), '\n// damaged\n');
    writeFileSync(join(dir, 'stray.txt'), 'not ours');
    const started = await bootstrapAgent(await open(h1), { host: h1.name, sudo: false, bundle: a, lingerMs: 0 });
    assert.equal(started?.agent, 'repaired');
    assert.equal(started.filesUploaded, 1);
    assert.equal((await hello(h1, started)).agentVersion, a.version);
    for (const name of hostFiles(a)) assert.equal(sha256File(join(dir, name)), a.files[name], name);
    assert.equal(existsSync(join(dir, 'stray.txt')), false);
  });

  test('a new version is installed next to the old one', async () => {
    const h1 = hosts[0]!;
    const started = await bootstrapAgent(await open(h1), { host: h1.name, sudo: false, bundle: b, lingerMs: 0 });
    assert.equal(started?.agent, 'installed');
    assert.equal((await hello(h1, started)).agentVersion, b.version);
    assert.ok(existsSync(join(agentRoot(h1), a.version, 'agent.mjs')), 'the old version stays');
  });

  test('a host without Node.js 20 is left to the installer (which uploads one): nothing is sent', async () => {
    const h2 = hosts[1]!;
    const fake = join(scratch, 'node18');
    writeFileSync(fake, '#!/bin/sh\necho v18.19.0\n');
    chmodSync(fake, 0o755);
    const pid = sshdPid(h2);
    execFileSync('nsenter', ['-t', String(pid), '-m', '--', 'mount', '--bind', fake, '/usr/bin/node']);
    hostCleanups.push(() => execFileSync('nsenter', ['-t', String(pid), '-m', '--', 'umount', '/usr/bin/node']));
    const sftp = sftpSessions(h2);
    assert.equal(await bootstrapAgent(await open(h2), { host: h2.name, sudo: false, bundle: a, lingerMs: 0 }), undefined);
    assert.equal(existsSync(agentRoot(h2)), false);
    assert.equal(sftpSessions(h2), sftp);
  });

  describe('with sudo as a non-root user', () => {
    const user = `tsbb${process.pid.toString(16)}`;
    const denied = `${user}p`;
    before(() => addSudoUsers(user, machineCleanups));

    test('the upload goes through a staging directory and is moved into place as root', async () => {
      const h1 = hosts[0]!;
      const stateDir = '/var/lib/tsinfra/sudo-bootstrap';
      const started = await bootstrapAgent(await open(h1, user), { host: h1.name, sudo: true, bundle: a, stateDir, lingerMs: 0 });
      assert.equal(started?.agent, 'installed');
      assert.equal((await hello(h1, started)).hostname, 'h1');
      const dir = join(agentRoot(h1, stateDir), a.version);
      for (const name of hostFiles(a)) {
        const st = statSync(join(dir, name));
        assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600], name);
        assert.equal(sha256File(join(dir, name)), a.files[name], name);
      }
      assert.deepEqual(
        readdirSync('/tmp').filter((n) => n.startsWith('tsinfra-upload-')),
        [],
        'the staging directory is gone',
      );
      // The agent ran with that state directory.
      assert.ok(existsSync(join(h1.hostDir, stateDir, 'agent.log')));
    });

    test('a sudo that wants a password fails clearly and nothing is uploaded', async () => {
      const h1 = hosts[0]!;
      await assert.rejects(
        bootstrapAgent(await open(h1, denied), { host: h1.name, sudo: true, bundle: a, stateDir: '/var/lib/tsinfra/sudo-denied', lingerMs: 0 }),
        (e: unknown) => {
          assert.ok(e instanceof AgentError, String(e));
          assert.equal(e.code, 'E_SUDO_PASSWORD', e.message);
          return true;
        },
      );
      assert.equal(existsSync(join(h1.hostDir, 'var/lib/tsinfra/sudo-denied')), false);
    });
  });
});
