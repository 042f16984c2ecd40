// `tsinfra import` end to end: bridges created by hand inside a throw-away network
// namespace are adopted into state through the agent; a plan then shows no changes and
// destroy removes them. Refusals (tsinfra_data, undeclared addresses, missing objects,
// instances already in state) leave the state untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
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

resource "network" "front" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.81.0.0/24"
  nat    = false
}

resource "network" "lan" {
  count  = 1
  host   = host.lab
  driver = "bridge"
  subnet = "10.82.\${count.index}.0/24"
  nat    = false
  mtu    = 1400
}

resource "tsinfra_data" "note" {
  input = network.front.bridge
}
`;
}

interface StateDoc {
  serial: number;
  resources: { address: string; host: string; status: string; dependencies: string[]; attributes: Record<string, unknown> }[];
}

async function bridgeByHand(netns: string, name: string, cidr: string, mtu: number): Promise<void> {
  for (const argv of [
    ['ip', 'link', 'add', name, 'mtu', String(mtu), 'type', 'bridge'],
    ['ip', 'addr', 'add', cidr, 'dev', name],
    ['ip', 'link', 'set', name, 'up'],
  ]) {
    const r = await inNetns(netns, argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  }
}

async function linkExists(netns: string, name: string): Promise<boolean> {
  return (await inNetns(netns, ['ip', 'link', 'show', name])).code === 0;
}

describe('tsinfra import', () => {
  let lab: Lab;
  const front = interfaceName('front');
  const lan0 = interfaceName('lan-0');
  const statePath = (): string => join(lab.cfg.dir, '.tsinfra', 'state.json');
  const stateDoc = async (): Promise<StateDoc> => JSON.parse(await readFile(statePath(), 'utf8')) as StateDoc;
  const run = (args: string[]) => tsinfra(args, { env: lab.env });

  before(async () => {
    lab = await openLab((ns) => ({ 'main.hcl': config(ns) }));
    await bridgeByHand(lab.netns, front, '10.81.0.1/24', 1500);
    await bridgeByHand(lab.netns, lan0, '10.82.0.1/24', 1400);
  });
  after(async () => {
    await lab.close();
  });

  test('refusals change nothing', async () => {
    const cases: [string[], RegExp, RegExp][] = [
      [['tsinfra_data.note', 'x'], /E_IMPORT_NOT_SUPPORTED/, /"tsinfra_data" cannot be imported/],
      [['network.frnt', front], /E_IMPORT_NOT_IN_CONFIG/, /Did you mean network\.front\?/],
      [['network.lan[3]', lan0], /E_IMPORT_NOT_IN_CONFIG/, /Instances of network\.lan: network\.lan\[0\]/],
      [['network.front', 'tsi-missing'], /E_IMPORT_NOT_FOUND/, /no such object on host\.lab/],
      [['network.front', 'eth0'], /E_UNSAFE_NAME/, /refusing to touch link "eth0"/],
      [['not-an-address', 'x'], /E_INVALID_ADDRESS/, /is not a resource address/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(['import', ...args, '--dir', lab.cfg.dir]);
      assert.equal(r.code, 1, `import ${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, code);
      assert.match(r.stderr, message);
    }
    await assert.rejects(stat(statePath()), { code: 'ENOENT' });
  });

  test('imports a bridge made by hand into a single-instance resource', async () => {
    const r = await run(['import', 'network.front', front, '--dir', lab.cfg.dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Import successful! network\.front is now managed by tsinfra/);
    assert.doesNotMatch(r.stderr, /E_IMPORT_ID_MISMATCH/);
    const s = await stateDoc();
    assert.equal(s.serial, 1);
    const rec = s.resources.find((x) => x.address === 'network.front')!;
    assert.equal(rec.host, 'host.lab');
    assert.equal(rec.status, 'ready');
    assert.deepEqual(rec.attributes, {
      id: front,
      name: 'front',
      driver: 'bridge',
      bridge: front,
      subnet: '10.81.0.0/24',
      gateway: '10.81.0.1',
      ip_range: null,
      nat: false,
      mtu: 1500,
      internal: false,
    });
  });

  test('an instance already in state is refused', async () => {
    const r = await run(['import', 'network.front', front, '--dir', lab.cfg.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_IMPORT_ALREADY_MANAGED/);
    assert.match(r.stderr, /tsinfra state rm network\.front/);
    assert.equal((await stateDoc()).serial, 1);
  });

  test('imports a count instance, with --json', async () => {
    const r = await run(['import', 'network.lan[0]', lan0, '--dir', lab.cfg.dir, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as { serial: number; resource: { address: string; index: number; attributes: Record<string, unknown> } };
    assert.equal(j.serial, 2);
    assert.equal(j.resource.address, 'network.lan[0]');
    assert.equal(j.resource.index, 0);
    assert.equal(j.resource.attributes['mtu'], 1400);
    assert.equal(j.resource.attributes['name'], 'lan-0');
  });

  test('plan then shows no changes for the imported networks', async () => {
    const p = await run(['plan', lab.cfg.dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.doesNotMatch(p.stdout, /network\.(front|lan)/);
    assert.match(p.stdout, /Plan: 1 to add, 0 to change, 0 to destroy\./); // tsinfra_data.note only
    const a = await run(['apply', '--auto-approve', lab.cfg.dir]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const again = await run(['plan', '--detailed-exitcode', lab.cfg.dir]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /No changes/);
  });

  test('destroy removes the imported bridges', async () => {
    const d = await run(['destroy', '--auto-approve', lab.cfg.dir]);
    assert.equal(d.code, 0, d.stderr + d.stdout);
    assert.match(d.stdout, /Resources: 3 destroyed\./);
    assert.equal(await linkExists(lab.netns, front), false);
    assert.equal(await linkExists(lab.netns, lan0), false);
    assert.deepEqual((await stateDoc()).resources, []);
  });
});
