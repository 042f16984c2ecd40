// The IPAM against a real state directory: allocation rules, persistence, file modes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Ipam, type AllocationRequest } from '../../../agent/network/ipam.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';

const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';
const C = 'cccccccccccccccc';
const net = (owner: string, more: Partial<AllocationRequest> = {}): AllocationRequest => ({
  network: 'tsi-front-1',
  subnet: '10.1.0.0/29',
  gateway: '10.1.0.1',
  owner,
  ...more,
});

function failsWith(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('Ipam', () => {
  let dir: string;
  let ipam: Ipam;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsit-ipam-'));
    ipam = new Ipam(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('hands out addresses after the gateway, and the same one again to the same owner', () => {
    assert.equal(ipam.allocate(net(A)), '10.1.0.2');
    assert.equal(ipam.allocate(net(B)), '10.1.0.3');
    assert.equal(ipam.allocate(net(A)), '10.1.0.2');
    assert.deepEqual(ipam.holders('tsi-front-1'), [
      { address: '10.1.0.2', owner: A },
      { address: '10.1.0.3', owner: B },
    ]);
  });

  test('never hands out the network, broadcast or gateway address, and says when the pool is exhausted', () => {
    const got = ['1', '2', '3', '4', '5'].map((i) => ipam.allocate(net(`${i.repeat(16)}`)));
    assert.deepEqual(got, ['10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6']);
    failsWith(() => ipam.allocate(net(A)), 'E_IP_EXHAUSTED', /tsi-front-1.*10\.1\.0\.0\/29/);
  });

  test('cycles forward: a just-released address is not reused at once', () => {
    assert.equal(ipam.allocate(net(A)), '10.1.0.2');
    assert.equal(ipam.allocate(net(B)), '10.1.0.3');
    assert.equal(ipam.release('tsi-front-1', A), '10.1.0.2');
    assert.equal(ipam.allocate(net(C)), '10.1.0.4');
    assert.equal(ipam.allocate(net('dddddddddddddddd')), '10.1.0.5');
    assert.equal(ipam.allocate(net('eeeeeeeeeeeeeeee')), '10.1.0.6');
    // The end of the pool: wraps around to the address released first.
    assert.equal(ipam.allocate(net('ffffffffffffffff')), '10.1.0.2');
  });

  test('a requested address is checked: subnet, range, reserved, held by another', () => {
    failsWith(() => ipam.allocate(net(A, { requested: '10.2.0.5' })), 'E_IP_OUT_OF_RANGE', /10\.1\.0\.0\/29/);
    failsWith(() => ipam.allocate(net(A, { requested: '10.1.0.1' })), 'E_IP_RESERVED', /gateway/);
    failsWith(() => ipam.allocate(net(A, { requested: '10.1.0.0' })), 'E_IP_RESERVED', /network address/);
    failsWith(() => ipam.allocate(net(A, { requested: '10.1.0.7' })), 'E_IP_RESERVED', /broadcast/);
    failsWith(() => ipam.allocate(net(A, { requested: 'nope' })), 'E_INVALID_IP');
    const ranged = { subnet: '10.1.0.0/24', ipRange: '10.1.0.128/25' };
    failsWith(() => ipam.allocate(net(A, { ...ranged, requested: '10.1.0.5' })), 'E_IP_OUT_OF_RANGE', /ip_range 10\.1\.0\.128\/25/);

    assert.equal(ipam.allocate(net(A, { requested: '10.1.0.5' })), '10.1.0.5');
    assert.equal(ipam.allocate(net(A, { requested: '10.1.0.5' })), '10.1.0.5');
    failsWith(() => ipam.allocate(net(B, { requested: '10.1.0.5' })), 'E_IP_IN_USE', new RegExp(`10\\.1\\.0\\.5 is already held by container ${A}`));
    // A dynamic allocation skips it.
    assert.equal(ipam.allocate(net(B)), '10.1.0.2');
    assert.notEqual(ipam.allocate(net(C)), '10.1.0.5');
  });

  test('an owner asking for another static address moves to it', () => {
    assert.equal(ipam.allocate(net(A)), '10.1.0.2');
    assert.equal(ipam.allocate(net(A, { requested: '10.1.0.6' })), '10.1.0.6');
    assert.deepEqual(ipam.holders('tsi-front-1'), [{ address: '10.1.0.6', owner: A }]);
  });

  test('dynamic addresses come from ip_range', () => {
    const ranged = { subnet: '10.1.0.0/24', ipRange: '10.1.0.128/25' };
    assert.equal(ipam.allocate(net(A, ranged)), '10.1.0.128');
    assert.equal(ipam.allocate(net(B, ranged)), '10.1.0.129');
  });

  test('persists across instances, one 0600 file per network, written atomically', () => {
    assert.equal(ipam.allocate(net(A)), '10.1.0.2');
    assert.equal(ipam.allocate(net(B)), '10.1.0.3');
    assert.equal(ipam.allocate(net(A, { network: 'tsi-back-2', subnet: '10.9.0.0/24', gateway: '10.9.0.254' })), '10.9.0.1');
    ipam.release('tsi-front-1', B);

    const again = new Ipam(dir);
    assert.equal(again.allocate(net(A)), '10.1.0.2');
    // The cursor survived too: B's released address is not handed out next.
    assert.equal(again.allocate(net(C)), '10.1.0.4');
    assert.deepEqual(again.networks().sort(), ['tsi-back-2', 'tsi-front-1']);

    const file = join(dir, 'ipam', 'tsi-front-1.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ipam')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(dir, 'ipam')).sort(), ['tsi-back-2.json', 'tsi-front-1.json'], 'no temporary file is left');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { subnet: string; addresses: Record<string, string> };
    assert.equal(saved.subnet, '10.1.0.0/29');
    assert.deepEqual(saved.addresses, { '10.1.0.2': A, '10.1.0.4': C });
  });

  test('releaseAll gives an owner back everywhere; forget drops a network', () => {
    ipam.allocate(net(A));
    ipam.allocate(net(A, { network: 'tsi-back-2', subnet: '10.9.0.0/24', gateway: '10.9.0.1' }));
    ipam.allocate(net(B));
    assert.deepEqual(ipam.releaseAll(A), { 'tsi-front-1': '10.1.0.2', 'tsi-back-2': '10.9.0.2' });
    assert.deepEqual(ipam.releaseAll(A), {});
    assert.equal(ipam.release('tsi-front-1', A), null);
    assert.deepEqual(ipam.holders('tsi-front-1'), [{ address: '10.1.0.3', owner: B }]);
    ipam.forget('tsi-front-1');
    assert.deepEqual(ipam.holders('tsi-front-1'), []);
    assert.deepEqual(ipam.networks(), ['tsi-back-2']);
  });

  test('a network recreated with another subnet drops the addresses outside it', () => {
    ipam.allocate(net(A));
    assert.equal(ipam.allocate(net(B, { subnet: '10.5.0.0/24', gateway: '10.5.0.1' })), '10.5.0.2');
    assert.deepEqual(ipam.holders('tsi-front-1'), [{ address: '10.5.0.2', owner: B }]);
  });

  test('refuses unsafe network names and reports a damaged file', () => {
    failsWith(() => ipam.allocate(net(A, { network: '../../etc/x' })), 'E_UNSAFE_NAME');
    ipam.allocate(net(A));
    writeFileSync(join(dir, 'ipam', 'tsi-front-1.json'), '{"version": 1, "subnet": ');
    failsWith(() => ipam.allocate(net(B)), 'E_IPAM_STATE', /tsi-front-1\.json/);
  });
});

describe('Ipam network ranges', () => {
  test("the network's ip_range is recorded for containers that name only the network, and goes with it", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsit-ipam-range-'));
    try {
      const ipam = new Ipam(dir);
      assert.equal(ipam.rangeOf('tsi-front'), null);
      ipam.setRange('tsi-front', '10.9.0.128/25');
      assert.equal(ipam.rangeOf('tsi-front'), '10.9.0.128/25');
      const ip = ipam.allocate({ network: 'tsi-front', subnet: '10.9.0.0/24', gateway: '10.9.0.1', ipRange: ipam.rangeOf('tsi-front'), owner: 'c1' });
      assert.equal(ip, '10.9.0.128');
      assert.deepEqual(ipam.networks(), ['tsi-front']);
      ipam.setRange('tsi-front', null);
      assert.equal(ipam.rangeOf('tsi-front'), null);
      ipam.setRange('tsi-front', '10.9.0.128/25');
      ipam.forget('tsi-front');
      assert.equal(ipam.rangeOf('tsi-front'), null);
      assert.deepEqual(readdirSync(join(dir, 'ipam')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
