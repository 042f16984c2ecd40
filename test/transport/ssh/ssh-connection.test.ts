// The SSH connection layer against real sshd hosts (../shared/testhosts): host key
// checking, credentials, the failure codes, jump host chains, keep-alives and sudo.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fingerprint } from '../../../transport/ssh/host-key-check.js';
import { PrivateKeys } from '../../../transport/ssh/private-key.js';
import { SshConnection, type SshConnectOptions } from '../../../transport/ssh/ssh-connection.js';
import { AgentError } from '../../../transport/types.js';
import { createNetns, deleteNetns } from '../../agent/throwaway-netns.js';
import { testHostsUp, type TestHost, type TestHosts } from './test-hosts.js';

const run = promisify(execFile);
const PREFIX = 'tsa';
const NET = '10.213.10';
const DIR = '/tmp/tsinfra-hosts-tsa';
const CHILD = fileURLToPath(new URL('./connect-child.js', import.meta.url));

let th: TestHosts;
let scratch: string;
let h1: TestHost;
let h2: TestHost;
let h3: TestHost;

/** The settings of a `host` block for test host `h`. */
const settings = (h: TestHost, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  address: h.address,
  private_key_file: th.key,
  known_hosts_file: th.knownHosts,
  ...extra,
});

const open = (h: TestHost, extra: Record<string, unknown> = {}, options: SshConnectOptions = {}) =>
  SshConnection.open({ address: 'host.web', settings: settings(h, extra) }, { home: scratch, keys: new PrivateKeys({ prompt: null }), ...options });

async function refused(p: Promise<unknown>, code: string, ...patterns: (RegExp | string)[]): Promise<AgentError> {
  let err: AgentError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.host, 'host.web');
    for (const pat of patterns) {
      if (typeof pat === 'string') assert.ok(e.message.includes(pat), `${JSON.stringify(pat)} not in: ${e.message}`);
      else assert.match(e.message, pat);
    }
    err = e;
    return true;
  });
  return err!;
}

const keyBlob = (hostKey: string) => Buffer.from(hostKey.split(' ')[1]!, 'base64');
const fp = (h: TestHost) => fingerprint(keyBlob(h.hostKey));

