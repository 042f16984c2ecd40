// Host key decisions without a network: fingerprints as ssh-keygen shows them, and the
// verdicts for known, unknown, changed, revoked and pinned keys.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fingerprint, hostKeyCheck } from '../../../transport/ssh/host-key-check.js';
import { sshTarget } from '../../../transport/ssh/ssh-target.js';
import { AgentError } from '../../../transport/types.js';

const run = promisify(execFile);

describe('host key check', () => {
  let dir: string;
  const keys: Record<string, { line: string; blob: Buffer }> = {};
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsit-host-key-'));
    for (const [name, type] of [
      ['a', 'ed25519'],
      ['b', 'ed25519'],
      ['r', 'rsa'],
      ['e', 'ecdsa'],
    ] as const) {
      await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(dir, name)]);
      const line = (await readFile(join(dir, `${name}.pub`), 'utf8')).split(' ').slice(0, 2).join(' ');
      keys[name] = { line, blob: Buffer.from(line.split(' ')[1]!, 'base64') };
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const target = (settings: Record<string, unknown>) => sshTarget('host.web', { address: '10.0.0.5', ...settings }, dir);
  const knownHosts = async (text: string) => {
    const path = join(dir, `known_hosts_${Math.random().toString(16).slice(2)}`);
    await writeFile(path, text);
    return path;
  };

  test('fingerprints are the SHA256 form ssh-keygen -l prints', async () => {
    for (const name of ['a', 'r', 'e']) {
      const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, `${name}.pub`)]);
      assert.equal(fingerprint(keys[name]!.blob), stdout.split(' ')[1]);
    }
  });

  test('known, unknown, changed and revoked keys', async () => {
    const file = await knownHosts(
      `10.0.0.5 ${keys['a']!.line}\n10.0.0.6 ${keys['b']!.line}\n@revoked 10.0.0.7 ${keys['b']!.line}\n10.0.0.7 ${keys['b']!.line}\n`,
    );
    const check = (addr: string) => hostKeyCheck(target({ address: addr, known_hosts_file: file }), 'host.web');
    assert.equal((await check('10.0.0.5')).verify(keys['a']!.blob), undefined);

    const changed = (await check('10.0.0.5')).verify(keys['b']!.blob);
    assert.equal(changed?.code, 'E_HOST_KEY_CHANGED');
    assert.ok(changed.message.includes(fingerprint(keys['a']!.blob)) && changed.message.includes(fingerprint(keys['b']!.blob)), changed.message);
    // Another type than the one listed is a change too: we ask for the listed types first.
    assert.equal((await check('10.0.0.5')).verify(keys['r']!.blob)?.code, 'E_HOST_KEY_CHANGED');

    const unknown = (await check('10.0.0.8')).verify(keys['a']!.blob);
    assert.equal(unknown?.code, 'E_HOST_KEY_UNKNOWN');
    assert.match(unknown.message, /host\.web \(root@10\.0\.0\.8:22\): the SSH host key of 10\.0\.0\.8:22 is not known/);
    assert.ok(unknown.message.includes(`host_key = "${keys['a']!.line}"`));

    assert.equal((await check('10.0.0.7')).verify(keys['b']!.blob)?.code, 'E_HOST_KEY_REVOKED');
  });

  test('host key algorithms: the types known for the host come first', async () => {
    const file = await knownHosts(`10.0.0.5 ${keys['r']!.line}\n10.0.0.5 ${keys['e']!.line}\n`);
    const { algorithms } = await hostKeyCheck(target({ known_hosts_file: file }), 'host.web');
    assert.deepEqual(algorithms.slice(0, 4), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
    assert.ok(algorithms.includes('ssh-ed25519'));
    const pinned = await hostKeyCheck(target({ host_key: keys['e']!.line }), 'host.web');
    assert.equal(pinned.algorithms[0], 'ecdsa-sha2-nistp256');
  });

  test('a pinned host_key replaces known_hosts', async () => {
    const file = await knownHosts(`10.0.0.5 ${keys['b']!.line}\n`);
    const check = await hostKeyCheck(target({ known_hosts_file: file, host_key: `${keys['a']!.line} comment` }), 'host.web');
    assert.equal(check.verify(keys['a']!.blob), undefined);
    const e = check.verify(keys['b']!.blob);
    assert.equal(e?.code, 'E_HOST_KEY_CHANGED');
    assert.match(e.message, /host_key pins ssh-ed25519 SHA256:/);
    await assert.rejects(hostKeyCheck(target({ host_key: 'ssh-rsa AAAA' }), 'host.web'), (err: AgentError) => err.code === 'E_SSH_CONFIG');
    await assert.rejects(
      hostKeyCheck(target({ host_key: `ssh-rsa ${keys['a']!.line.split(' ')[1]}` }), 'host.web'),
      (err: AgentError) => err.code === 'E_SSH_CONFIG' && /of type ssh-ed25519/.test(err.message),
    );
  });

  test('a known_hosts file that cannot be read is an error, a missing one means unknown', async () => {
    await assert.rejects(
      hostKeyCheck(target({ known_hosts_file: dir }), 'host.web'),
      (e: AgentError) => e.code === 'E_SSH_KNOWN_HOSTS' && e.message.includes(dir),
    );
    const check = await hostKeyCheck(target({ known_hosts_file: join(dir, 'missing') }), 'host.web');
    assert.match(check.verify(keys['a']!.blob)?.message ?? '', /missing does not exist/);
  });

  test('a jump host is named as such, errors belong to the host being connected', async () => {
    const file = await knownHosts('');
    const check = await hostKeyCheck(sshTarget('host.bastion', { address: '10.0.0.9', known_hosts_file: file }, dir), 'host.web');
    const e = check.verify(keys['a']!.blob);
    assert.equal(e?.host, 'host.web');
    assert.match(e?.message ?? '', /^host\.bastion \(root@10\.0\.0\.9:22\), the jump host of host\.web,/);
  });
});
