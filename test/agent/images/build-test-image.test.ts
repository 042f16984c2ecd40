// scripts/build-test-image.sh: deterministic archives (stable digests), the rootfs
// layout, and usage errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { scratchDir } from './archive-builder.js';
import { BUILD_SCRIPT, buildTestImage } from './test-image.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('build-test-image.sh', () => {
  test('builds byte-identical archives twice, so the image digests are stable', async (t) => {
    const dir = scratchDir(t);
    for (const format of ['oci', 'docker'] as const) {
      const a = await buildTestImage(dir, format, `${format}-a.tar`);
      const b = await buildTestImage(dir, format, `${format}-b.tar`);
      assert.equal(sha256(a.path), sha256(b.path), format);
      assert.equal(a.id, b.id);
      assert.match(a.id ?? '', /^sha256:[0-9a-f]{64}$/);
    }
  });

  test('the rootfs holds busybox with an applet link each, the users and the empty mount points', async (t) => {
    const dir = scratchDir(t);
    const { path } = await buildTestImage(dir, 'rootfs');
    assert.deepEqual(readdirSync(path).sort(), ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp', 'var']);
    const applets = readdirSync(join(path, 'bin')).filter((n) => n !== 'busybox');
    assert.ok(applets.length > 100, `${applets.length} applets`);
    for (const a of applets) assert.equal(readlinkSync(join(path, 'bin', a)), 'busybox');
    assert.equal(
      readFileSync(join(path, 'etc/passwd'), 'utf8'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n',
    );
    assert.equal(lstatSync(join(path, 'home/app')).uid, 1000);
    assert.equal(lstatSync(join(path, 'bin/busybox')).mtime.toISOString(), '2024-01-01T00:00:00.000Z');
  });

  test('refuses an unknown format and a non-empty rootfs target', async (t) => {
    const dir = scratchDir(t);
    const run = (...args: string[]) => promisify(execFile)('bash', [BUILD_SCRIPT, ...args]);
    await assert.rejects(run(join(dir, 'x'), '--format', 'zip'), /unknown format: zip/);
    await assert.rejects(run(), /usage:/);
    writeFileSync(join(dir, 'something'), '');
    await assert.rejects(run(dir, '--format', 'rootfs'), /exists and is not empty/);
  });
});