async function scratchFile(name: string, text: string): Promise<string> {
  const path = join(scratch, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** How many logins sshd of `h` has accepted so far. */
async function logins(h: TestHost): Promise<number> {
  const log = await readFile(join(h.hostDir, 'sshd.log'), 'utf8');
  return log.split('\n').filter((l) => l.includes('Accepted publickey')).length;
}

/** Runs connect-child.js in another network namespace. */
async function connectFrom(netns: string, req: { address: string; settings: Record<string, unknown>; command: string; options?: SshConnectOptions }) {
  const { stdout } = await run(
    'nsenter',
    [`--net=/run/netns/${netns}`, '--', process.execPath, CHILD, JSON.stringify({ options: { home: scratch }, ...req })],
    {
      timeout: 30_000,
    },
  );
  return JSON.parse(stdout) as { ok: true; stdout: string; code: number } | { ok: false; code: string; message: string };
}

describe('SshConnection against real sshd hosts', { timeout: 180_000 }, () => {
  before(async () => {
    th = await testHostsUp(3, { prefix: PREFIX, net: NET, dir: DIR });
    [h1, h2, h3] = th.hosts as [TestHost, TestHost, TestHost];
    scratch = await mkdtemp(join(tmpdir(), 'tsit-ssh-'));
  });
  after(async () => {
    await th?.down();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  test('connects with a key file and known_hosts, runs commands and opens SFTP', async () => {
    const conn = await open(h1);
    try {
      assert.equal(conn.hostKey, fp(h1));
      assert.deepEqual(await conn.run('hostname'), { code: 0, signal: null, stdout: 'h1\n', stderr: '' });
      const quoted = await conn.run(['printf', '%s|', 'a b', "it's", '$HOME']);
      assert.equal(quoted.stdout, "a b|it's|$HOME|");
      const failing = await conn.run('echo oops >&2; exit 3');
      assert.deepEqual([failing.code, failing.stderr], [3, 'oops\n']);
      assert.equal((await conn.run('cat', { input: 'to stdin' })).stdout, 'to stdin');

      const proc = await conn.exec('echo out; echo err >&2; exit 5');
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      proc.stdout.on('data', (c: Buffer) => out.push(c));
      proc.stderr.on('data', (c: Buffer) => err.push(c));
      assert.deepEqual(await proc.exit, { code: 5, signal: null });
      assert.equal(Buffer.concat(out).toString(), 'out\n');
      assert.equal(Buffer.concat(err).toString(), 'err\n');

      const name = `tsit-${randomBytes(4).toString('hex')}`;
      const sftp = await conn.sftp();
      assert.equal(await conn.sftp(), sftp, 'one SFTP session per connection');
      await new Promise<void>((resolve, reject) => sftp.writeFile(`/var/lib/tsinfra/${name}`, 'via sftp', (e) => (e ? reject(e) : resolve())));
      assert.equal(await readFile(join(h1.hostDir, 'var/lib/tsinfra', name), 'utf8'), 'via sftp', 'written on h1 only');
    } finally {
      await conn.close();
    }
    assert.equal(await conn.ended, undefined, 'closed by us, not lost');
    await conn.close();
  });

  test('a pinned host_key is used instead of known_hosts', async () => {
    const empty = await scratchFile('empty_known_hosts', '');
    const conn = await open(h1, { known_hosts_file: empty, host_key: `${h1.hostKey} h1-comment` });
    assert.equal((await conn.run('hostname')).stdout, 'h1\n');
    await conn.close();
    const e = await refused(open(h1, { host_key: h2.hostKey }), 'E_HOST_KEY_CHANGED', 'host.web', '10.213.10.11:22', fp(h1), fp(h2), /CHANGED/);
    assert.match(e.message, /nothing was done/);
    await refused(open(h1, { host_key: 'ssh-ed25519 not-base64!' }), 'E_SSH_CONFIG', /host_key is not a public key/);
  });

  test('an unknown host key is refused with its fingerprint, before logging in', async () => {
    const before = await logins(h1);
    const empty = await scratchFile('empty_known_hosts', '');
    const e = await refused(
      open(h1, { known_hosts_file: empty }),
      'E_HOST_KEY_UNKNOWN',
      'host.web',
      '10.213.10.11:22',
      fp(h1),
      `host_key = "${h1.hostKey}"`,
      /nothing was done/,
      /ssh-keyscan -p 22 -t ed25519 10\.213\.10\.11/,
    );
    assert.deepEqual(e.data, { host: 'host.web', address: '10.213.10.11:22', presented: fp(h1), hostKey: h1.hostKey });
    await refused(open(h1, { known_hosts_file: join(scratch, 'no-such-file') }), 'E_HOST_KEY_UNKNOWN', /no-such-file does not exist/);
    // Another host's entries do not vouch for this one.
    const others = await scratchFile('others_known_hosts', `h2,${h2.address} ${h2.hostKey}\n`);
    await refused(open(h1, { known_hosts_file: others }), 'E_HOST_KEY_UNKNOWN');
    assert.equal(await logins(h1), before, 'sshd accepted no login');
  });

  test('a changed host key is refused loudly with both fingerprints', async () => {
    const before = await logins(h1);
    const lying = await scratchFile('changed_known_hosts', `# h1 with h2's key\n${h1.address} ${h2.hostKey}\n`);
    const e = await refused(
      open(h1, { known_hosts_file: lying }),
      'E_HOST_KEY_CHANGED',
      /HAS CHANGED/,
      fp(h1),
      fp(h2),
      'line 2',
      'man-in-the-middle',
      'ssh-keygen -R 10.213.10.11',
    );
    assert.equal((e.data as { presented: string }).presented, fp(h1));
    assert.equal(await logins(h1), before);
  });

  test('a key marked @revoked is refused even when also listed', async () => {
    const file = await scratchFile('revoked_known_hosts', `${h1.address} ${h1.hostKey}\n@revoked * ${h1.hostKey}\n`);
    await refused(open(h1, { known_hosts_file: file }), 'E_HOST_KEY_REVOKED', /@revoked/, fp(h1));
  });

  test('hashed known_hosts entries (ssh-keygen -H) are matched', async () => {
    const file = await scratchFile('hashed_known_hosts', await readFile(th.knownHosts, 'utf8'));
    await run('ssh-keygen', ['-q', '-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(h1.address) && text.includes('|1|'), text);
    const conn = await open(h1, { known_hosts_file: file });
    assert.equal((await conn.run('hostname')).stdout, 'h1\n');
    await conn.close();
  });

  test('[host]:port entries are matched for a port other than 22', async () => {
    // A TCP relay on a random loopback port stands in for an sshd on a non-default port.
    const relay: Server = createServer((c) => {
      const up = tcpConnect(22, h1.address);
      c.pipe(up).pipe(c);
      up.on('error', () => c.destroy());
      c.on('error', () => up.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const port = (relay.address() as { port: number }).port;
      const bracketed = await scratchFile('port_known_hosts', `[127.0.0.1]:${port} ${h1.hostKey}\n`);
      const conn = await SshConnection.open(
        { address: 'host.web', settings: { address: '127.0.0.1', port, private_key_file: th.key, known_hosts_file: bracketed } },
        { home: scratch },
      );
      assert.equal((await conn.run('hostname')).stdout, 'h1\n');
      await conn.close();
      // A plain entry is for port 22 only.
      const plain = await scratchFile('plain_known_hosts', `127.0.0.1 ${h1.hostKey}\n`);
      await refused(
        SshConnection.open(
          { address: 'host.web', settings: { address: '127.0.0.1', port, private_key_file: th.key, known_hosts_file: plain } },
          { home: scratch },
        ),
        'E_HOST_KEY_UNKNOWN',
        `[127.0.0.1]:${port}`,
      );
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });

  test('a key the host does not authorize fails with E_SSH_AUTH', async () => {
    const key = join(scratch, 'unauthorized');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await refused(open(h1, { private_key_file: key }), 'E_SSH_AUTH', 'host.web (root@10.213.10.11:22)', `key ${key}`);
    await refused(open(h1, { user: 'tsit-nobody' }), 'E_SSH_AUTH', 'as tsit-nobody');
  });

  test('a closed port fails with E_SSH_REFUSED', async () => {
    await refused(open(h1, { port: 2222 }), 'E_SSH_REFUSED', 'host.web (root@10.213.10.11:2222)', /port 2222/);
  });

  test('an address where nothing answers fails with E_SSH_TIMEOUT within readyTimeout', async () => {
    const t0 = Date.now();
    await refused(open({ ...h1, address: `${NET}.200` }, {}, { readyTimeoutMs: 1000 }), 'E_SSH_TIMEOUT', `${NET}.200:22`, /1 s/);
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  });

  test('a name that does not resolve fails with E_SSH_DNS', async () => {
    // In a namespace without routes, so the lookup fails here and sends nothing out.
    const netns = await createNetns();
    try {
      const r = await connectFrom(netns, { address: 'host.web', settings: settings(h1, { address: 'tsit-no-such-host.invalid' }), command: 'true' });
      assert.equal(r.ok, false);
      assert.equal(r.ok === false && r.code, 'E_SSH_DNS', JSON.stringify(r));
      assert.match(r.ok === false ? r.message : '', /host\.web \(root@tsit-no-such-host\.invalid:22\): cannot resolve/);
    } finally {
      await deleteNetns(netns);
    }
  });

  test('agent = true logs in with the key held by ssh-agent', async () => {
    const sock = join(scratch, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50; i++) {
        if (
          await run('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).then(
            () => true,
            (e: { code?: number }) => e.code === 1, // 1: no identities yet, but the agent answers
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await run('ssh-add', [th.key], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const conn = await open(h1, { private_key_file: null, agent: true }, { env: { SSH_AUTH_SOCK: sock } });
      assert.equal((await conn.run('hostname')).stdout, 'h1\n');
      await conn.close();
      // Silent host block: the agent is used when there is one.
      const quiet = await open(h1, { private_key_file: null }, { env: { SSH_AUTH_SOCK: sock } });
      await quiet.close();
      await refused(open(h1, { private_key_file: null, agent: true }, { env: {} }), 'E_SSH_AGENT_UNAVAILABLE', /SSH_AUTH_SOCK is not set/);
      await refused(open(h1, { private_key_file: null }, { env: {} }), 'E_SSH_NO_CREDENTIALS', /private_key_file/);
    } finally {
      agent.kill();
    }
  });

  test('an encrypted PEM key is decrypted with TSINFRA_SSH_PASSPHRASE', async () => {
    const key = join(scratch, 'id_rsa_pem');
    await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', 'correct horse', '-f', key]);
    assert.match(await readFile(key, 'utf8'), /BEGIN RSA PRIVATE KEY[\s\S]*ENCRYPTED/);
    await appendFile(join(h1.hostDir, 'authorized_keys'), await readFile(`${key}.pub`, 'utf8'));
    const keys = new PrivateKeys({ env: { TSINFRA_SSH_PASSPHRASE: 'correct horse' }, prompt: null });
    const conn = await open(h1, { private_key_file: key }, { keys });
    assert.equal((await conn.run('hostname')).stdout, 'h1\n');
    await conn.close();
    await refused(open(h1, { private_key_file: key }), 'E_SSH_KEY_ENCRYPTED', /TSINFRA_SSH_PASSPHRASE/);
    await refused(
      open(h1, { private_key_file: key }, { keys: new PrivateKeys({ env: { TSINFRA_SSH_PASSPHRASE: 'wrong' }, prompt: null }) }),
      'E_SSH_KEY_PASSPHRASE',
    );
  });

  test('a command that runs too long is stopped with E_SSH_COMMAND_TIMEOUT', async () => {
    const conn = await open(h1);
    try {
      const t0 = Date.now();
      await refused(conn.run('sleep 20', { timeoutMs: 300 }), 'E_SSH_COMMAND_TIMEOUT', /sleep 20 did not finish within 0\.3 s/);
      assert.ok(Date.now() - t0 < 3000);
      assert.equal((await conn.run('echo still usable')).stdout, 'still usable\n');
    } finally {
      await conn.close();
    }
  });

  test('keep-alives report a host that stops answering as E_SSH_LOST', async () => {
    const conn = await open(h1, {}, { keepaliveIntervalMs: 200, keepaliveCountMax: 2 });
    const proc = await conn.exec('sleep 30');
    proc.stdout.resume();
    // h1's replies to this machine vanish from now on.
    await run('ip', ['-n', h1.netns, 'route', 'add', 'blackhole', `${NET}.1/32`]);
    try {
      const lost = await conn.ended;
      assert.ok(lost instanceof AgentError);
      assert.equal(lost.code, 'E_SSH_LOST');
      assert.match(lost.message, /host\.web \(root@10\.213\.10\.11:22\): the SSH connection was lost \(the host stopped answering keep-alives\)/);
      assert.equal((await proc.exit).error?.code, 'E_SSH_LOST');
      await refused(conn.exec('true'), 'E_SSH_LOST');
    } finally {
      await run('ip', ['-n', h1.netns, 'route', 'del', 'blackhole', `${NET}.1/32`]);
      await conn.close();
    }
  });

  describe('jump hosts', () => {
    // The client runs in h3's namespace, where h1 is made unreachable: only h2 can reach it.
    before(async () => {
      await run('ip', ['-n', h3.netns, 'route', 'add', 'unreachable', `${h1.address}/32`]);
    });
    after(async () => {
      await run('ip', ['-n', h3.netns, 'route', 'del', 'unreachable', `${h1.address}/32`]).catch(() => undefined);
    });

    test('h1 is reached through h2 when it cannot be reached directly', async () => {
      const direct = await connectFrom(h3.netns, { address: 'host.web', settings: settings(h1), command: 'hostname' });
      assert.deepEqual(direct.ok === false && direct.code, 'E_SSH_UNREACHABLE', JSON.stringify(direct));
      const viaH2 = await connectFrom(h3.netns, {
        address: 'host.web',
        settings: settings(h1, { jump_host: { id: 'host.bastion', ...settings(h2) } }),
        command: 'hostname',
      });
      assert.deepEqual(viaH2, { ok: true, stdout: 'h1\n', code: 0 });
      // Two hops, each with its own settings: h3 (itself) -> h2 -> h1.
      const twoHops = await connectFrom(h3.netns, {
        address: 'host.web',
        settings: settings(h1, { jump_host: { id: 'host.bastion', ...settings(h2, { jump_host: { id: 'host.outer', ...settings(h3) } }) } }),
        command: 'hostname',
      });
      assert.deepEqual(twoHops, { ok: true, stdout: 'h1\n', code: 0 });
    });

    test('failures name the host, the jump host and where it failed', async () => {
      const empty = await scratchFile('empty_known_hosts', '');
      const bastion = { id: 'host.bastion', ...settings(h2) };
      // The target's key is checked through the tunnel like any other.
      await refused(open(h1, { known_hosts_file: empty, jump_host: bastion }), 'E_HOST_KEY_UNKNOWN', 'host.web (root@10.213.10.11:22)', fp(h1));
      // The jump host's own key is checked against its own settings.
      await refused(
        open(h1, { jump_host: { ...bastion, known_hosts_file: empty } }),
        'E_HOST_KEY_UNKNOWN',
        'host.bastion (root@10.213.10.12:22), the jump host of host.web',
        fp(h2),
      );
      await refused(open(h1, { port: 2222, jump_host: bastion }), 'E_SSH_REFUSED', 'through host.bastion (root@10.213.10.12:22)', /Connection refused/);
      await refused(open(h1, { jump_host: { ...bastion, port: 2222 } }), 'E_SSH_REFUSED', 'host.bastion (root@10.213.10.12:2222), the jump host of host.web');
      await refused(open({ ...h1, address: `${NET}.200` }, { jump_host: bastion }, { readyTimeoutMs: 1000 }), 'E_SSH_TIMEOUT', 'through host.bastion');
    });
  });

  describe('sudo with a non-root user', () => {
    // Users are shared by all test hosts (one /etc/passwd); the key in DIR/h<i>/authorized_keys
    // is accepted for any user. `allowed` may run /usr/bin/id as root without a password,
    // `asked` needs a password for it.
    const suffix = randomBytes(3).toString('hex');
    const allowed = `tsi${suffix}a`;
    const asked = `tsi${suffix}b`;
    const sudoers = `/etc/sudoers.d/tsit-${suffix}`;
    let made: string[] = [];
    before(async () => {
      await run('sh', ['-c', 'command -v sudo']).catch(() => {
        throw new Error('sudo is not installed (apt-get install sudo)');
      });
      for (const u of [allowed, asked]) {
        await run('useradd', ['--create-home', '--shell', '/bin/sh', u]);
        made.push(u);
        // sshd without PAM refuses locked accounts ("!" in shadow); "*" is no password, not locked.
        await run('usermod', ['--password', '*', u]);
      }
      const rules = `${allowed} ALL=(root) NOPASSWD: /usr/bin/id\n${asked} ALL=(root) /usr/bin/id\n`;
      await writeFile(sudoers, rules, { mode: 0o440 });
      await run('visudo', ['-cf', sudoers]);
    });
    after(async () => {
      await rm(sudoers, { force: true });
      for (const u of made) await run('userdel', ['--remove', u]).catch(() => undefined);
      made = [];
    });

    test('sudo -n runs the command as root', async () => {
      const conn = await open(h2, { user: allowed, sudo: true });
      try {
        assert.equal((await conn.run('id -u')).stdout, '0\n');
        assert.equal((await conn.run(['id', '-un'], { sudo: false })).stdout, `${allowed}\n`);
      } finally {
        await conn.close();
      }
    });

    test('a sudo that wants a password fails with E_SUDO_PASSWORD', async () => {
      const conn = await open(h2, { user: asked, sudo: true });
      try {
        await refused(conn.run('id -u'), 'E_SUDO_PASSWORD', `host.web (${asked}@10.213.10.12:22)`, /NOPASSWD/);
        const proc = await conn.exec('id -u');
        proc.stdout.resume();
        proc.stderr.resume();
        const exit = await proc.exit;
        assert.equal(exit.code, 1);
        assert.equal(exit.error?.code, 'E_SUDO_PASSWORD');
        // Without sudo the same user runs commands as itself.
        assert.notEqual((await conn.run('id -u', { sudo: false })).stdout, '0\n');
      } finally {
        await conn.close();
      }
    });
  });
});
