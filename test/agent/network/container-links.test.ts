// Names, MACs and `ip -batch` scripts of container links: pure, no kernel.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_NETWORKS_PER_CONTAINER,
  containerScript,
  containerVeths,
  hostScript,
  hostVethName,
  macForAddress,
  type LinkInfo,
  type VethPlan,
} from '../../../agent/network/container-links.js';
import { isSafeLinkName } from '../../../agent/network/link-name.js';

const ID = '0123456789abcdef';

test('host veth names are safe tsinfra link names for every network index', () => {
  assert.equal(hostVethName(ID, 0), 'tsi01234567890');
  assert.equal(hostVethName(ID, MAX_NETWORKS_PER_CONTAINER - 1), 'tsi012345678999');
  for (const i of [0, 9, 10, MAX_NETWORKS_PER_CONTAINER - 1]) assert.ok(isSafeLinkName(hostVethName(ID, i)), hostVethName(ID, i));
});

test('the MAC follows the address', () => {
  assert.equal(macForAddress('10.1.0.2'), '02:42:0a:01:00:02');
  assert.equal(macForAddress('172.18.255.254'), '02:42:ac:12:ff:fe');
});

test('links are recognised by the container id in their alias, not by their name', () => {
  const link = (name: string, alias: string | null, kind = 'veth'): LinkInfo => ({
    index: 1,
    name,
    peerIndex: 2,
    kind,
    master: 'tsi-a',
    alias,
    mtu: 1500,
    mac: null,
    up: true,
    ipv4: [],
  });
  const found = containerVeths(
    [
      link('tsi01234567890', `tsi:${ID}:0`),
      link('tsi01234567891', `tsi:${ID}ff:1`),
      link('tsi01234567892', null),
      link('tsi-a', `tsi:${ID}:3`, 'bridge'),
      link('renamed', `tsi:${ID}:4`),
    ],
    ID,
  );
  assert.deepEqual(
    found.map((l) => [l.name, l.networkIndex]),
    [
      ['tsi01234567890', 0],
      ['renamed', 4],
    ],
  );
});

test('scripts: veth pairs made on the host with their peer in the container, then addresses and the first gateway', () => {
  const plans: VethPlan[] = [
    {
      index: 0,
      bridge: 'tsi-a',
      hostVeth: 'tsi01234567890',
      ifname: 'eth0',
      mtu: 1400,
      ip: '10.1.0.2',
      prefix: 24,
      gateway: '10.1.0.1',
      mac: '02:42:0a:01:00:02',
    },
    {
      index: 1,
      bridge: 'tsi-b',
      hostVeth: 'tsi01234567891',
      ifname: 'eth1',
      mtu: 1500,
      ip: '10.2.0.9',
      prefix: 16,
      gateway: '10.2.0.1',
      mac: '02:42:0a:02:00:09',
    },
  ];
  assert.deepEqual(hostScript(ID, 4242, plans).trim().split('\n'), [
    'link add name tsi01234567890 mtu 1400 master tsi-a up type veth peer name eth0 mtu 1400 address 02:42:0a:01:00:02 netns 4242',
    `link set dev tsi01234567890 alias tsi:${ID}:0 type bridge_slave hairpin on`,
    'link add name tsi01234567891 mtu 1500 master tsi-b up type veth peer name eth1 mtu 1500 address 02:42:0a:02:00:09 netns 4242',
    `link set dev tsi01234567891 alias tsi:${ID}:1 type bridge_slave hairpin on`,
  ]);
  assert.deepEqual(containerScript(plans).trim().split('\n'), [
    'link set dev lo up',
    'address add 10.1.0.2/24 broadcast + dev eth0',
    'link set dev eth0 up',
    'address add 10.2.0.9/16 broadcast + dev eth1',
    'link set dev eth1 up',
    'route add default via 10.1.0.1 dev eth0',
  ]);
});
