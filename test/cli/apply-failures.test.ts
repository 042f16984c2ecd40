// A change that fails stops its dependents, not the rest: independent changes finish,
// every success is recorded, the summary says what failed, exit 1; the next apply
// finishes the job once the cause is gone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inNetns } from '../agent/throwaway-netns.js';
import { openLab, type Lab } from './lab-workspace.js';
import { tsinfra } from './cli-harness.js';
import { interfaceName } from '../../providers/names.js';

function config(netns: string): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}

resource "network" "a" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.91.1.0/24"
}

resource "network" "b" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.91.2.0/24"
}

resource "tsinfra_data" "uses_b" {
  host  = host.lab
  input = network.b.id
}

output "a" {
  value = network.a.id
}

output "uses_b" {
  value = tsinfra_data.uses_b.output
}

resource "network" "d" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.91.4.0/24"
}
`;
}

describe('apply with a failing change', () => {
  let lab: Lab;
  const blocker = interfaceName('b');

  before(async () => {
    lab = await openLab((ns) => ({ 'main.hcl': config(ns) }));
    // A link that is not a bridge, with the name network.b will want: its creation fails.
    await inNetns(lab.netns, ['ip', 'link', 'add', blocker, 'type', 'veth', 'peer', 'name', 'tsi-peer']);
  });
  after(async () => {
    await lab.close();
  });

  test('dependents are skipped, independent changes complete and are recorded', async () => {
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /network\.b: Creation failed: .*already exists/);
    assert.match(r.stdout, /tsinfra_data\.uses_b: Skipped because network\.b failed/);
    assert.match(r.stdout, /network\.a: Creation complete/);
    assert.match(r.stdout, /network\.d: Creation complete/);
    assert.match(r.stdout, /Apply failed\. Resources: 2 added, 0 changed, 0 destroyed\. 1 failed, 1 skipped\./);
    assert.match(r.stderr, /E_ALREADY_EXISTS/);
    const state = JSON.parse(await readFile(join(lab.cfg.dir, '.tsinfra', 'state.json'), 'utf8')) as { resources: { address: string }[] };
    assert.deepEqual(
      state.resources.map((x) => x.address),
      ['network.a', 'network.d'],
    );
    // Outputs come only from what was done: none from the skipped resource's plan.
    const outputs = (JSON.parse(await readFile(join(lab.cfg.dir, '.tsinfra', 'state.json'), 'utf8')) as { outputs: Record<string, unknown> }).outputs;
    assert.deepEqual(Object.keys(outputs), ['a']);
  });

  test('once the cause is gone, the next apply finishes the job', async () => {
    await inNetns(lab.netns, ['ip', 'link', 'del', blocker]);
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Resources: 2 added, 0 changed, 0 destroyed\./);
    const d = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(d.code, 0, d.stderr);
  });
});
