import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { DiagnosticError } from '../../plan-engine/diagnostics.js';
import { StateLockedError, type LockInfo } from '../../state/backend.js';
import { LocalBackend } from '../../state/local-backend.js';
import { cloneState } from '../../state/model.js';
import { makeTempDir } from './temp-dir.js';
import { SAMPLE_SECRETS, sampleState } from './sample-state.js';

const LOCK_REQ = { operation: 'apply', version: '0.1.0-test' };

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function backend(dir: string, stateKey: string | null = null): LocalBackend {
  return new LocalBackend({ dir, stateKey });
}

function diagCode(e: unknown): string | undefined {
  return e instanceof DiagnosticError ? e.diagnostics[0]?.code : undefined;
}

describe('local backend: files', () => {
  test('readState is null before any write; round trip after', async (t) => {
    const dir = makeTempDir(t);
    const b = backend(dir);
    assert.equal(await b.readState(), null);
    const s = sampleState();
    s.serial = 3;
    await b.writeState(s);
    assert.deepEqual(await backend(dir).readState(), s);
    assert.match(b.describe(), /\.tsinfra\/state\.json$/);
  });

  test('state.json is 0600 in a 0700 directory, also when the umask is loose', async (t) => {
    const dir = makeTempDir(t);
    const old = process.umask(0o000);
    t.after(() => process.umask(old));
    const b = backend(dir);
    await b.writeState(sampleState());
    await backend(dir).writeState(sampleState()); // a second run: backs up the first
    assert.equal(mode(b.stateDir), 0o700);
    assert.equal(mode(b.statePath), 0o600);
    assert.equal(mode(b.backupPath), 0o600);
  });

  test('fixes a pre-existing 0755 directory and 0644 files', async (t) => {
    const dir = makeTempDir(t);
    const b = backend(dir);
    mkdirSync(b.stateDir, { mode: 0o755 });
    chmodSync(b.stateDir, 0o755);
    await b.writeState(sampleState());
    assert.equal(mode(b.stateDir), 0o700);
    chmodSync(b.stateDir, 0o755);
    chmodSync(b.statePath, 0o644);
    await backend(dir).readState();
    assert.equal(mode(b.stateDir), 0o700);
    assert.equal(mode(b.statePath), 0o600);
  });

  test('writes leave no temp file behind, and readState ignores a crashed write', async (t) => {
    const dir = makeTempDir(t);
    const b = backend(dir);
    const s = sampleState();
    await b.writeState(s);
    s.serial = 1;
    await backend(dir).writeState(s);
    assert.deepEqual(readdirSync(b.stateDir).sort(), ['state.json', 'state.json.backup']);
    // A crash between writing and renaming leaves a partial temp file.
    const crashed = join(b.stateDir, 'state.json.tmp-99999-deadbeef');
    writeFileSync(crashed, '{"version": 1, "serial": 99, "lin');
    assert.deepEqual(await backend(dir).readState(), s);
  });

  test('the backup holds the state as it was before this backend first wrote', async (t) => {
    const dir = makeTempDir(t);
    const first = sampleState();
    await backend(dir).writeState(first);
    const b = backend(dir);
    assert.equal(existsSync(b.backupPath), false, 'no backup of nothing');
    const before = readFileSync(b.statePath, 'utf8');
    const second = cloneState(first);
    second.serial = 1;
    delete second.outputs['web_ip'];
    await b.writeState(second);
    assert.equal(readFileSync(b.backupPath, 'utf8'), before);
    const third = cloneState(second);
    third.serial = 2;
    await b.writeState(third);
    assert.equal(readFileSync(b.backupPath, 'utf8'), before, 'later writes of the same run keep the pre-run backup');
    assert.deepEqual(await backend(dir).readState(), third);
  });

  test('a corrupted file is refused with a diagnostic naming it', async (t) => {
    const dir = makeTempDir(t);
    const b = backend(dir);
    await b.writeState(sampleState());
    writeFileSync(b.statePath, '{"version": 1, "serial": "three"}');
    await assert.rejects(b.readState(), (e: unknown) => {
      assert.equal(diagCode(e), 'E_STATE_INVALID');
      assert.ok((e as Error).message.includes(b.statePath));
      return true;
    });
  });

  test('with a state key, secrets are not in the file in clear', async (t) => {
    const dir = makeTempDir(t);
    const s = sampleState();
    await backend(dir, 'k1').writeState(s);
    const text = readFileSync(join(dir, '.tsinfra', 'state.json'), 'utf8');
    for (const secret of SAMPLE_SECRETS) assert.ok(!text.includes(secret), secret);
    assert.deepEqual(await backend(dir, 'k1').readState(), s);
    await assert.rejects(backend(dir, 'k2').readState(), (e: unknown) => diagCode(e) === 'E_STATE_DECRYPT');
    await assert.rejects(backend(dir, null).readState(), (e: unknown) => diagCode(e) === 'E_STATE_KEY_REQUIRED');
  });

  test('the key comes from TSINFRA_STATE_KEY when not given', async (t) => {
    const dir = makeTempDir(t);
    const old = process.env['TSINFRA_STATE_KEY'];
    t.after(() => {
      if (old === undefined) delete process.env['TSINFRA_STATE_KEY'];
      else process.env['TSINFRA_STATE_KEY'] = old;
    });
    process.env['TSINFRA_STATE_KEY'] = 'from-env';
    await new LocalBackend({ dir }).writeState(sampleState());
    assert.ok(!readFileSync(join(dir, '.tsinfra', 'state.json'), 'utf8').includes('pw-secret-3'));
    assert.ok(await backend(dir, 'from-env').readState());
  });
});

