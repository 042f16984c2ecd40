// Managed /etc/hosts: rendering, in-place rewriting, and who lists whom.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HostsDirectory } from '../../../agent/network/hosts-directory.js';
import { renderHostsFile, writeHostsFile } from '../../../agent/network/hosts-file.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';

describe('renderHostsFile', () => {
  test('localhost, extra_hosts, the container itself, then its peers', () => {
    const text = renderHostsFile({
      hostname: 'web1',
      ownAddresses: ['10.1.0.2', '10.2.0.2'],
      ownNames: ['web', 'www'],
      peers: [
        { ip: '10.1.0.3', names: ['db', 'postgres', 'db'] },
        { ip: '10.2.0.9', names: ['cache'] },
      ],
      extraHosts: { 'registry.local': '192.168.1.10', 'a.local': '10.9.9.9' },
    });
    const lines = text.split('\n');
    assert.ok(lines[0]!.startsWith('# Managed by tsinfra'));
    assert.equal(lines[1], '127.0.0.1\tlocalhost');
    assert.equal(lines[2], '::1\tlocalhost ip6-localhost ip6-loopback');
    const body = lines.filter((l) => !l.startsWith('#') && !l.includes('localhost') && !l.startsWith('f'));
    assert.deepEqual(body, [
      '10.9.9.9\ta.local',
      '192.168.1.10\tregistry.local',
      '10.1.0.2\tweb1 web www',
      '10.2.0.2\tweb1 web www',
      '10.2.0.9\tcache',
      '10.1.0.3\tdb postgres',
      '',
    ]);
    assert.ok(text.endsWith('\n'));
  });

  test('without an address the hostname goes on 127.0.1.1', () => {
    const text = renderHostsFile({ hostname: 'lonely', ownAddresses: [], peers: [], extraHosts: {} });
    assert.match(text, /^127\.0\.1\.1\tlonely$/m);
    assert.doesNotMatch(text, /extra_hosts|same networks/);
  });

  test('the same input renders the same text, whatever the order of peers', () => {
    const peers = [
      { ip: '10.1.0.3', names: ['b'] },
      { ip: '10.1.0.4', names: ['a'] },
    ];
    const one = renderHostsFile({ hostname: 'h', ownAddresses: ['10.1.0.2'], peers, extraHosts: {} });
    const two = renderHostsFile({ hostname: 'h', ownAddresses: ['10.1.0.2'], peers: [...peers].reverse(), extraHosts: {} });
    assert.equal(one, two);
  });

  test('names and addresses that would break the file are refused', () => {
    const bad = [
      { hostname: 'two words', ownAddresses: [], peers: [], extraHosts: {} },
      { hostname: 'h', ownAddresses: [], peers: [], extraHosts: { 'x\n1.2.3.4 evil': '10.0.0.1' } },
      { hostname: 'h', ownAddresses: [], peers: [], extraHosts: { ok: 'not-an-ip' } },
      { hostname: 'h', ownAddresses: [], peers: [{ ip: '10.0.0.1', names: ['#comment'] }], extraHosts: {} },
    ];
    for (const input of bad) {
      assert.throws(
        () => renderHostsFile(input),
        (e: unknown) => isAgentFailure(e) && ['E_INVALID_HOSTNAME', 'E_INVALID_IP'].includes(e.code),
      );
    }
    assert.match(renderHostsFile({ hostname: 'h', ownAddresses: [], peers: [], extraHosts: { v6: 'fd00::1' } }), /^fd00::1\tv6$/m);
  });
});

describe('writeHostsFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsit-hosts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('rewrites in place: same inode, shorter and longer content, no leftovers', () => {
    const path = join(dir, 'hosts');
    writeHostsFile(path, 'first version, rather long\n'.repeat(10));
    const inode = statSync(path).ino;
    assert.equal(statSync(path).mode & 0o777, 0o644);

    writeHostsFile(path, 'short\n');
    assert.equal(readFileSync(path, 'utf8'), 'short\n');
    assert.equal(statSync(path).ino, inode);

    const long = 'x'.repeat(100_000) + '\n';
    writeHostsFile(path, long);
    assert.equal(readFileSync(path, 'utf8'), long);
    assert.equal(statSync(path).ino, inode);
  });

  test('leaves an unchanged file untouched (mtime kept)', async () => {
    const path = join(dir, 'same');
    writeHostsFile(path, 'a\n');
    const before = statSync(path).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    writeHostsFile(path, 'a\n');
    assert.equal(statSync(path).mtimeMs, before);
  });

  test('keeps writing through a file the agent did not create (bind-mount source)', () => {
    const path = join(dir, 'existing');
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const inode = statSync(path).ino;
    writeHostsFile(path, renderHostsFile({ hostname: 'h', ownAddresses: ['10.0.0.2'], peers: [], extraHosts: {} }));
    assert.equal(statSync(path).ino, inode);
    assert.match(readFileSync(path, 'utf8'), /^10\.0\.0\.2\th$/m);
  });
});

describe('HostsDirectory', () => {
  const web = { id: 'w', name: 'web', networks: [{ bridge: 'tsi-front', ip: '10.1.0.2', aliases: ['www'] }] };
  const api = {
    id: 'a',
    name: 'api',
    networks: [
      { bridge: 'tsi-front', ip: '10.1.0.3', aliases: [] },
      { bridge: 'tsi-back', ip: '10.2.0.3', aliases: ['backend'] },
    ],
  };
  const db = { id: 'd', name: 'db', networks: [{ bridge: 'tsi-back', ip: '10.2.0.4', aliases: ['postgres'] }] };

  test('peers are the members of shared networks, under their name and aliases on that network', () => {
    const dir = new HostsDirectory([web, api, db]);
    assert.deepEqual(dir.peersOf('w'), [{ ip: '10.1.0.3', names: ['api'] }]);
    assert.deepEqual(dir.peersOf('a'), [
      { ip: '10.1.0.2', names: ['web', 'www'] },
      { ip: '10.2.0.4', names: ['db', 'postgres'] },
    ]);
    assert.deepEqual(dir.peersOf('d'), [{ ip: '10.2.0.3', names: ['api', 'backend'] }]);
    assert.deepEqual(dir.ownAddresses('a'), ['10.1.0.3', '10.2.0.3']);
    assert.deepEqual(dir.ownNames('a'), ['api', 'backend']);
    assert.deepEqual(dir.peersOf('nobody'), []);
  });

  test('join and leave say whose files to rewrite', () => {
    const dir = new HostsDirectory([web, db]);
    assert.deepEqual(dir.join(api).sort(), ['a', 'd', 'w']);
    assert.deepEqual(dir.join({ id: 'x', name: 'lonely', networks: [{ bridge: 'tsi-other', ip: '10.3.0.2', aliases: [] }] }), ['x']);
    // Moving to another network: the old and the new neighbours both change.
    assert.deepEqual(dir.join({ ...db, networks: [{ bridge: 'tsi-other', ip: '10.3.0.3', aliases: [] }] }).sort(), ['a', 'd', 'x']);
    assert.deepEqual(dir.leave('a').sort(), ['w']);
    assert.deepEqual(dir.leave('a'), []);
    assert.equal(dir.has('a'), false);
  });
});
