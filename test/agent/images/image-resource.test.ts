// The `image` resource handler on a real store: create, read (with drift when the
// archive changes), delete with sharing between resources, import by id.
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImageResource } from '../../../agent/images/image-resource.js';
import { ImageStore } from '../../../agent/images/image-store.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import type { ResourceState } from '../../../agent/rpc/protocol.js';
import { changedAttributes } from '../../../plan-engine/plan/diff.js';
import type { ValueObject } from '../../../plan-engine/values.js';
import { imageProvider } from '../../../providers/image.js';
import { ociArchive, scratchDir, writeArchive } from './archive-builder.js';
import { RecordingLog } from './recording-log.js';
import { EMPTY_STORE, storeContents } from './store-contents.js';
import { tar } from './tar-writer.js';
import { buildTestImage } from './test-image.js';

const ctx = { address: 'image.app', name: 'app', instanceKey: undefined, host: 'host.local' };

function setup(t: { after(fn: () => void): void }) {
  const dir = scratchDir(t);
  const log = new RecordingLog();
  const root = join(dir, 'store');
  const store = new ImageStore(root, log);
  return { dir, log, root, store, handler: new ImageResource(store, log) };
}

/** What the engine sends for a configuration: the provider's planned state. */
function planned(source: string, prior: ResourceState | null = null): ResourceState {
  return imageProvider.plan({ source }, prior as ValueObject | null, ctx) as ResourceState;
}

const noProgress = () => {};

