// State surgery through the real CLI: state list, show, mv, rm, pull and push against
// states built by applying tsinfra_data resources (no host work). Every command that
// writes takes the lock, keeps a timestamped backup, bumps the serial, and changes
// nothing when it refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configDir, tsinfra } from './cli-harness.js';
import { LocalBackend } from '../../state/local-backend.js';

const MAIN = `
host "local" {
  transport = "local"
}

variable "token" {
  type      = string
  default   = "hunter2-secret"
  sensitive = true
}

resource "tsinfra_data" "a" {
  input = "alpha"
}

resource "tsinfra_data" "c" {
  count = 2
  input = "c-\${count.index}"
}

resource "tsinfra_data" "f" {
  for_each = toset(["x", "y"])
  input    = each.key
}

resource "tsinfra_data" "s" {
  input = var.token
}

resource "tsinfra_data" "uses_a" {
  input = tsinfra_data.a.output
}
`;

const ALL = ['tsinfra_data.a', 'tsinfra_data.c[0]', 'tsinfra_data.c[1]', 'tsinfra_data.f["x"]', 'tsinfra_data.f["y"]', 'tsinfra_data.s', 'tsinfra_data.uses_a'];

interface StateDoc {
  serial: number;
  lineage: string;
  resources: { address: string; name: string; index?: number | string; dependencies: string[]; attributes: Record<string, unknown> }[];
}

const statePath = (dir: string): string => join(dir, '.tsinfra', 'state.json');
const stateText = (dir: string): Promise<string> => readFile(statePath(dir), 'utf8');
const stateDoc = async (dir: string): Promise<StateDoc> => JSON.parse(await stateText(dir)) as StateDoc;

