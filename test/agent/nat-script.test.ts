// The nft transaction planned from a table listing: pure, no kernel needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planScript, type RuleSpec, type TableListing } from '../../agent/network/nat.js';

const postrouting = { name: 'postrouting', definition: 'type nat hook postrouting priority 100; policy accept;' };
const masq = (subnet: string, bridge: string): RuleSpec => ({
  chain: postrouting,
  signature: `masquerade ${subnet}`,
  body: `ip saddr ${subnet} oifname != "${bridge}" masquerade comment "tsi:${bridge}"`,
});
const empty: TableListing = { exists: false, chains: [], rules: [], otherObjects: 0 };

test('creates the table and chain with the first rule', () => {
  assert.deepEqual(planScript(empty, 'tsi:tsi-a', [masq('10.1.0.0/24', 'tsi-a')]), [
    'add table ip tsinfra',
    `add chain ip tsinfra postrouting { ${postrouting.definition} }`,
    'add rule ip tsinfra postrouting ip saddr 10.1.0.0/24 oifname != "tsi-a" masquerade comment "tsi:tsi-a"',
  ]);
});

test('does nothing when the rules already match, or when there is nothing to remove', () => {
  const listing: TableListing = {
    exists: true,
    chains: ['postrouting'],
    rules: [{ chain: 'postrouting', handle: 4, comment: 'tsi:tsi-a', signature: 'masquerade 10.1.0.0/24' }],
    otherObjects: 0,
  };
  assert.deepEqual(planScript(listing, 'tsi:tsi-a', [masq('10.1.0.0/24', 'tsi-a')]), []);
  assert.deepEqual(planScript(empty, 'tsi:tsi-a', []), []);
});

test('replaces a rule whose subnet changed', () => {
  const listing: TableListing = {
    exists: true,
    chains: ['postrouting'],
    rules: [{ chain: 'postrouting', handle: 4, comment: 'tsi:tsi-a', signature: 'masquerade 10.1.0.0/24' }],
    otherObjects: 0,
  };
  assert.deepEqual(planScript(listing, 'tsi:tsi-a', [masq('10.9.0.0/16', 'tsi-a')]), [
    'delete rule ip tsinfra postrouting handle 4',
    'add rule ip tsinfra postrouting ip saddr 10.9.0.0/16 oifname != "tsi-a" masquerade comment "tsi:tsi-a"',
  ]);
});

test('removing the last rule removes the table; other bridges keep their chain', () => {
  const shared: TableListing = {
    exists: true,
    chains: ['postrouting', 'forward'],
    rules: [
      { chain: 'postrouting', handle: 4, comment: 'tsi:tsi-a', signature: 'masquerade 10.1.0.0/24' },
      { chain: 'postrouting', handle: 5, comment: 'tsi:tsi-b', signature: 'masquerade 10.2.0.0/24' },
    ],
    otherObjects: 0,
  };
  assert.deepEqual(planScript(shared, 'tsi:tsi-a', []), ['delete rule ip tsinfra postrouting handle 4', 'delete chain ip tsinfra forward']);
  const alone: TableListing = { ...shared, rules: [shared.rules[0]!] };
  assert.deepEqual(planScript(alone, 'tsi:tsi-a', []), ['delete rule ip tsinfra postrouting handle 4', 'delete table ip tsinfra']);
  assert.deepEqual(planScript({ ...alone, otherObjects: 1 }, 'tsi:tsi-a', []), [
    'delete rule ip tsinfra postrouting handle 4',
    'delete chain ip tsinfra postrouting',
    'delete chain ip tsinfra forward',
  ]);
});
