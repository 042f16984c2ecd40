// The overlay network's plan: each member host's slice of the subnet (kept while the
// host stays, the lowest free one for a newcomer), its gateway and the underlay
// addresses it floods to; and what check() refuses before any host is touched.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCanonicalCidr } from '../../agent/network/ipv4-cidr.js';
import { defaultHostPrefix, planMembers } from '../../providers/overlay-members.js';
import { vxlanNameFor } from '../../agent/network/overlay-names.js';
import { overlayNetworkProvider } from '../../providers/overlay-network.js';
import type { PlanContext } from '../../providers/provider.js';
import type { ValueObject } from '../../plan-engine/values.js';

const subnet = parseCanonicalCidr('10.90.0.0/16')!;
const underlays = (...hosts: [string, string][]) => new Map(hosts);
const ctx: PlanContext = { address: 'overlay_network.ovl', name: 'ovl', instanceKey: undefined, host: 'host.*' };
const host = (name: string, address?: string): ValueObject => ({ id: `host.${name}`, ...(address ? { address } : {}) });

describe('overlay members', () => {
  test('a /16 gives each host a /24; its bridge takes .1 and it floods to the others', () => {
    assert.equal(defaultHostPrefix(16), 24);
    assert.equal(defaultHostPrefix(24), 28);
    const m = planMembers(subnet, 24, underlays(['host.a', '10.0.0.1'], ['host.b', '10.0.0.2'], ['host.c', '10.0.0.3']), undefined)!;
    assert.deepEqual(m['host.a'], { underlay: '10.0.0.1', ip_range: '10.90.0.0/24', gateway: '10.90.0.1', remotes: ['10.0.0.2', '10.0.0.3'] });
    assert.deepEqual(m['host.c']!.remotes, ['10.0.0.1', '10.0.0.2']);
    assert.equal(m['host.b']!.ip_range, '10.90.1.0/24');
  });

  test('members keep their slices; a newcomer takes the lowest free one', () => {
    const first = planMembers(subnet, 24, underlays(['host.a', '10.0.0.1'], ['host.b', '10.0.0.2'], ['host.c', '10.0.0.3']), undefined)!;
    // b leaves, d comes first in the list: a and c stay where they were, d takes b's old slice.
    const next = planMembers(subnet, 24, underlays(['host.d', '10.0.0.4'], ['host.a', '10.0.0.1'], ['host.c', '10.0.0.3']), first)!;
    assert.equal(next['host.a']!.ip_range, first['host.a']!.ip_range);
    assert.equal(next['host.c']!.ip_range, first['host.c']!.ip_range);
    assert.equal(next['host.d']!.ip_range, '10.90.1.0/24');
  });

  test('more hosts than slices: no layout', () => {
    const small = parseCanonicalCidr('10.90.0.0/29')!;
    assert.equal(planMembers(small, 30, underlays(['host.a', '1.1.1.1'], ['host.b', '1.1.1.2'], ['host.c', '1.1.1.3']), undefined), undefined);
  });

  test('the VXLAN device is named after the bridge, still a tsi name within 15 characters', () => {
    assert.equal(vxlanNameFor('tsi-ovl-3fa9c1'), 'tsixovl-3fa9c1');
  });
});

describe('overlay_network check', () => {
  const check = (c: ValueObject) => overlayNetworkProvider.check!(c, ctx).map((d) => d.code);

  test('a host without an IPv4 address needs underlay_addresses', () => {
    assert.deepEqual(check({ hosts: [host('a', 'a.example.com'), host('b', '10.0.0.2')], subnet: '10.90.0.0/16' }), ['E_UNDERLAY_ADDRESS']);
    assert.deepEqual(check({ hosts: [host('a', 'a.example.com'), host('b', '10.0.0.2')], subnet: '10.90.0.0/16', underlay_addresses: { a: '10.0.0.1' } }), []);
  });

  test('a host listed twice, or two hosts on one underlay address, are refused', () => {
    assert.deepEqual(check({ hosts: [host('a', '10.0.0.1'), host('a', '10.0.0.1')], subnet: '10.90.0.0/16' }), ['E_DUPLICATE_HOST']);
    assert.deepEqual(check({ hosts: [host('a', '10.0.0.1'), host('b', '10.0.0.1')], subnet: '10.90.0.0/16' }), ['E_DUPLICATE_UNDERLAY']);
  });

  test('more hosts than the subnet has slices for is refused with the numbers', () => {
    const d = overlayNetworkProvider.check!({ hosts: [host('a', '10.0.0.1'), host('b', '10.0.0.2'), host('c', '10.0.0.3')], subnet: '10.90.0.0/29' }, ctx);
    assert.equal(d[0]?.code, 'E_OVERLAY_FULL');
    assert.match(d[0]!.summary, /room for 2 hosts of \/30 each, not 3/);
  });

  test('the plan: members laid out, the MTU a member found kept, slices kept across plans', () => {
    const config = { hosts: [host('a', '10.0.0.1'), host('b', '10.0.0.2')], subnet: '10.90.0.0/16' };
    const first = overlayNetworkProvider.plan(config, null, ctx);
    assert.equal(first['bridge'], first['id']);
    assert.deepEqual(first['hosts'], ['host.a', 'host.b']);
    assert.equal(first['port'], 4789);
    const members = first['members'] as Record<string, ValueObject>;
    const applied = { ...first, members: { 'host.a': { ...members['host.a']!, mtu: 1450 }, 'host.b': { ...members['host.b']!, mtu: 1450 } } };
    const again = overlayNetworkProvider.plan({ ...config, hosts: [host('b', '10.0.0.2'), host('a', '10.0.0.1')] }, applied, ctx);
    assert.deepEqual(again['members'], applied.members, 'the same members, in another order, change nothing');
    assert.equal(again['vni'], first['vni'], 'the default VNI follows the name');
  });
});
