// Whiteouts and opaque directories, checked the only way that matters: stack the
// unpacked layers in a real overlayfs mount and look at what a container would see.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImageStore } from '../../../agent/images/image-store.js';
import { MNT_DETACH, MS, mount, umount2 } from '../../../agent/runtime/libc.js';
import { dockerArchive, ociArchive, scratchDir, writeArchive } from './archive-builder.js';
import { RecordingLog } from './recording-log.js';
import { tar } from './tar-writer.js';

/** Runs `fn` with a read-only overlay of `layers` (lowest first) mounted at `target`; unmounts whatever happens. */
async function withOverlay(layers: readonly string[], target: string, fn: () => void | Promise<void>): Promise<void> {
  mkdirSync(target);
  // overlayfs lists lowerdirs top first.
  mount('overlay', target, 'overlay', MS.RDONLY, `lowerdir=${[...layers].reverse().join(':')}`);
  try {
    await fn();
  } finally {
    umount2(target, MNT_DETACH);
  }
}

const BASE = tar([
  { name: 'keep', data: 'kept' },
  { name: 'gone', data: 'deleted above' },
  { name: 'dir/', type: 'dir' },
  { name: 'dir/a', data: 'a' },
  { name: 'dir/sub/', type: 'dir' },
  { name: 'dir/sub/b', data: 'b' },
  { name: 'opq/', type: 'dir' },
  { name: 'opq/old', data: 'hidden by the opaque dir' },
  { name: 'opq/deep/', type: 'dir' },
  { name: 'opq/deep/old', data: 'hidden too' },
  { name: 'samelayer', data: 'lower' },
]);

const TOP = tar([
  { name: '.wh.gone', data: '' },
  { name: 'dir/.wh.a', data: '' },
  { name: 'opq/', type: 'dir' },
  { name: 'opq/.wh..wh..opq', data: '' },
  { name: 'opq/new', data: 'new' },
  // A whiteout and a file of the same name in one layer: the file stays (OCI: whiteouts hide lower layers only).
  { name: 'samelayer', data: 'upper' },
  { name: '.wh.samelayer', data: '' },
  // AUFS bookkeeping is ignored.
  { name: '.wh..wh.plnk/', type: 'dir' },
  { name: '.wh..wh.plnk/123.456', data: '' },
]);

describe('whiteouts', () => {
  for (const [kind, build] of [
    ['oci-archive', ociArchive],
    ['docker-archive', dockerArchive],
  ] as const) {
    test(`${kind}: deleted files and opaque directories are hidden in an overlay mount`, async (t) => {
      const dir = scratchDir(t);
      const store = new ImageStore(join(dir, 'store'), new RecordingLog());
      const img = await store.import(`${kind}:${writeArchive(dir, 'img.tar', build([BASE, TOP]).archive)}`);
      assert.equal(img.layers.length, 2);

      // The top layer holds overlayfs' whiteout devices, not `.wh.` files.
      const top = img.layers[1]!;
      const gone = lstatSync(join(top, 'gone'));
      assert.ok(gone.isCharacterDevice());
      assert.equal(gone.rdev, 0);
      assert.ok(!existsSync(join(top, '.wh.gone')));
      assert.ok(!existsSync(join(top, '.wh..wh.plnk')));
      assert.ok(!existsSync(join(top, 'opq/.wh..wh..opq')));

      const merged = join(dir, 'merged');
      await withOverlay(img.layers, merged, () => {
        assert.equal(readFileSync(join(merged, 'keep'), 'utf8'), 'kept');
        assert.ok(!existsSync(join(merged, 'gone')), 'whited-out file hidden');
        assert.deepEqual(readdirSync(join(merged, 'dir')).sort(), ['sub']);
        assert.equal(readFileSync(join(merged, 'dir/sub/b'), 'utf8'), 'b');
        assert.deepEqual(readdirSync(join(merged, 'opq')), ['new'], 'opaque directory hides everything below');
        assert.equal(readFileSync(join(merged, 'samelayer'), 'utf8'), 'upper');
      });
      assert.ok(!readFileSync('/proc/self/mounts', 'utf8').includes(merged), 'unmounted');
    });
  }
});
