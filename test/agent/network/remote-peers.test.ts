// Containers of a network on other hosts: the store on a real directory, the hosts
// directory's view of them, and where they land in a rendered /etc/hosts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { HostsDirectory } from '../../../agent/network/hosts-directory.js';
import { renderHostsFile } from '../../../agent/network/hosts-file.js';
import { RemotePeerStore } from '../../../agent/network/remote-peers.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';

const NET = 'tsi-ovl-3fa9c1';
const api = { name: 'api', aliases: ['backend'], ip: '10.90.1.2' };
const db = { name: 'db', aliases: ['postgres', 'postgres', 'db'], ip: '10.90.2.7' };

function failsWith(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => isAgentFailure(e) && e.code === code && pattern.test(e.message);
}

describe('RemotePeerStore', () => {
  const base = mkdtempSync(join(tmpdir(), 'tsit-peers-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  const freshDir = () => join(base, `networks-${n++}`);

  test('records the peers in <network>.peers.json (0600), normalised', () => {
    const dir = freshDir();
    const store = RemotePeerStore.open(dir);
    assert.deepEqual(store.peersOn(NET), []);
    assert.equal(store.set(NET, [db, api]), true);
    const file = join(dir, `${NET}.peers.json`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    // Sorted by name; repeated aliases and the name itself dropped.
    assert.deepEqual(recorded, {
      network: NET,
      peers: [
        { name: 'api', aliases: ['backend'], ip: '10.90.1.2' },
        { name: 'db', aliases: ['postgres'], ip: '10.90.2.7' },
      ],
    });
    assert.deepEqual(readdirSync(dir), [`${NET}.peers.json`], 'no temporary file is left');
  });

  test('the same list again (in any order) changes nothing and writes nothing', () => {
    const dir = freshDir();
    const store = RemotePeerStore.open(dir);
    store.set(NET, [api, db]);
    const file = join(dir, `${NET}.peers.json`);
    const before = statSync(file);
    assert.equal(store.set(NET, [db, api]), false);
    assert.equal(store.set(NET, [{ ...db, aliases: ['postgres'] }, api]), false);
    const now = statSync(file);
    assert.equal(now.ino, before.ino, 'not replaced');
    assert.equal(now.mtimeMs, before.mtimeMs);
    assert.equal(store.set(NET, [api, { ...db, ip: '10.90.2.8' }]), true, 'a moved peer is a change');
  });

  test('a new store reads back what was recorded; an empty list forgets it', () => {
    const dir = freshDir();
    RemotePeerStore.open(dir).set(NET, [api]);
    RemotePeerStore.open(dir).set('tsi-other', [db]);
    const again = RemotePeerStore.open(dir);
    assert.deepEqual(again.peersOn(NET), [{ name: 'api', aliases: ['backend'], ip: '10.90.1.2' }]);
    assert.deepEqual(again.networks().sort(), ['tsi-other', NET]);
    assert.equal(again.set(NET, [api]), false, 'known after a restart: no change');
    assert.equal(again.set(NET, []), true);
    assert.equal(again.set(NET, []), false);
    assert.ok(!existsSync(join(dir, `${NET}.peers.json`)));
    assert.deepEqual(RemotePeerStore.open(dir).peersOn(NET), []);
    assert.deepEqual(RemotePeerStore.open(dir).peersOn('tsi-other').length, 1);
  });

  test('other files in the directory (network records) are neither read nor touched', () => {
    const dir = freshDir();
    const store = RemotePeerStore.open(dir);
    store.set(NET, [api]);
    writeFileSync(join(dir, `${NET}.json`), '{"id":"tsi-ovl-3fa9c1","driver":"macvlan"}');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    store.set(NET, []);
    assert.deepEqual(readdirSync(dir).sort(), ['notes.txt', `${NET}.json`]);
    assert.deepEqual(RemotePeerStore.open(dir).networks(), []);
  });

  test('a damaged file is reported and skipped, not fatal', () => {
    const dir = freshDir();
    RemotePeerStore.open(dir).set(NET, [api]);
    writeFileSync(join(dir, 'tsi-broken.peers.json'), '{not json');
    writeFileSync(join(dir, 'tsi-liar.peers.json'), JSON.stringify({ network: 'tsi-other', peers: [] }));
    writeFileSync(join(dir, 'tsi-evil.peers.json'), JSON.stringify({ network: 'tsi-evil', peers: [{ name: 'x y', aliases: [], ip: '10.0.0.1' }] }));
    const warnings: string[] = [];
    const store = RemotePeerStore.open(dir, (m) => warnings.push(m));
    assert.deepEqual(store.networks(), [NET]);
    assert.equal(warnings.length, 3);
    assert.ok(warnings.some((w) => /tsi-broken\.peers\.json/.test(w)));
    assert.ok(warnings.some((w) => /tsi-liar\.peers\.json: it is about network "tsi-other"/.test(w)));
  });

  test('bad names, addresses and network ids are refused, and nothing is recorded', () => {
    const dir = freshDir();
    const store = RemotePeerStore.open(dir);
    store.set(NET, [api]);
    assert.throws(
      () => store.set(NET, [{ name: 'two words', aliases: [], ip: '10.0.0.1' }]),
      failsWith('E_INVALID_HOSTNAME', /peer 1: name "two words" is not a valid host name/),
    );
    assert.throws(
      () => store.set(NET, [api, { name: 'db', aliases: ['x\n1.2.3.4 evil'], ip: '10.0.0.1' }]),
      failsWith('E_INVALID_HOSTNAME', /peer 2 \(db\): alias/),
    );
    assert.throws(() => store.set(NET, [{ name: 'db', aliases: [], ip: '10.0.0.256' }]), failsWith('E_INVALID_IP', /"10\.0\.0\.256" is not an IPv4 address/));
    assert.throws(() => store.set(NET, [{ name: 'db', aliases: [], ip: 'fd00::1' }]), failsWith('E_INVALID_IP', /not an IPv4 address/));
    assert.throws(() => store.set('../../etc/passwd', []), failsWith('E_UNSAFE_NAME', /refusing to touch link/));
    assert.throws(() => store.set('eth0', [api]), failsWith('E_UNSAFE_NAME', /"eth0"/));
    assert.deepEqual(store.peersOn(NET), [{ name: 'api', aliases: ['backend'], ip: '10.90.1.2' }]);
    assert.deepEqual(readdirSync(dir), [`${NET}.peers.json`]);
  });
});

describe('HostsDirectory with peers on other hosts', () => {
  const web = { id: 'w', name: 'web', networks: [{ bridge: NET, ip: '10.90.0.2', aliases: ['www'] }] };
  const worker = {
    id: 'k',
    name: 'worker',
    networks: [
      { bridge: 'tsi-local', ip: '10.1.0.3', aliases: [] },
      { bridge: NET, ip: '10.90.0.3', aliases: [] },
    ],
  };
  const lonely = { id: 'l', name: 'lonely', networks: [{ bridge: 'tsi-local', ip: '10.1.0.4', aliases: [] }] };
  const remote = new Map([[NET, [api, { name: 'db', aliases: ['postgres'], ip: '10.90.2.7' }]]]);
  const dir = new HostsDirectory([web, worker, lonely], (n) => remote.get(n) ?? []);

  test("members of the network get its remote peers under their names and aliases, others don't", () => {
    const expected = [
      { ip: '10.90.1.2', names: ['api', 'backend'] },
      { ip: '10.90.2.7', names: ['db', 'postgres'] },
    ];
    assert.deepEqual(dir.remotePeersOf('w'), expected);
    assert.deepEqual(dir.remotePeersOf('k'), expected);
    assert.deepEqual(dir.remotePeersOf('l'), []);
    assert.deepEqual(dir.remotePeersOf('nobody'), []);
    // Local peers stay what they were.
    assert.deepEqual(dir.peersOf('w'), [{ ip: '10.90.0.3', names: ['worker'] }]);
  });

  test("onNetwork says whose files change when a network's remote peers do", () => {
    assert.deepEqual(dir.onNetwork(NET).sort(), ['k', 'w']);
    assert.deepEqual(dir.onNetwork('tsi-local').sort(), ['k', 'l']);
    assert.deepEqual(dir.onNetwork('tsi-none'), []);
  });

  test('rendered after the peers on this host, in a section of their own', () => {
    const text = renderHostsFile({
      hostname: 'web',
      ownAddresses: dir.ownAddresses('w'),
      peers: dir.peersOf('w'),
      remotePeers: dir.remotePeersOf('w'),
      extraHosts: {},
    });
    const tail = text.split('\n').slice(-7);
    assert.deepEqual(tail, [
      '10.90.0.2\tweb',
      '# containers on the same networks',
      '10.90.0.3\tworker',
      '# containers on the same networks on other hosts',
      '10.90.1.2\tapi backend',
      '10.90.2.7\tdb postgres',
      '',
    ]);
    const alone = renderHostsFile({ hostname: 'web', ownAddresses: ['10.90.0.2'], peers: [], remotePeers: dir.remotePeersOf('w'), extraHosts: {} });
    assert.doesNotMatch(alone, /# containers on the same networks\n/);
    assert.match(alone, /# containers on the same networks on other hosts\n10\.90\.1\.2\tapi backend\n/);
  });
});
