// Private key files as ssh-keygen writes them: OpenSSH and PEM, plain and encrypted, and
// each way loading one can fail.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { PrivateKeys } from '../../../transport/ssh/private-key.js';
import { AgentError } from '../../../transport/types.js';

const run = promisify(execFile);
const PASS = 'correct horse battery';

describe('PrivateKeys', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsit-keys-'));
    const gen = (name: string, ...args: string[]) => run('ssh-keygen', ['-q', ...args, '-f', file(name)]);
    await gen('ed_plain', '-t', 'ed25519', '-N', '');
    await gen('ed_locked', '-t', 'ed25519', '-N', PASS);
    await gen('rsa_pem_locked', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', PASS);
    await gen('ecdsa_pem', '-t', 'ecdsa', '-m', 'PEM', '-N', '');
    await writeFile(file('garbage'), 'not a key\n');
    await mkdir(file('a-directory'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const fails = async (p: Promise<unknown>, code: string, message: RegExp) => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof AgentError, String(e));
      assert.equal(e.code, code, e.message);
      assert.equal(e.host, 'host.web');
      assert.match(e.message, message);
      return true;
    });
  };

  test('plain OpenSSH and PEM keys load without a passphrase', async () => {
    const keys = new PrivateKeys({ env: {}, prompt: null });
    assert.equal((await keys.load(file('ed_plain'), 'host.web')).type, 'ssh-ed25519');
    assert.equal((await keys.load(file('ecdsa_pem'), 'host.web')).type, 'ecdsa-sha2-nistp256');
  });

  test('encrypted keys take the passphrase from TSINFRA_SSH_PASSPHRASE', async () => {
    const keys = new PrivateKeys({ env: { TSINFRA_SSH_PASSPHRASE: PASS }, prompt: null });
    assert.equal((await keys.load(file('ed_locked'), 'host.web')).type, 'ssh-ed25519');
    assert.equal((await keys.load(file('rsa_pem_locked'), 'host.web')).type, 'ssh-rsa');
    assert.ok((await keys.load(file('ed_locked'), 'host.web')).isPrivateKey());
  });

  test('a wrong passphrase, or none, is a clear error', async () => {
    const wrong = new PrivateKeys({ env: { TSINFRA_SSH_PASSPHRASE: 'wrong' }, prompt: null });
    await fails(
      wrong.load(file('ed_locked'), 'host.web'),
      'E_SSH_KEY_PASSPHRASE',
      /ed_locked could not be decrypted with the passphrase in TSINFRA_SSH_PASSPHRASE/,
    );
    await fails(wrong.load(file('rsa_pem_locked'), 'host.web'), 'E_SSH_KEY_PASSPHRASE', /rsa_pem_locked/);
    const none = new PrivateKeys({ env: {}, prompt: null });
    await fails(none.load(file('ed_locked'), 'host.web'), 'E_SSH_KEY_ENCRYPTED', /is encrypted and no passphrase is available: set TSINFRA_SSH_PASSPHRASE/);
  });

  test('on a terminal the passphrase is asked once per key, however many hosts use it', async () => {
    const asked: string[] = [];
    const keys = new PrivateKeys({
      env: {},
      prompt: async (q) => {
        asked.push(q);
        return asked.length === 1 ? 'typo' : PASS;
      },
    });
    const loads = await Promise.all(['host.a', 'host.b', 'host.c'].map((h) => keys.load(file('ed_locked'), h)));
    assert.ok(loads.every((k) => k === loads[0]));
    assert.deepEqual(
      asked,
      [`Enter passphrase for key ${file('ed_locked')}: `, `Enter passphrase for key ${file('ed_locked')}: `],
      'asked again after a typo, then never',
    );
    const wrong = new PrivateKeys({ env: {}, prompt: async () => 'nope' });
    await fails(wrong.load(file('rsa_pem_locked'), 'host.web'), 'E_SSH_KEY_PASSPHRASE', /wrong passphrase 3 times/);
    const cancelled = new PrivateKeys({
      env: {},
      prompt: () => Promise.reject(new Error('cancelled')),
    });
    await fails(cancelled.load(file('ed_locked'), 'host.web'), 'E_SSH_KEY_ENCRYPTED', /prompt ended: cancelled/);
    // Keys tried by default never prompt.
    await fails(
      new PrivateKeys({ env: {}, prompt: async () => PASS }).load(file('ed_locked'), 'host.web', { interactive: false }),
      'E_SSH_KEY_ENCRYPTED',
      /no passphrase/,
    );
  });

  test('missing, unreadable and non-key files', async () => {
    const keys = new PrivateKeys({ env: {}, prompt: null });
    await fails(keys.load(file('missing'), 'host.web'), 'E_SSH_KEY_UNREADABLE', /^host\.web: private_key_file .*missing does not exist$/);
    await fails(keys.load(file('a-directory'), 'host.web'), 'E_SSH_KEY_UNREADABLE', /cannot be read: EISDIR/);
    await fails(keys.load(file('garbage'), 'host.web'), 'E_SSH_KEY_INVALID', /is not a private key ssh2 can read/);
    await fails(keys.load(file('ed_plain.pub'), 'host.web'), 'E_SSH_KEY_INVALID', /holds a public key/);
  });
});
