// End to end: the real CLI binary applies bridge networks to the real kernel, inside a
// throw-away network namespace, through the local transport and the agent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inNetns } from '../agent/throwaway-netns.js';
import { openLab, type Lab } from './lab-workspace.js';
import { tsinfra } from './cli-harness.js';
import { interfaceName } from '../../providers/names.js';

function config(netns: string, network: string): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}

${network}

output "bridge" {
  value = network.front.bridge
}
`;
}

const front = (subnet: string, mtu: number) => `
resource "network" "front" {
  host   = host.lab
  driver = "bridge"
  subnet = "${subnet}"
  mtu    = ${mtu}
  nat    = true
}`;

async function linkJson(netns: string, name: string): Promise<{ mtu: number } | undefined> {
  const r = await inNetns(netns, ['ip', '-j', 'link', 'show', name]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { mtu: number }[])[0];
}

async function natRules(netns: string): Promise<string> {
  const r = await inNetns(netns, ['nft', 'list', 'ruleset']);
  return r.stdout;
}

describe('bridge network lifecycle through the CLI', () => {
  let lab: Lab;
  const bridge = interfaceName('front');

  before(async () => {
    lab = await openLab((ns) => ({ 'main.hcl': config(ns, front('10.77.0.0/24', 1500)) }));
  });
  after(async () => {
    await lab.close();
  });

  test('apply creates the bridge, its address and the NAT rule', async () => {
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /network\.front: Creating\.\.\./);
    assert.match(r.stdout, /network\.front: Creation complete after/);
    assert.match(r.stdout, /Apply complete! Resources: 1 added, 0 changed, 0 destroyed\./);
    assert.equal((await linkJson(lab.netns, bridge))?.mtu, 1500);
    const addr = await inNetns(lab.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', bridge]);
    assert.match(addr.stdout, /10\.77\.0\.1\/24/);
    assert.match(await natRules(lab.netns), /10\.77\.0\.0\/24.*masquerade/);
    const st = await stat(join(lab.cfg.dir, '.tsinfra', 'state.json'));
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal((await stat(join(lab.cfg.dir, '.tsinfra'))).mode & 0o777, 0o700);
  });

  test('a second plan shows no changes (exit 0 with --detailed-exitcode)', async () => {
    const r = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /No changes/);
  });

  test('changing the MTU updates in place', async () => {
    await lab.cfg.write('main.hcl', config(lab.netns, front('10.77.0.0/24', 1400)));
    const p = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(p.code, 2, p.stderr);
    assert.match(p.stdout, /# network\.front will be updated in place/);
    assert.match(p.stdout, /~ mtu += 1500 -> 1400/);
    assert.match(p.stdout, /Plan: 0 to add, 1 to change, 0 to destroy\./);
    const a = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(a.code, 0, a.stderr);
    assert.equal((await linkJson(lab.netns, bridge))?.mtu, 1400);
  });

  test('changing the subnet replaces the network', async () => {
    await lab.cfg.write('main.hcl', config(lab.netns, front('10.78.0.0/24', 1400)));
    const p = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /# network\.front must be replaced/);
    assert.match(p.stdout, /-\/\+ resource "network" "front"/);
    assert.match(p.stdout, /subnet += "10\.77\.0\.0\/24" -> "10\.78\.0\.0\/24" # forces replacement/);
    assert.match(p.stdout, /Plan: 1 to add, 0 to change, 1 to destroy\./);
    const a = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(a.code, 0, a.stderr);
    const addr = await inNetns(lab.netns, ['ip', '-4', '-o', 'addr', 'show', 'dev', bridge]);
    assert.match(addr.stdout, /10\.78\.0\.1\/24/);
    assert.doesNotMatch(await natRules(lab.netns), /10\.77\.0\.0/);
  });

  test('drift: an MTU changed by hand is planned back', async () => {
    await inNetns(lab.netns, ['ip', 'link', 'set', bridge, 'mtu', '1300']);
    const p = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(p.stdout, /has changed/);
    assert.match(p.stdout, /~ mtu += 1300 -> 1400/);
    const a = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(a.code, 0, a.stderr);
    assert.equal((await linkJson(lab.netns, bridge))?.mtu, 1400);
  });

  test('drift: a bridge deleted by hand is re-created', async () => {
    await inNetns(lab.netns, ['ip', 'link', 'del', bridge]);
    const p = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
    assert.match(p.stdout, /network\.front has been deleted/);
    assert.match(p.stdout, /# network\.front will be created/);
    const a = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(a.code, 0, a.stderr);
    assert.ok(await linkJson(lab.netns, bridge));
  });

  test('outputs are recorded and printed', async () => {
    const r = await tsinfra(['output', '--json', '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { bridge: { sensitive: false, value: bridge } });
  });

  test('destroy leaves no link and no rule behind', async () => {
    const r = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Destroy complete! Resources: 1 destroyed\./);
    assert.equal(await linkJson(lab.netns, bridge), undefined);
    assert.doesNotMatch(await natRules(lab.netns), /masquerade/);
    const state = JSON.parse(await readFile(join(lab.cfg.dir, '.tsinfra', 'state.json'), 'utf8')) as { resources: unknown[] };
    assert.deepEqual(state.resources, []);
  });
});