/** The timestamped backups surgery wrote, oldest first. */
async function timestampedBackups(dir: string): Promise<string[]> {
  const names = await readdir(join(dir, '.tsinfra'));
  return names.filter((n) => /^state\.json\.\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\.backup$/.test(n)).sort();
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

/** A configuration applied once: a state with serial > 0 and seven instances. */
async function appliedWorkspace(): Promise<string> {
  const cfg = await configDir({ 'main.hcl': MAIN });
  cleanups.push(cfg.remove);
  const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return cfg.dir;
}

describe('state list and show', () => {
  let dir: string;
  before(async () => {
    dir = await appliedWorkspace();
  });

  test('list prints every instance address, sorted', async () => {
    const r = await tsinfra(['state', 'list', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ALL);
  });

  test('list filters by resource and by instance address', async () => {
    const r = await tsinfra(['state', 'list', '--dir', dir, 'tsinfra_data.c', 'tsinfra_data.f["y"]']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['tsinfra_data.c[0]', 'tsinfra_data.c[1]', 'tsinfra_data.f["y"]']);
  });

  test('list --json gives addresses with type, name, index and host', async () => {
    const r = await tsinfra(['state', 'list', '--dir', dir, '--json', 'tsinfra_data.c[1]']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      format_version: '1.0',
      resources: [{ address: 'tsinfra_data.c[1]', type: 'tsinfra_data', name: 'c', index: 1, host: 'host.local', status: 'ready' }],
    });
  });

  test('list with an address that matches nothing fails with a suggestion', async () => {
    const r = await tsinfra(['state', 'list', '--dir', dir, 'tsinfra_data.uses_b']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_STATE_NO_MATCH/);
    assert.match(r.stderr, /Did you mean tsinfra_data\.uses_a\?/);
    assert.equal(r.stdout, '');
  });

  test('list refuses what is not an address', async () => {
    const r = await tsinfra(['state', 'list', '--dir', dir, 'not an address']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_INVALID_ADDRESS/);
  });

  test('show renders one instance and hides sensitive values', async () => {
    const r = await tsinfra(['state', 'show', '--dir', dir, 'tsinfra_data.s']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /# tsinfra_data\.s:/);
    assert.match(r.stdout, /resource "tsinfra_data" "s" \{/);
    assert.match(r.stdout, /input += \(sensitive value\)/);
    assert.match(r.stdout, /# on host\.local/);
    assert.doesNotMatch(r.stdout, /hunter2/);
  });

  test('show --json hides sensitive values too', async () => {
    const r = await tsinfra(['state', 'show', '--dir', dir, '--json', 'tsinfra_data.s']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /hunter2/);
    const j = JSON.parse(r.stdout) as { resource: { address: string; attributes: Record<string, unknown>; sensitive_paths: string[] } };
    assert.equal(j.resource.address, 'tsinfra_data.s');
    assert.equal(j.resource.attributes['input'], null);
    assert.deepEqual(j.resource.sensitive_paths, ['input', 'output']);
  });

  test('show of a for_each instance', async () => {
    const r = await tsinfra(['state', 'show', '--dir', dir, 'tsinfra_data.f["x"]']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /input += "x"/);
  });

  test('show of a resource with several instances asks for one', async () => {
    const r = await tsinfra(['state', 'show', '--dir', dir, 'tsinfra_data.c']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_STATE_AMBIGUOUS_ADDRESS/);
    assert.match(r.stderr, /tsinfra_data\.c\[0\], tsinfra_data\.c\[1\]/);
  });

  test('show of an unknown address suggests the closest one', async () => {
    const r = await tsinfra(['state', 'show', '--dir', dir, 'tsinfra_data.ses']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_STATE_NO_MATCH/);
    assert.match(r.stderr, /Did you mean tsinfra_data\.s\?/);
  });

  test('pull prints the state file exactly as stored, secrets included', async () => {
    const r = await tsinfra(['state', 'pull', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, await stateText(dir));
    assert.match(r.stdout, /hunter2-secret/);
  });

  test('pull without a state prints nothing', async () => {
    const cfg = await configDir({ 'main.hcl': MAIN });
    cleanups.push(cfg.remove);
    const r = await tsinfra(['state', 'pull', '--dir', cfg.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
  });
});

describe('state mv', () => {
  let dir: string;
  before(async () => {
    dir = await appliedWorkspace();
  });

  test('--dry-run shows the moves and changes nothing', async () => {
    const before = await stateText(dir);
    const r = await tsinfra(['state', 'mv', '--dir', dir, '--dry-run', 'tsinfra_data.c', 'tsinfra_data.d']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Would move tsinfra_data\.c\[0\] to tsinfra_data\.d\[0\]/);
    assert.match(r.stdout, /Would move tsinfra_data\.c\[1\] to tsinfra_data\.d\[1\]/);
    assert.equal(await stateText(dir), before);
    assert.deepEqual(await timestampedBackups(dir), []);
  });

  test('moves one instance: backup first, serial bumped, dependencies follow', async () => {
    const before = await stateText(dir);
    const serial = (await stateDoc(dir)).serial;
    const r = await tsinfra(['state', 'mv', '--dir', dir, 'tsinfra_data.a', 'tsinfra_data.renamed']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Moved tsinfra_data\.a to tsinfra_data\.renamed/);
    assert.match(r.stdout, new RegExp(`State serial ${serial} -> ${serial + 1}\\.`));

    const backups = await timestampedBackups(dir);
    assert.equal(backups.length, 1);
    const backup = join(dir, '.tsinfra', backups[0]!);
    assert.match(r.stdout, new RegExp(`Backup of the previous state: ${backup.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(await readFile(backup, 'utf8'), before);
    assert.equal((await stat(backup)).mode & 0o777, 0o600);
    // The backend's own backup holds the state from before this command as well.
    assert.equal(await readFile(join(dir, '.tsinfra', 'state.json.backup'), 'utf8'), before);

    const s = await stateDoc(dir);
    assert.equal(s.serial, serial + 1);
    assert.ok(s.resources.some((x) => x.address === 'tsinfra_data.renamed' && x.name === 'renamed'));
    assert.ok(!s.resources.some((x) => x.address === 'tsinfra_data.a'));
    assert.deepEqual(s.resources.find((x) => x.address === 'tsinfra_data.uses_a')!.dependencies, ['tsinfra_data.renamed']);
  });

  test('after renaming in the configuration too, plan shows no changes', async () => {
    await writeFile(
      join(dir, 'main.hcl'),
      MAIN.replaceAll('tsinfra_data" "a"', 'tsinfra_data" "renamed"').replaceAll('tsinfra_data.a.', 'tsinfra_data.renamed.'),
    );
    const p = await tsinfra(['plan', '--detailed-exitcode', dir]);
    assert.equal(p.code, 0, p.stderr + p.stdout);
    assert.match(p.stdout, /No changes/);
  });

  test('moves every instance of a resource, keys kept', async () => {
    const serial = (await stateDoc(dir)).serial;
    const r = await tsinfra(['state', 'mv', '--dir', dir, 'tsinfra_data.f', 'tsinfra_data.g']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Successfully moved 2 resource instances\./);
    const s = await stateDoc(dir);
    assert.equal(s.serial, serial + 1);
    assert.deepEqual(
      s.resources.filter((x) => x.name === 'g').map((x) => [x.address, x.index]),
      [
        ['tsinfra_data.g["x"]', 'x'],
        ['tsinfra_data.g["y"]', 'y'],
      ],
    );
    assert.equal((await timestampedBackups(dir)).length, 2);
  });

  test('moves an instance to another key', async () => {
    const r = await tsinfra(['state', 'mv', '--dir', dir, 'tsinfra_data.c[1]', 'tsinfra_data.c[5]']);
    assert.equal(r.code, 0, r.stderr);
    const list = await tsinfra(['state', 'list', '--dir', dir, 'tsinfra_data.c']);
    assert.deepEqual(list.stdout.trim().split('\n'), ['tsinfra_data.c[0]', 'tsinfra_data.c[5]']);
  });

  test('refusals change nothing and write no backup', async () => {
    const before = await stateText(dir);
    const backups = await timestampedBackups(dir);
    const cases: [string[], RegExp][] = [
      [['tsinfra_data.nope', 'tsinfra_data.x'], /E_STATE_NO_MATCH/],
      [['tsinfra_data.c[0]', 'tsinfra_data.c[5]'], /E_STATE_MOVE_TARGET_EXISTS/],
      [['tsinfra_data.c[0]', 'network.c'], /E_STATE_MOVE_TYPE_MISMATCH/],
      [['tsinfra_data.c', 'tsinfra_data.d[0]'], /E_STATE_MOVE_INVALID_ADDRESS/],
      [['tsinfra_data.c[0]', 'not-an-address'], /E_INVALID_ADDRESS/],
    ];
    for (const [args, code] of cases) {
      const r = await tsinfra(['state', 'mv', '--dir', dir, ...args]);
      assert.equal(r.code, 1, `state mv ${args.join(' ')}: ${r.stdout}`);
      assert.match(r.stderr, code);
    }
    const typo = await tsinfra(['state', 'mv', '--dir', dir, 'tsinfra_data.renamd', 'tsinfra_data.z']);
    assert.match(typo.stderr, /Did you mean tsinfra_data\.renamed\?/);
    assert.equal(await stateText(dir), before);
    assert.deepEqual(await timestampedBackups(dir), backups);
  });
});

describe('state rm', () => {
  let dir: string;
  before(async () => {
    dir = await appliedWorkspace();
  });

  test('--dry-run lists what would go and changes nothing', async () => {
    const before = await stateText(dir);
    const r = await tsinfra(['state', 'rm', '--dir', dir, '--dry-run', 'tsinfra_data.c']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Would remove tsinfra_data\.c\[0\]\nWould remove tsinfra_data\.c\[1\]/);
    assert.equal(await stateText(dir), before);
    assert.deepEqual(await timestampedBackups(dir), []);
  });

  test('one unknown address among several: nothing is removed', async () => {
    const before = await stateText(dir);
    const r = await tsinfra(['state', 'rm', '--dir', dir, 'tsinfra_data.a', 'tsinfra_data.zzz']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_STATE_NO_MATCH/);
    assert.equal(await stateText(dir), before);
  });

  test('forgets instances and resources: backup, serial bump; plan then wants to create them', async () => {
    const before = await stateText(dir);
    const serial = (await stateDoc(dir)).serial;
    const r = await tsinfra(['state', 'rm', '--dir', dir, 'tsinfra_data.c', 'tsinfra_data.f["x"]']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Removed tsinfra_data\.c\[0\]\nRemoved tsinfra_data\.c\[1\]\nRemoved tsinfra_data\.f\["x"\]/);
    assert.match(r.stdout, /Successfully removed 3 resource instances\./);
    const s = await stateDoc(dir);
    assert.equal(s.serial, serial + 1);
    assert.deepEqual(
      s.resources.map((x) => x.address),
      ALL.filter((a) => !a.startsWith('tsinfra_data.c') && a !== 'tsinfra_data.f["x"]'),
    );
    const backups = await timestampedBackups(dir);
    assert.equal(backups.length, 1);
    assert.equal(await readFile(join(dir, '.tsinfra', backups[0]!), 'utf8'), before);

    const p = await tsinfra(['plan', dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /Plan: 3 to add, 0 to change, 0 to destroy\./);
  });

  test('--json reports what was removed', async () => {
    const r = await tsinfra(['state', 'rm', '--dir', dir, '--json', 'tsinfra_data.uses_a']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { removed: string[]; backup: string; serial: number };
    assert.deepEqual(j.removed, ['tsinfra_data.uses_a']);
    assert.equal(j.serial, (await stateDoc(dir)).serial);
    assert.match(j.backup, /\.backup$/);
  });
});

describe('state push', () => {
  let dir: string;
  let pulled: string;
  before(async () => {
    dir = await appliedWorkspace();
    pulled = (await tsinfra(['state', 'pull', '--dir', dir])).stdout;
  });

  async function pushFile(name: string, doc: unknown): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
    return path;
  }

  test('refuses the same serial, another lineage and an invalid file; nothing changes', async () => {
    const doc = JSON.parse(pulled) as StateDoc;
    const cases: [unknown, RegExp][] = [
      [doc, /E_STATE_PUSH_SERIAL/],
      [{ ...doc, serial: doc.serial - 1 }, /E_STATE_PUSH_SERIAL/],
      [{ ...doc, serial: doc.serial + 5, lineage: 'another-lineage' }, /E_STATE_PUSH_LINEAGE/],
      [{ ...doc, resources: [{ address: 'x' }] }, /E_STATE_INVALID/],
      ['not json', /E_STATE_INVALID/],
    ];
    for (const [content, code] of cases) {
      const path = await pushFile('push.json', content);
      const r = await tsinfra(['state', 'push', '--dir', dir, path]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, code);
    }
    assert.equal(await stateText(dir), pulled);
    assert.deepEqual(await timestampedBackups(dir), []);
  });

  test('pushes a newer serial of the same lineage, keeping a backup', async () => {
    const doc = JSON.parse(pulled) as StateDoc;
    const edited = { ...doc, serial: doc.serial + 1, resources: doc.resources.filter((r) => r.address !== 'tsinfra_data.a') };
    const path = await pushFile('push.json', edited);
    const r = await tsinfra(['state', 'push', '--dir', dir, path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`State serial ${doc.serial} -> ${doc.serial + 1}\\.`));
    const s = await stateDoc(dir);
    assert.equal(s.serial, doc.serial + 1);
    assert.ok(!s.resources.some((x) => x.address === 'tsinfra_data.a'));
    const backups = await timestampedBackups(dir);
    assert.equal(backups.length, 1);
    assert.equal(await readFile(join(dir, '.tsinfra', backups[0]!), 'utf8'), pulled);
  });

  test('--force pushes an older state and still moves the serial forward', async () => {
    const current = (await stateDoc(dir)).serial;
    const path = await pushFile('old.json', pulled);
    const r = await tsinfra(['state', 'push', '--dir', dir, '--force', path]);
    assert.equal(r.code, 0, r.stderr);
    const s = await stateDoc(dir);
    assert.equal(s.serial, current + 1);
    assert.ok(s.resources.some((x) => x.address === 'tsinfra_data.a'));
    const p = await tsinfra(['plan', '--detailed-exitcode', dir]);
    assert.equal(p.code, 0, p.stderr + p.stdout);
  });

  test('--force pushes another lineage', async () => {
    const doc = JSON.parse(pulled) as StateDoc;
    const path = await pushFile('other.json', { ...doc, lineage: 'another-lineage', serial: 1 });
    const r = await tsinfra(['state', 'push', '--dir', dir, '--force', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await stateDoc(dir)).lineage, 'another-lineage');
  });

  test('push from standard input into a directory without state', async () => {
    const cfg = await configDir({ 'main.hcl': MAIN });
    cleanups.push(cfg.remove);
    const r = await tsinfra(['state', 'push', '--dir', cfg.dir, '-'], { input: pulled });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no previous state to back up/);
    assert.equal((await stateDoc(cfg.dir)).lineage, (JSON.parse(pulled) as StateDoc).lineage);
    assert.equal((await stat(statePath(cfg.dir))).mode & 0o777, 0o600);
  });
});

describe('the state lock', () => {
  let dir: string;
  before(async () => {
    dir = await appliedWorkspace();
  });

  test('mv, rm and push are refused while another run holds the lock; --lock=false goes ahead', async () => {
    const pulled = (await tsinfra(['state', 'pull', '--dir', dir])).stdout;
    const newer = join(dir, 'newer.json');
    await writeFile(newer, JSON.stringify({ ...(JSON.parse(pulled) as StateDoc), serial: 1000 }));
    const lock = await new LocalBackend({ dir }).lock({ operation: 'apply', version: 'test' });
    try {
      for (const args of [
        ['mv', 'tsinfra_data.a', 'tsinfra_data.b'],
        ['rm', 'tsinfra_data.a'],
        ['push', newer],
      ]) {
        const r = await tsinfra(['state', ...args, '--dir', dir]);
        assert.equal(r.code, 1, `state ${args.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, /E_STATE_LOCKED/);
        assert.match(r.stderr, new RegExp(lock.info.id));
      }
      assert.equal(await stateText(dir), pulled);
      assert.deepEqual(await timestampedBackups(dir), []);

      // Reading needs no lock, and neither does a dry run.
      assert.equal((await tsinfra(['state', 'list', '--dir', dir])).code, 0);
      assert.equal((await tsinfra(['state', 'rm', '--dir', dir, '--dry-run', 'tsinfra_data.a'])).code, 0);

      const r = await tsinfra(['state', 'rm', '--dir', dir, '--lock=false', 'tsinfra_data.a']);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!(await stateDoc(dir)).resources.some((x) => x.address === 'tsinfra_data.a'));
    } finally {
      await lock.unlock();
    }
    assert.equal((await tsinfra(['state', 'rm', '--dir', dir, 'tsinfra_data.s'])).code, 0);
  });
});
