// The directory-backed volume handler on the real filesystem, in a scratch state
// directory: create with the documented modes, read, import, delete, and refusals
// (unsafe names, an existing directory, a symlink planted in the store).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { VolumeDirectory, volumePath } from '../../../agent/storage/volume-directory.js';

const planned = (name: string) => ({ name, size: null, thin_pool: null, id: name, path: '(known after apply)' });

async function rejectsWith(p: Promise<unknown>, code: string, says?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (says) assert.match(e.message, says);
    return true;
  });
}

describe('directory volumes', () => {
  let stateDir: string;
  let volumes: VolumeDirectory;
  const progress: string[] = [];
  const log = (m: string) => void progress.push(m);

  let umask: number;

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tsit-volumes-'));
    volumes = new VolumeDirectory(stateDir);
    // The agent's own umask: the modes must not depend on it.
    umask = process.umask(0o077);
  });
  after(async () => {
    process.umask(umask);
    await rm(stateDir, { recursive: true, force: true });
  });

  test('create makes <state>/volumes/<name> (store 0700, volume 0755) and reports its path', async () => {
    const s = await volumes.apply('create', null, planned('data'), log);
    const path = join(stateDir, 'volumes', 'data');
    assert.deepEqual(s, { name: 'data', size: null, thin_pool: null, id: 'data', path });
    assert.equal((await stat(join(stateDir, 'volumes'))).mode & 0o777, 0o700);
    const st = await stat(path);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o755);
    assert.equal(volumePath(stateDir, 'data'), path);
    assert.ok(progress.some((m) => m.includes(path)));
  });

  test('read reports an existing volume and null for a missing one; import adopts by name', async () => {
    const s = await volumes.read({ name: 'data', size: null, thin_pool: null, id: 'data', path: 'stale' });
    assert.equal(s?.['path'], join(stateDir, 'volumes', 'data'));
    assert.equal(await volumes.read({ name: 'nothing-here', id: 'nothing-here' }), null);
    assert.deepEqual(await volumes.import('data'), { name: 'data', size: null, thin_pool: null, id: 'data', path: join(stateDir, 'volumes', 'data') });
    assert.equal(await volumes.import('nothing-here'), null);
  });

  test('creating a volume that exists is refused, pointing at import', async () => {
    await rejectsWith(volumes.apply('create', null, planned('data'), log), 'E_VOLUME_EXISTS', /tsinfra import/);
  });

  test('update changes nothing and reports the volume; a vanished volume is an error', async () => {
    const s = await volumes.apply('update', planned('data'), planned('data'), log);
    assert.equal(s?.['path'], join(stateDir, 'volumes', 'data'));
    await rejectsWith(volumes.apply('update', planned('gone'), planned('gone'), log), 'E_VOLUME_GONE');
  });

  test('delete removes the volume with its content; deleting it again is fine', async () => {
    const path = join(stateDir, 'volumes', 'data');
    await mkdir(join(path, 'sub'), { recursive: true });
    await writeFile(join(path, 'sub', 'file'), 'x');
    assert.equal(await volumes.apply('delete', planned('data'), null, log), null);
    await assert.rejects(stat(path), { code: 'ENOENT' });
    assert.equal(await volumes.apply('delete', planned('data'), null, log), null);
  });

  test('names that could leave the store are refused before anything is touched', async () => {
    for (const name of ['../etc', 'a/b', '..', '.hidden', '']) {
      await rejectsWith(volumes.apply('create', null, planned(name), log), 'E_UNSAFE_NAME');
      await rejectsWith(volumes.import(name), 'E_UNSAFE_NAME');
    }
    assert.throws(
      () => volumePath(stateDir, '../x'),
      (e: unknown) => isAgentFailure(e) && e.code === 'E_UNSAFE_NAME',
    );
  });

  test('a symlink in the store is never followed, not even to delete', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'tsit-outside-'));
    try {
      await writeFile(join(outside, 'keep'), 'x');
      await symlink(outside, join(stateDir, 'volumes', 'planted'));
      await rejectsWith(volumes.read({ name: 'planted' }), 'E_UNSAFE_PATH', /symbolic link/);
      await rejectsWith(volumes.apply('delete', planned('planted'), null, log), 'E_UNSAFE_PATH');
      assert.ok((await stat(join(outside, 'keep'))).isFile());
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('thin-pool volumes are refused by the agent too', async () => {
    await rejectsWith(volumes.apply('create', null, { ...planned('thin'), thin_pool: 'vg/pool' }, log), 'E_UNSUPPORTED', /LVM/);
  });

  test("malformed attributes are the request's fault", async () => {
    await rejectsWith(volumes.read({ id: 'x' }), 'E_RPC_INVALID', /name/);
  });
});
