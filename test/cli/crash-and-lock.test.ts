// A run killed with SIGKILL mid-apply leaves true state for what it did; after
// force-unlock, the next apply converges and nothing is leaked. A second concurrent
// run is refused by the state lock.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inNetns } from '../agent/throwaway-netns.js';
import { openLab, type Lab } from './lab-workspace.js';
import { BIN, tsinfra } from './cli-harness.js';
import { LocalBackend } from '../../state/local-backend.js';

const COUNT = 20;

function config(netns: string): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}

resource "network" "n" {
  count  = ${COUNT}
  host   = host.lab
  driver = "bridge"
  subnet = "10.90.\${count.index}.0/24"
  nat    = count.index % 2 == 0
}
`;
}

async function tsiLinks(netns: string): Promise<string[]> {
  const r = await inNetns(netns, ['ip', '-j', 'link', 'show', 'type', 'bridge']);
  return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname).filter((n) => n.startsWith('tsi'));
}

/** Agents started for this test: found by the unique state directory in their environment. */
async function agentsOf(stateDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`TSINFRA_AGENT_STATE_DIR=${stateDir}`)) pids.push(Number(entry));
  }
  return pids;
}

async function recorded(dir: string): Promise<number> {
  try {
    const s = JSON.parse(await readFile(join(dir, '.tsinfra', 'state.json'), 'utf8')) as { resources: unknown[] };
    return s.resources.length;
  } catch {
    return 0;
  }
}

describe('crash recovery and locking', () => {
  let lab: Lab;

  before(async () => {
    lab = await openLab((ns) => ({ 'main.hcl': config(ns) }));
  });
  after(async () => {
    // Never leave an agent behind, even when an assertion failed.
    for (const pid of await agentsOf(lab.env['TSINFRA_AGENT_STATE_DIR']!)) process.kill(pid, 'SIGKILL');
    await lab.close();
  });

  test('a concurrent run is refused while the state is locked', async () => {
    const backend = new LocalBackend({ dir: lab.cfg.dir });
    const lock = await backend.lock({ operation: 'apply', version: 'test' });
    try {
      const r = await tsinfra(['plan', lab.cfg.dir], { env: lab.env });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /E_STATE_LOCKED/);
      assert.match(r.stderr, new RegExp(lock.info.id));
      assert.match(r.stderr, /apply/);
    } finally {
      await lock.unlock();
    }
  });

  test('kill -9 mid-apply, force-unlock, re-apply converges without leaks', async () => {
    const child = spawn(process.execPath, [BIN, 'apply', '--auto-approve', '--parallelism', '2', lab.cfg.dir], {
      env: { ...process.env, ...lab.env, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    // Wait until some, but not all, networks are recorded, then kill the CLI.
    for (let i = 0; i < 600 && (await recorded(lab.cfg.dir)) < 3; i++) await sleep(50);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = await recorded(lab.cfg.dir);
    // The agent notices its engine is gone (end of stdin), finishes what it was doing and exits.
    const stateDir = lab.env['TSINFRA_AGENT_STATE_DIR']!;
    for (let i = 0; i < 200 && (await agentsOf(stateDir)).length > 0; i++) await sleep(50);
    assert.deepEqual(await agentsOf(stateDir), [], 'no agent outlives the killed CLI');
    assert.ok(partial >= 3, `state recorded ${partial} networks before the kill`);

    const lockFile = JSON.parse(await readFile(join(lab.cfg.dir, '.tsinfra', 'state.lock'), 'utf8')) as { id: string };
    const refused = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /E_STATE_LOCKED/);
    const unlock = await tsinfra(['force-unlock', '--dir', lab.cfg.dir, lockFile.id], { env: lab.env });
    assert.equal(unlock.code, 0, unlock.stderr);

    const again = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.equal(await recorded(lab.cfg.dir), COUNT);
    assert.equal((await tsiLinks(lab.netns)).length, COUNT);
    const plan = await tsinfra(['plan', '--detailed-exitcode', lab.cfg.dir], { env: lab.env });
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);

    const destroy = await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(destroy.code, 0, destroy.stderr);
    assert.deepEqual(await tsiLinks(lab.netns), []);
    assert.doesNotMatch((await inNetns(lab.netns, ['nft', 'list', 'ruleset'])).stdout, /masquerade/);
  });
});
