// A resource spanning hosts through the real planner: an overlay_network takes no `host`,
// is recorded under MULTI_HOST, and refresh reads its part on every member host (fake
// sessions answering `resource.read`); a part gone from one member is drift that plans
// an in-place update putting it back, while the others stay as they are.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makePlan } from '../../../plan-engine/plan/planner.js';
import type { SessionPool } from '../../../plan-engine/plan/refresh.js';
import type { ValueObject } from '../../../plan-engine/values.js';
import { MULTI_HOST } from '../../../providers/provider.js';
import { newState } from '../../../state/model.js';
import { AgentError, type AgentSession } from '../../../transport/types.js';
import { loadHcl } from '../../providers/provider-harness.js';

const HCL = `
host "a" { address = "10.0.0.1" }
host "b" { address = "10.0.0.2" }
resource "overlay_network" "ovl" {
  hosts  = [host.a, host.b]
  subnet = "10.90.0.0/16"
}
`;

/** Hosts whose agents answer reads of a network part as `parts` says (undefined: as recorded). */
function pool(parts: Record<string, (state: ValueObject) => ValueObject | null>, asked: string[]): SessionPool {
  return {
    parallelism: 4,
    close: async () => undefined,
    session: async (host) => {
      if (!(host in parts)) throw new AgentError('E_UNREACHABLE', `${host} is not here`, host);
      const session: AgentSession = {
        host,
        call: (async (method: string, params: { items: { state: ValueObject }[] }) => {
          asked.push(`${host} ${method}`);
          if (method !== 'resource.read') throw new AgentError('E_RPC_METHOD', method, host);
          return { items: params.items.map((i) => ({ state: parts[host]!(i.state) })) };
        }) as AgentSession['call'],
        close: async () => undefined,
      };
      return session;
    },
  };
}

describe('overlay_network in the planner', () => {
  test('it takes no host: one is refused at its line', async () => {
    const config = await loadHcl(HCL.replace('hosts  = [host.a, host.b]', 'host = host.a\n  hosts  = [host.a, host.b]'));
    const r = await makePlan(config, null, { mode: 'normal', refresh: false, targets: [], replace: [], inputs: new Map() }, undefined);
    const d = r.diagnostics.find((x) => x.code === 'E_HOST_NOT_ALLOWED');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.range?.start.line, 5);
  });

  test('a new overlay is planned under MULTI_HOST with a part per member', async () => {
    const config = await loadHcl(HCL);
    const r = await makePlan(config, null, { mode: 'normal', refresh: false, targets: [], replace: [], inputs: new Map() }, undefined);
    const change = r.plan!.changes[0]!;
    assert.equal(change.host, MULTI_HOST);
    assert.equal(change.action, 'create');
    assert.deepEqual(Object.keys(change.after!['members'] as ValueObject), ['host.a', 'host.b']);
  });

  test("refresh reads every member's part; one gone plans an update that puts it back", async () => {
    const config = await loadHcl(HCL);
    const first = await makePlan(config, null, { mode: 'normal', refresh: false, targets: [], replace: [], inputs: new Map() }, undefined);
    const planned = first.plan!.changes[0]!.after!;
    const members = planned['members'] as Record<string, ValueObject>;
    const recorded: ValueObject = { ...planned, members: { 'host.a': { ...members['host.a']!, mtu: 1450 }, 'host.b': { ...members['host.b']!, mtu: 1450 } } };
    const state = newState('0.1.0');
    state.resources.push({
      address: 'overlay_network.ovl',
      type: 'overlay_network',
      name: 'ovl',
      host: MULTI_HOST,
      attributes: recorded,
      sensitivePaths: [],
      dependencies: [],
      status: 'ready',
    });
    const part = (host: string) => (s: ValueObject) => ({ ...s, mtu: 1450, local: (recorded['members'] as Record<string, ValueObject>)[host]!['underlay']! });
    const asked: string[] = [];
    const steady = await makePlan(
      config,
      structuredClone(state),
      { mode: 'normal', refresh: true, targets: [], replace: [], inputs: new Map() },
      pool({ 'host.a': part('host.a'), 'host.b': part('host.b') }, asked),
    );
    assert.deepEqual(
      steady.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.equal(steady.plan!.changes[0]!.action, 'no-op');
    assert.deepEqual(asked.sort(), ['host.a resource.read', 'host.b resource.read']);

    const broken = await makePlan(
      config,
      structuredClone(state),
      { mode: 'normal', refresh: true, targets: [], replace: [], inputs: new Map() },
      pool({ 'host.a': part('host.a'), 'host.b': () => null }, []),
    );
    assert.equal(broken.plan!.drift[0]?.kind, 'changed');
    const change = broken.plan!.changes[0]!;
    assert.equal(change.action, 'update');
    assert.deepEqual((change.after!['members'] as ValueObject)['host.a'], (recorded['members'] as ValueObject)['host.a'], 'the other member is kept as it is');
  });
});
