// The nft transactions for published ports, planned from a table listing: pure, no kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NftTable } from '../../../agent/network/nft-table.js';
import { mappingComment, mappingRules, planPortsScript, publishedIn, type PublishedPort } from '../../../agent/network/port-forwarding.js';

const ID1 = 'a1a1a1a1a1a1a1a1';
const ID2 = 'b2b2b2b2b2b2b2b2';
const net = { bridge: 'tsi-front-1', subnet: '10.1.0.0/24', gateway: '10.1.0.1' };
const port = (containerId: string, hostIp = '0.0.0.0'): PublishedPort => ({
  containerId,
  protocol: 'tcp',
  hostIp,
  hostPort: 8080,
  containerIp: '10.1.0.2',
  containerPort: 80,
  bridge: 'tsi-front-1',
});
const empty: NftTable = { exists: false, chains: [], rules: [], otherObjects: 0 };
const rule = (chain: string, handle: number, comment: string | null) => ({ chain, handle, comment, expr: [] });

test('a mapping on every address: DNAT from outside and from the host, SNAT of loopback and hairpin sources', () => {
  const comment = `comment "tsi-port:${ID1} tcp 0.0.0.0:8080 10.1.0.2:80 tsi-front-1"`;
  assert.deepEqual(mappingRules(port(ID1), net), [
    { chain: 'prerouting', body: `fib daddr type local tcp dport 8080 dnat to 10.1.0.2:80 ${comment}` },
    { chain: 'output', body: `fib daddr type local tcp dport 8080 dnat to 10.1.0.2:80 ${comment}` },
    { chain: 'postrouting', body: `ip saddr { 127.0.0.0/8, 10.1.0.0/24 } ip daddr 10.1.0.2 tcp dport 80 ct status dnat snat to 10.1.0.1 ${comment}` },
  ]);
});

test('a loopback-only mapping has no prerouting rule; one on a host address is not SNATed from loopback', () => {
  assert.deepEqual(
    mappingRules(port(ID1, '127.0.0.1'), net).map((r) => r.chain),
    ['output', 'postrouting'],
  );
  const specific = mappingRules(port(ID1, '192.168.1.5'), net);
  assert.match(specific[0]!.body, /^ip daddr 192\.168\.1\.5 tcp dport 8080 dnat/);
  assert.match(specific[2]!.body, /^ip saddr 10\.1\.0\.0\/24 ip daddr/);
});

test('the first mapping creates the table, the chains and the guard', () => {
  const script = planPortsScript(empty, ID1, mappingRules(port(ID1), net), true);
  assert.deepEqual(
    script.filter((l) => !l.startsWith('add rule')),
    [
      'add table ip tsinfra_ports',
      'add chain ip tsinfra_ports prerouting { type nat hook prerouting priority -100; policy accept; }',
      'add chain ip tsinfra_ports output { type nat hook output priority -100; policy accept; }',
      'add chain ip tsinfra_ports postrouting { type nat hook postrouting priority 100; policy accept; }',
      'add chain ip tsinfra_ports localhost_guard { type filter hook prerouting priority -300; policy accept; }',
    ],
  );
  assert.equal(script.filter((l) => l.startsWith('add rule ip tsinfra_ports localhost_guard')).length, 2);
});

test("replacing a container's rules deletes exactly its own by handle", () => {
  const c1 = mappingComment(port(ID1));
  const c2 = mappingComment(port(ID2));
  const table: NftTable = {
    exists: true,
    chains: ['prerouting', 'output', 'localhost_guard'],
    rules: [
      rule('prerouting', 4, c1),
      rule('prerouting', 5, c2),
      rule('output', 6, c1),
      rule('output', 7, c2),
      rule('localhost_guard', 8, 'tsi-localhost-guard'),
    ],
    otherObjects: 0,
  };
  assert.deepEqual(planPortsScript(table, ID1, [], true), ['delete rule ip tsinfra_ports prerouting handle 4', 'delete rule ip tsinfra_ports output handle 6']);
  assert.deepEqual(publishedIn(table), [port(ID1), port(ID2)]);
});

test('removing the last mapping removes the table, unless someone else put something in it', () => {
  const c1 = mappingComment(port(ID1));
  const table: NftTable = {
    exists: true,
    chains: ['output', 'localhost_guard'],
    rules: [rule('output', 4, c1), rule('localhost_guard', 5, 'tsi-localhost-guard')],
    otherObjects: 0,
  };
  assert.deepEqual(planPortsScript(table, ID1, [], false), ['delete table ip tsinfra_ports']);
  assert.deepEqual(planPortsScript({ ...table, otherObjects: 1 }, ID1, [], false), [
    'delete rule ip tsinfra_ports output handle 4',
    'delete rule ip tsinfra_ports localhost_guard handle 5',
    'delete chain ip tsinfra_ports output',
    'delete chain ip tsinfra_ports localhost_guard',
  ]);
  assert.deepEqual(planPortsScript(empty, ID1, [], false), []);
});