describe('image resource', () => {
  test('create imports, read reports no drift while the archive is unchanged', async (t) => {
    const { dir, handler, store } = setup(t);
    const img = await buildTestImage(dir, 'oci');
    const progress: string[] = [];
    const state = await handler.apply('create', null, planned(`oci-archive:${img.path}`), (m) => progress.push(m));
    assert.deepEqual(state, {
      source: `oci-archive:${img.path}`,
      insecure: false,
      username: null,
      password: null,
      platform: null,
      id: img.id,
      digest: img.digest,
      source_digest: img.digest,
    });
    assert.ok(
      progress.some((m) => /layer 1\/1 sha256:[0-9a-f]{12}: unpacking/.test(m)),
      progress.join('\n'),
    );
    assert.ok(await store.get(img.id!));
    assert.deepEqual(await handler.read(state!), state);
    // The plan for the same configuration is a no-op.
    assert.deepEqual(
      changedAttributes(state as ValueObject, imageProvider.plan({ source: `oci-archive:${img.path}` }, state as ValueObject, ctx), imageProvider),
      [],
    );
  });

  test('a changed archive shows as drift and forces a replacement; it is re-read only when its size or mtime changed', async (t) => {
    const { dir, handler, log } = setup(t);
    const path = writeArchive(dir, 'app.tar', ociArchive([tar([{ name: 'v', data: '1' }])]).archive);
    const source = `oci-archive:${path}`;
    const state = (await handler.apply('create', null, planned(source), noProgress))!;
    const rereads = () => log.count(/changed since it was last read/);

    await handler.read(state);
    await handler.read(state);
    assert.equal(rereads(), 0, 'unchanged archive: the stored stamp answers');

    // Same content, new mtime: read again, same digest, no drift.
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await handler.read(state), state);
    assert.equal(rereads(), 1);

    const v2 = ociArchive([tar([{ name: 'v', data: '2' }])]);
    writeFileSync(path, v2.archive);
    const refreshed = (await handler.read(state))!;
    assert.equal(rereads(), 2);
    assert.equal(refreshed['source_digest'], v2.digest, 'drift: what the archive holds now');
    assert.equal(refreshed['digest'], state['digest'], 'the stored image is still the old one');
    assert.equal(refreshed['id'], state['id']);

    // The provider plans a replacement for it.
    const after = imageProvider.plan({ source }, refreshed as ValueObject, ctx);
    const changed = changedAttributes(refreshed as ValueObject, after, imageProvider);
    assert.deepEqual(changed, ['source_digest']);
    assert.ok(!imageProvider.updatable.includes('source_digest'));

    // Replace: delete the old, create the new.
    assert.equal(await handler.apply('delete', refreshed, null, noProgress), null);
    const replaced = (await handler.apply('create', null, planned(source), noProgress))!;
    assert.equal(replaced['digest'], v2.digest);
    assert.equal(replaced['source_digest'], v2.digest);
    assert.deepEqual(await handler.read(replaced), replaced);
    assert.equal(rereads(), 2);
  });

  test('a rootfs source drifts when a file changes, not when it is only touched', async (t) => {
    const { dir, handler } = setup(t);
    const img = await buildTestImage(dir, 'rootfs');
    const state = (await handler.apply('create', null, planned(`rootfs:${img.path}`), noProgress))!;
    assert.deepEqual(await handler.read(state), state);
    utimesSync(join(img.path, 'etc/passwd'), new Date(), new Date(Date.now() + 5000));
    assert.deepEqual(await handler.read(state), state);
    appendFileSync(join(img.path, 'etc/passwd'), 'extra:x:1001:1001::/:/bin/sh\n');
    const drifted = (await handler.read(state))!;
    assert.notEqual(drifted['source_digest'], state['digest']);
    chmodSync(join(img.path, 'etc/passwd'), 0o600);
    const again = (await handler.read(state))!;
    assert.notEqual(again['source_digest'], drifted['source_digest'], 'a mode change is a change');
  });

  test('read keeps the state when the archive is gone, and returns null when the image left the store', async (t) => {
    const { dir, handler, store, log } = setup(t);
    const path = writeArchive(dir, 'app.tar', ociArchive([tar([{ name: 'f', data: 'x' }])]).archive);
    const state = (await handler.apply('create', null, planned(`oci-archive:${path}`), noProgress))!;
    rmSync(path);
    assert.deepEqual(await handler.read(state), state);
    assert.equal(log.count(/cannot check its source for changes: cannot read image archive .*no such file/), 1);
    await store.remove(state['id'] as string);
    assert.equal(await handler.read(state), null);
  });

  test('an image shared by two resources stays until both are deleted', async (t) => {
    const { dir, handler, root } = setup(t);
    const path = writeArchive(dir, 'app.tar', ociArchive([tar([{ name: 'f', data: 'x' }])]).archive);
    const a = (await handler.apply('create', null, planned(`oci-archive:${path}`), noProgress))!;
    const b = (await handler.apply('create', null, planned(`oci-archive:${path}`), noProgress))!;
    assert.equal(a['id'], b['id']);
    const progress: string[] = [];
    await handler.apply('delete', a, null, (m) => progress.push(m));
    assert.match(progress.join('\n'), /stays in the store/);
    assert.ok(await handler.read(b), 'still there for b');
    await handler.apply('delete', b, null, (m) => progress.push(m));
    assert.match(progress.join('\n'), /removed image sha256:/);
    assert.equal(await handler.read(b), null);
    assert.deepEqual(storeContents(root), EMPTY_STORE);
    // Deleting again is fine.
    await handler.apply('delete', b, null, (m) => progress.push(m));
    assert.match(progress.at(-1)!, /already gone/);
  });

  test('import adopts a stored image by id', async (t) => {
    const { dir, handler, store } = setup(t);
    const path = writeArchive(dir, 'app.tar', ociArchive([tar([{ name: 'f', data: 'x' }])]).archive);
    const img = await store.import(`oci-archive:${path}`);
    const state = await handler.import(img.id);
    assert.deepEqual(state, {
      source: `oci-archive:${path}`,
      insecure: false,
      username: null,
      password: null,
      platform: null,
      id: img.id,
      digest: img.digest,
      source_digest: img.digest,
    });
    assert.equal(await handler.import(`sha256:${'0'.repeat(64)}`), null);
    await assert.rejects(handler.import('busybox'), (e: unknown) => isAgentFailure(e) && e.code === 'E_RPC_INVALID' && /not an image id/.test(e.message));
    // The adopted image is released by a delete like any other.
    await handler.apply('delete', state, null, noProgress);
    assert.equal(await store.get(img.id), null);
  });

  test('registry sources are answered with E_UNSUPPORTED', async (t) => {
    const { handler, root } = setup(t);
    await assert.rejects(handler.apply('create', null, planned('registry.example.com/app:1.0'), noProgress), (e: unknown) => {
      assert.ok(isAgentFailure(e));
      assert.equal(e.code, 'E_UNSUPPORTED');
      assert.equal(
        e.message,
        'registry pulls are not supported by this agent yet; use oci-archive:, docker-archive: or rootfs: (oci-archive:/path/to/image.tar, docker-archive:/path/to/image.tar or rootfs:/path/to/directory)',
      );
      return true;
    });
    assert.deepEqual(storeContents(root), { ...EMPTY_STORE });
  });
});