describe('local backend: locking', () => {
  test('a second backend on the same directory is refused while the lock is held', async (t) => {
    const dir = makeTempDir(t);
    const a = backend(dir);
    const b = backend(dir);
    const held = await a.lock({ operation: 'plan', version: '0.1.0-test' });
    assert.equal(mode(a.lockPath), 0o600);
    assert.deepEqual(JSON.parse(readFileSync(a.lockPath, 'utf8')), held.info);
    await assert.rejects(b.lock(LOCK_REQ), (e: unknown) => {
      assert.ok(e instanceof StateLockedError);
      assert.ok(StateLockedError.is(e));
      assert.equal(e.diagnostics[0]?.code, 'E_STATE_LOCKED');
      assert.equal(e.lock.id, held.info.id);
      assert.equal(e.holderGone, false);
      for (const part of [held.info.who, held.info.created, '"plan"', held.info.id]) assert.ok(e.message.includes(part), part);
      assert.ok(e.diagnostics[0]?.detail?.includes(`tsinfra force-unlock --dir ${dir} ${held.info.id}`), e.diagnostics[0]?.detail);
      return true;
    });
    await held.unlock();
    assert.equal(existsSync(a.lockPath), false);
    const next = await b.lock(LOCK_REQ);
    await held.unlock(); // idempotent, and does not release someone else's lock
    assert.ok(existsSync(b.lockPath));
    await next.unlock();
  });

  test('force-unlock needs the right id', async (t) => {
    const dir = makeTempDir(t);
    const a = backend(dir);
    const held = await a.lock(LOCK_REQ);
    await assert.rejects(a.forceUnlock('not-the-id'), (e: unknown) => {
      assert.equal(diagCode(e), 'E_STATE_LOCK_ID_MISMATCH');
      return true;
    });
    assert.ok(existsSync(a.lockPath));
    await backend(dir).forceUnlock(held.info.id);
    assert.equal(existsSync(a.lockPath), false);
    await assert.rejects(a.forceUnlock(held.info.id), (e: unknown) => diagCode(e) === 'E_STATE_NOT_LOCKED');
    // The old holder's unlock must not remove a lock taken since.
    const other = await backend(dir).lock(LOCK_REQ);
    await held.unlock();
    assert.ok(existsSync(a.lockPath));
    await other.unlock();
  });

  test('an unreadable lock file is reported, not broken', async (t) => {
    const dir = makeTempDir(t);
    const b = backend(dir);
    mkdirSync(b.stateDir, { recursive: true });
    writeFileSync(b.lockPath, '');
    await assert.rejects(b.lock(LOCK_REQ), (e: unknown) => {
      assert.equal(diagCode(e), 'E_STATE_LOCK_UNREADABLE');
      assert.ok((e as Error).message.includes(b.lockPath));
      return true;
    });
    assert.ok(existsSync(b.lockPath));
  });
});

describe('local backend: locking across processes', () => {
  const modulePath = fileURLToPath(new URL('../../state/local-backend.js', import.meta.url));
  // Takes the lock, prints its info, holds it until stdin closes, then releases it.
  const holder = `
    const { LocalBackend } = await import(process.argv[1]);
    const b = new LocalBackend({ dir: process.argv[2], stateKey: null });
    const h = await b.lock({ operation: 'apply', version: 'child' });
    process.stdout.write(JSON.stringify(h.info) + '\\n');
    process.stdin.on('end', async () => { await h.unlock(); process.exit(0); });
    process.stdin.resume();
  `;

  async function spawnHolder(t: { after(fn: () => void): void }, dir: string): Promise<{ child: ChildProcess; info: LockInfo }> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', holder, modulePath, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`lock holder exited early (${code})`)));
    });
    return { child, info: JSON.parse(first) as LockInfo };
  }

  function exited(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }

  test('a lock held by another live process is refused, then available once released', async (t) => {
    const dir = makeTempDir(t);
    const { child, info } = await spawnHolder(t, dir);
    assert.equal(info.pid, child.pid);
    const b = backend(dir);
    await assert.rejects(b.lock(LOCK_REQ), (e: unknown) => {
      assert.ok(e instanceof StateLockedError);
      assert.equal(e.lock.pid, child.pid);
      assert.equal(e.holderGone, false);
      assert.ok(e.message.includes(info.id));
      return true;
    });
    child.stdin!.end();
    await exited(child);
    assert.equal(child.exitCode, 0);
    const h = await b.lock(LOCK_REQ);
    await h.unlock();
  });

  test('a lock left by a dead process is still refused, pointing at force-unlock', async (t) => {
    const dir = makeTempDir(t);
    const { child, info } = await spawnHolder(t, dir);
    child.kill('SIGKILL');
    await exited(child);
    const b = backend(dir);
    await assert.rejects(b.lock(LOCK_REQ), (e: unknown) => {
      assert.ok(e instanceof StateLockedError);
      assert.equal(e.holderGone, true);
      assert.match(e.message, /seems to have died/);
      assert.ok(e.diagnostics[0]?.detail?.includes(`tsinfra force-unlock --dir ${dir} ${info.id}`), e.diagnostics[0]?.detail);
      return true;
    });
    assert.ok(existsSync(b.lockPath), 'never broken automatically');
    await b.forceUnlock(info.id);
    const h = await b.lock(LOCK_REQ);
    await h.unlock();
  });
});
