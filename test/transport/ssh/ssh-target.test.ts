// Reading a host block's SSH settings (and its jump_host chain) into a target.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandLine, shellQuote } from '../../../transport/ssh/remote-process.js';
import { endpoint, expandHome, sshTarget } from '../../../transport/ssh/ssh-target.js';
import { AgentError } from '../../../transport/types.js';

const HOME = '/home/tsit-user';

describe('sshTarget', () => {
  test('defaults: port 22, user root, ~/.ssh/known_hosts, strict, no sudo', () => {
    // An evaluated host object also carries id, name and transport.
    const t = sshTarget('host.web', { id: 'host.web', name: 'web', transport: 'ssh', address: '10.0.0.5', sudo: null }, HOME);
    assert.deepEqual(t, {
      id: 'host.web',
      host: '10.0.0.5',
      port: 22,
      user: 'root',
      agent: false,
      knownHostsFile: '/home/tsit-user/.ssh/known_hosts',
      sudo: false,
      agentIdleMs: 600_000,
    });
    assert.equal(endpoint(t), 'root@10.0.0.5:22');
    assert.equal(endpoint({ ...t, host: 'fe80::1' }), 'root@[fe80::1]:22');
  });

  test('settings, ~ expansion and a jump_host chain', () => {
    const outer = { id: 'host.outer', address: 'outer.example.com', agent: true };
    const bastion = { id: 'host.bastion', name: 'bastion', address: 'bastion.example.com', port: 2200, user: 'jump', jump_host: outer };
    const t = sshTarget(
      'host.web["a"]',
      {
        address: '10.0.0.5',
        port: 2222,
        user: 'deploy',
        private_key_file: '~/.ssh/deploy',
        known_hosts_file: '/etc/ssh/known',
        host_key: 'ssh-ed25519 AAAA',
        sudo: true,
        agent_idle_timeout: '30s',
        jump_host: bastion,
      },
      HOME,
    );
    assert.equal(t.agentIdleMs, 30_000);
    assert.equal(sshTarget('host.x', { address: 'x', agent_idle_timeout: '0s' }, HOME).agentIdleMs, 0);
    assert.equal(t.privateKeyFile, '/home/tsit-user/.ssh/deploy');
    assert.equal(t.knownHostsFile, '/etc/ssh/known');
    assert.equal(t.hostKey, 'ssh-ed25519 AAAA');
    assert.equal(t.sudo, true);
    assert.deepEqual(
      [t.jump?.id, t.jump?.host, t.jump?.port, t.jump?.user, t.jump?.jump?.id, t.jump?.jump?.agent],
      ['host.bastion', 'bastion.example.com', 2200, 'jump', 'host.outer', true],
    );
    assert.equal(expandHome('~', HOME), HOME);
    assert.equal(expandHome('/abs/key', HOME), '/abs/key');
  });

  test('bad settings and looping chains are E_SSH_CONFIG naming the host', () => {
    const bad = (s: Record<string, unknown>, message: RegExp) =>
      assert.throws(
        () => sshTarget('host.web', s, HOME),
        (e: unknown) => e instanceof AgentError && e.code === 'E_SSH_CONFIG' && e.host === 'host.web' && message.test(e.message),
      );
    bad({}, /host\.web: address must be/);
    bad({ address: 'x', port: 70000 }, /port must be a port number/);
    bad({ address: 'x', agent: 'yes' }, /agent must be true or false/);
    bad({ address: 'x', agent_idle_timeout: '10 minutes' }, /agent_idle_timeout must be a duration/);
    bad({ address: 'x', jump_host: 'bastion' }, /jump_host must be a host/);
    bad({ address: 'x', jump_host: { id: 'host.b', transport: 'local' } }, /host\.b uses transport = "local"/);
    bad({ address: 'x', jump_host: { id: 'host.b', address: 'b', jump_host: { id: 'host.web', address: 'x' } } }, /loops: host\.web -> host\.b -> host\.web/);
  });
});

describe('command lines', () => {
  test('argv arrays are quoted for the remote shell; sudo runs non-interactively', () => {
    assert.equal(shellQuote('plain-word_1.2/x'), 'plain-word_1.2/x');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(''), "''");
    assert.equal(commandLine(['echo', 'a b', '$HOME'], false), "echo 'a b' '$HOME'");
    assert.equal(commandLine('id -u', true), 'sudo -n -- id -u');
  });
});
