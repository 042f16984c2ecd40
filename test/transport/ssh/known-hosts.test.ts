// known_hosts parsing and matching, checked against what OpenSSH's own tools write.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { entriesFor, entryMatches, hashName, knownHostsName, parseKnownHosts } from '../../../transport/ssh/known-hosts.js';

const run = promisify(execFile);

describe('known_hosts', () => {
  let dir: string;
  let ed: string; // "ssh-ed25519 AAAA..."
  let rsa: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsit-known-hosts-'));
    for (const [name, type] of [
      ['ed', 'ed25519'],
      ['rsa', 'rsa'],
    ] as const) {
      await run('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', join(dir, name)]);
    }
    ed = (await readFile(join(dir, 'ed.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
    rsa = (await readFile(join(dir, 'rsa.pub'), 'utf8')).split(' ').slice(0, 2).join(' ');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('reads entries, markers and comments, and reports unreadable lines', () => {
    const file = parseKnownHosts(
      [
        '# a comment',
        '',
        `web1,10.0.0.5 ${ed} a comment with spaces`,
        `@revoked * ${rsa}`,
        `@cert-authority *.example.com ${ed}`,
        `@bogus web ${ed}`,
        'web2 ssh-ed25519',
        'web3 ssh-ed25519 !!notbase64',
        `web4 ssh-rsa ${ed.split(' ')[1]}`,
        '   ',
      ].join('\n'),
    );
    assert.deepEqual(
      file.entries.map((e) => [e.line, e.marker ?? '', e.patterns, e.keyType]),
      [
        [3, '', 'web1,10.0.0.5', 'ssh-ed25519'],
        [4, 'revoked', '*', 'ssh-rsa'],
        [5, 'cert-authority', '*.example.com', 'ssh-ed25519'],
      ],
    );
    assert.deepEqual(
      file.skipped.map((s) => s.line),
      [6, 7, 8, 9],
    );
    assert.match(file.skipped[3]!.reason, /of type ssh-ed25519, but the line says ssh-rsa/);
    assert.ok(file.entries[0]!.key.equals(Buffer.from(ed.split(' ')[1]!, 'base64')));
  });

  test('names: plain on port 22, [host]:port otherwise, lower case', () => {
    assert.equal(knownHostsName('Web.Example.COM', 22), 'web.example.com');
    assert.equal(knownHostsName('10.0.0.5', 2222), '[10.0.0.5]:2222');
    assert.equal(knownHostsName('fe80::1', 2222), '[fe80::1]:2222');
  });

  test('patterns: comma lists, wildcards, negation, [host]:port', () => {
    const m = (patterns: string, host: string, port = 22) => entryMatches({ patterns }, knownHostsName(host, port));
    assert.ok(m('web1,10.0.0.5', '10.0.0.5'));
    assert.ok(m('web1,10.0.0.5', 'WEB1'));
    assert.ok(!m('web1,10.0.0.5', 'web10'));
    assert.ok(m('*.example.com', 'a.b.example.com'));
    assert.ok(!m('*.example.com', 'example.com'));
    assert.ok(m('10.0.0.?', '10.0.0.7'));
    assert.ok(!m('10.0.0.?', '10.0.0.17'));
    assert.ok(m('*.example.com,!db.example.com', 'web.example.com'));
    assert.ok(!m('*.example.com,!db.example.com', 'db.example.com'));
    assert.ok(!m('!db.example.com', 'web.example.com'), 'a negation alone matches nothing');
    assert.ok(m('[10.0.0.5]:2222', '10.0.0.5', 2222));
    assert.ok(!m('[10.0.0.5]:2222', '10.0.0.5'), '[host]:port is not the host on port 22');
    assert.ok(!m('10.0.0.5', '10.0.0.5', 2222), 'a plain entry is for port 22 only');
    assert.ok(m('[10.0.0.*]:2222', '10.0.0.9', 2222));
  });

  test('hashed entries written by ssh-keygen -H match, for port 22 and [host]:port', async () => {
    const path = join(dir, 'known_hosts');
    await writeFile(path, `web1,10.0.0.5 ${ed}\n[10.0.0.6]:2222 ${rsa}\n`);
    await run('ssh-keygen', ['-q', '-H', '-f', path]);
    const file = parseKnownHosts(await readFile(path, 'utf8'));
    assert.equal(file.entries.length, 3, 'ssh-keygen -H writes one line per name');
    assert.ok(file.entries.every((e) => e.patterns.startsWith('|1|')));
    assert.deepEqual(
      entriesFor(file, knownHostsName('web1', 22)).map((e) => e.keyType),
      ['ssh-ed25519'],
    );
    assert.equal(entriesFor(file, knownHostsName('10.0.0.5', 22)).length, 1);
    assert.deepEqual(
      entriesFor(file, knownHostsName('10.0.0.6', 2222)).map((e) => e.keyType),
      ['ssh-rsa'],
    );
    assert.equal(entriesFor(file, knownHostsName('10.0.0.6', 22)).length, 0);
    assert.equal(entriesFor(file, knownHostsName('web2', 22)).length, 0);
    // ssh-keygen -F finds our own hashed form too.
    const ours = join(dir, 'ours');
    await writeFile(ours, `${hashName('[10.0.0.7]:2200', randomBytes(20))} ${ed}\n`);
    const { stdout } = await run('ssh-keygen', ['-F', '[10.0.0.7]:2200', '-f', ours]);
    assert.match(stdout, /ssh-ed25519/);
  });
});
