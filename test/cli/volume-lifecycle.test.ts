// Directory volumes end to end: apply creates them under the agent's state directory,
// a re-plan shows no changes (the agent's read matches the plan), a volume removed by
// hand is planned again, import adopts one, destroy removes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { providerFor } from '../../providers/registry.js';
import { tsinfra } from './cli-harness.js';
import { openLab, type Lab } from './lab-workspace.js';

const skip = providerFor('volume') ? false : 'volume is not registered in providers/registry.ts yet';

function config(netns: string, extra = ''): string {
  return `host "lab" {
  transport = "local"
  netns     = "${netns}"
}

resource "volume" "cache" {
  host = host.lab
}

resource "volume" "named" {
  host = host.lab
  name = "tsit-data"
}

output "cache_path" {
  value = volume.cache.path
}
${extra}`;
}

describe('directory volumes through the CLI', { skip }, () => {
  let lab: Lab;
  let volumes: string;

  before(async () => {
    lab = await openLab((netns) => ({ 'main.hcl': config(netns) }));
    volumes = join(lab.env['TSINFRA_AGENT_STATE_DIR']!, 'volumes');
  });
  after(async () => {
    await lab?.close();
  });

  const run = (args: string[]) => tsinfra([...args, lab.cfg.dir], { env: lab.env });

  test('apply creates the volume directories; their path is an output', async () => {
    const r = await run(['apply', '--auto-approve']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const name of ['cache', 'tsit-data']) assert.ok((await stat(join(volumes, name))).isDirectory(), name);
    const out = await tsinfra(['output', '--raw', 'cache_path', '--dir', lab.cfg.dir]);
    assert.equal(out.stdout.trim(), join(volumes, 'cache'));
  });

  test('a re-plan shows no changes', async () => {
    const r = await run(['plan', '--detailed-exitcode']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  });

  test('a volume removed by hand is created again', async () => {
    await rm(join(volumes, 'cache'), { recursive: true });
    const plan = await run(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 2, plan.stderr + plan.stdout);
    assert.match(plan.stdout, /volume\.cache will be created \(it was deleted outside tsinfra\)/);
    const r = await run(['apply', '--auto-approve']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.ok((await stat(join(volumes, 'cache'))).isDirectory());
  });

  test('an existing directory is adopted with import', async () => {
    await mkdir(join(volumes, 'adopted'), { mode: 0o755 });
    await lab.cfg.write('main.hcl', config(lab.netns, '\nresource "volume" "adopted" {\n  host = host.lab\n}\n'));
    const r = await tsinfra(['import', 'volume.adopted', 'adopted', '--dir', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const plan = await run(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stderr + plan.stdout);
    const state = JSON.parse(await readFile(join(lab.cfg.dir, '.tsinfra', 'state.json'), 'utf8')) as {
      resources: { address: string; attributes: { path: string } }[];
    };
    assert.equal(state.resources.find((x) => x.address === 'volume.adopted')?.attributes.path, join(volumes, 'adopted'));
  });

  test('destroy removes them', async () => {
    const r = await run(['destroy', '--auto-approve']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    for (const name of ['cache', 'tsit-data', 'adopted']) await assert.rejects(stat(join(volumes, name)), { code: 'ENOENT' });
  });
});
