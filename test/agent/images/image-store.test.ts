// The image store on real files: the busybox test image in each format, layer sharing,
// digest verification, removal, and the image config.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readFileCapabilities } from '../../../agent/images/file-capabilities.js';
import { ImageStore } from '../../../agent/images/image-store.js';
import { mknod } from '../../../agent/runtime/libc.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { dockerArchive, ociArchive, scratchDir, writeArchive } from './archive-builder.js';
import { RecordingLog } from './recording-log.js';
import { EMPTY_STORE, storeContents } from './store-contents.js';
import { tar } from './tar-writer.js';
import { buildTestImage } from './test-image.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function rejectsWith(p: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

function mode(path: string): string {
  return (lstatSync(path).mode & 0o7777).toString(8);
}

function checkBusybox(layer: string): void {
  const busybox = join(layer, 'bin/busybox');
  assert.ok(statSync(busybox).isFile());
  assert.equal(mode(busybox), '755');
  assert.equal(statSync(busybox).size, statSync('/bin/busybox').size);
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'sleep', 'ps', 'id', 'ping', 'nc', 'wget', 'head', 'env', 'hostname', 'true', 'kill', 'httpd']) {
    assert.equal(readlinkSync(join(layer, 'bin', applet)), 'busybox', applet);
  }
  assert.match(readFileSync(join(layer, 'etc/passwd'), 'utf8'), /^app:x:1000:1000:/m);
  assert.match(readFileSync(join(layer, 'etc/group'), 'utf8'), /^nogroup:x:65534:/m);
  assert.equal(statSync(join(layer, 'home/app')).uid, 1000);
  assert.equal(mode(join(layer, 'tmp')), '1777');
  for (const d of ['proc', 'sys', 'dev']) assert.deepEqual(readdirSync(join(layer, d)), [], d);
  assert.equal(statSync(join(layer, 'etc/hosts')).size, 0);
  assert.equal(mode(layer), '755');
}

describe('image store', () => {
  test('imports the test image as an OCI archive, a docker archive and a rootfs', async (t) => {
    const dir = scratchDir(t);
    const [oci, docker, rootfs] = await Promise.all([buildTestImage(dir, 'oci'), buildTestImage(dir, 'docker'), buildTestImage(dir, 'rootfs')]);
    const root = join(dir, 'store');
    const log = new RecordingLog();
    const store = new ImageStore(root, log);

    const a = await store.import(`oci-archive:${oci.path}`);
    assert.equal(a.id, oci.id);
    assert.equal(a.digest, oci.digest);
    assert.notEqual(a.digest, a.id);
    assert.equal(a.layers.length, 1);
    checkBusybox(a.layers[0]!);
    assert.deepEqual(a.config, { entrypoint: [], cmd: ['sh'], env: [DEFAULT_PATH], workingDir: '/', user: '' });
    assert.ok(a.sizeBytes >= statSync('/bin/busybox').size);

    // Same layer and config: the same image, nothing unpacked again.
    const b = await store.import(`docker-archive:${docker.path}`);
    assert.equal(b.id, a.id);
    assert.equal(b.digest, b.id, 'a docker archive has no manifest digest');
    assert.deepEqual(b.layers, a.layers);
    assert.equal(log.count(/unpacked layer/), 1);

    const c = await store.import(`rootfs:${rootfs.path}`);
    assert.equal(c.digest, c.id);
    assert.equal(c.layers.length, 1);
    checkBusybox(c.layers[0]!);
    assert.deepEqual(c.config, { entrypoint: [], cmd: [], env: [DEFAULT_PATH], workingDir: '/', user: '' });
    // Copied, not linked: the source may change.
    assert.notEqual(statSync(join(c.layers[0]!, 'bin/busybox')).ino, statSync(join(rootfs.path, 'bin/busybox')).ino);

    assert.deepEqual((await store.list()).map((i) => i.id).sort(), [a.id, c.id].sort());
    assert.equal((await store.get(a.id))?.source, `docker-archive:${docker.path}`);
    assert.equal(await store.get('sha256:' + '0'.repeat(64)), null);
    assert.equal(await store.get('nonsense'), null);

    // Private store: directories 0700, records 0600.
    for (const d of ['', 'layers', 'images', 'blobs', 'blobs/sha256', 'tmp', 'sources']) assert.equal(mode(join(root, d)), '700', d || 'root');
    for (const f of readdirSync(join(root, 'images'))) assert.equal(mode(join(root, 'images', f)), '600');
    assert.deepEqual(storeContents(root).tmp, []);
  });

  test('reads a gzip-compressed docker save archive', async (t) => {
    const dir = scratchDir(t);
    const docker = await buildTestImage(dir, 'docker');
    writeFileSync(`${docker.path}.gz`, execFileSync('gzip', ['-c', docker.path]));
    const store = new ImageStore(join(dir, 'store'), new RecordingLog());
    const img = await store.import(`docker-archive:${docker.path}.gz`);
    assert.equal(img.id, docker.id);
    checkBusybox(img.layers[0]!);
    assert.deepEqual(storeContents(join(dir, 'store')).tmp, [], 'the decompressed copy is removed');
  });

  test('honours the image config: entrypoint, cmd, env, working dir, user', async (t) => {
    const dir = scratchDir(t);
    const layer = tar([{ name: 'srv/', type: 'dir' }]);
    const config = { Entrypoint: ['/bin/app', '--serve'], Cmd: ['--port', '80'], Env: ['A=1', 'PATH=/bin'], WorkingDir: '/srv', User: 'app:app' };
    for (const [kind, built] of [
      ['oci-archive', ociArchive([layer], { config })],
      ['docker-archive', dockerArchive([layer], { config })],
    ] as const) {
      const store = new ImageStore(join(dir, `store-${kind}`), new RecordingLog());
      const img = await store.import(`${kind}:${writeArchive(dir, `${kind}.tar`, built.archive)}`);
      assert.deepEqual(
        img.config,
        { entrypoint: ['/bin/app', '--serve'], cmd: ['--port', '80'], env: ['A=1', 'PATH=/bin'], workingDir: '/srv', user: 'app:app' },
        kind,
      );
      assert.equal(img.id, built.id);
      assert.equal(img.digest, built.digest);
    }
  });

  test('shares layers between images, unpacks each once even concurrently, and collects unused ones on remove', async (t) => {
    const dir = scratchDir(t);
    const base = tar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/base', data: 'base' },
    ]);
    const top1 = tar([{ name: 'one', data: '1' }]);
    const top2 = tar([{ name: 'two', data: '2' }]);
    const one = writeArchive(dir, 'one.tar', ociArchive([base, top1]).archive);
    const two = writeArchive(dir, 'two.tar', dockerArchive([base, top2]).archive);
    const root = join(dir, 'store');
    const log = new RecordingLog();
    const store = new ImageStore(root, log);

    const [a, b] = await Promise.all([store.import(`oci-archive:${one}`), store.import(`docker-archive:${two}`)]);
    assert.equal(a.layers[0], b.layers[0], 'same base layer directory');
    assert.notEqual(a.layers[1], b.layers[1]);
    assert.equal(log.count(/unpacked layer/), 3, log.lines.join('\n'));
    assert.equal(readFileSync(join(a.layers[0]!, 'etc/base'), 'utf8'), 'base');
    assert.equal(storeContents(root).layers.length, 3);

    // A layer removed by hand: the image is gone for get (and a new import restores it).
    rmSync(join(a.layers[1]!, '..'), { recursive: true });
    assert.equal(await store.get(a.id), null);
    assert.deepEqual((await store.import(`oci-archive:${one}`)).layers, a.layers);
    assert.equal(log.count(/unpacked layer/), 4);
    assert.ok(await store.get(a.id));

    await store.remove(a.id);
    assert.equal(await store.get(a.id), null);
    assert.ok(existsSync(b.layers[0]!), 'the shared layer stays');
    assert.ok(!existsSync(a.layers[1]!), 'the unshared layer goes');
    assert.equal(storeContents(root).layers.length, 2);

    await store.remove(b.id);
    assert.deepEqual(storeContents(root), EMPTY_STORE);
  });

  test('users keep an image: release removes it with the last one', async (t) => {
    const dir = scratchDir(t);
    const path = writeArchive(dir, 'img.tar', ociArchive([tar([{ name: 'f', data: 'x' }])]).archive);
    const root = join(dir, 'store');
    const store = new ImageStore(root, new RecordingLog());
    const img = await store.import(`oci-archive:${path}`, { user: 'image-resource' });
    await store.import(`oci-archive:${path}`, { user: 'image-resource' });
    assert.equal(await store.acquire(img.id, 'container:0123456789abcdef'), true);
    assert.equal(await store.release(img.id, 'image-resource'), 'kept');
    assert.equal(await store.release(img.id, 'image-resource'), 'kept');
    assert.ok(await store.get(img.id), 'the container still uses it');
    assert.equal(await store.release(img.id, 'container:0123456789abcdef'), 'removed');
    assert.equal(await store.release(img.id, 'image-resource'), 'missing');
    assert.equal(await store.acquire(img.id, 'x'), false);
    assert.deepEqual(storeContents(root), EMPTY_STORE);
  });

  test('refuses blobs and layers that do not match their digests, leaving the store clean', async (t) => {
    const dir = scratchDir(t);
    const good = tar([{ name: 'ok', data: 'fine' }]);
    const layer = tar([{ name: 'f', data: 'original' }]);
    const root = join(dir, 'store');
    const store = new ImageStore(root, new RecordingLog());

    // A compressed blob replaced: the manifest's digest catches it (the good first layer goes too).
    const built = ociArchive([good, layer]);
    const blobName = (d: string) => `blobs/sha256/${d}`;
    let expected = '';
    const tampered = ociArchive([good, layer], {
      tamper: (files) => {
        const name = [...files.keys()].filter((n) => n.startsWith('blobs/')).at(-1)!;
        expected = `sha256:${name.slice(blobName('').length)}`;
        files.set(name, Buffer.concat([files.get(name)!, Buffer.alloc(0)]).reverse());
      },
    });
    assert.notEqual(built.archive.length, 0);
    const path = writeArchive(dir, 'tampered.tar', tampered.archive);
    await rejectsWith(
      store.import(`oci-archive:${path}`),
      'E_IMAGE_DIGEST',
      new RegExp(`archive ${path}`),
      new RegExp(expected),
      /hashes to sha256:[0-9a-f]{64}/,
    );
    assert.deepEqual(storeContents(root), EMPTY_STORE);

    // An uncompressed layer that differs from the config's diff id.
    const other = dockerArchive([good, layer], {
      tamper: (files) =>
        files.set(
          [...files.keys()].find((n) => n.startsWith('layer1'))!,
          tar([{ name: 'f', data: 'evil' }]),
        ),
    });
    const path2 = writeArchive(dir, 'other.tar', other.archive);
    await rejectsWith(
      store.import(`docker-archive:${path2}`),
      'E_IMAGE_DIGEST',
      /layer layer1-[0-9a-f]+\/layer\.tar/,
      new RegExp(`${other.diffIds[1]} was expected`),
      /the uncompressed layer hashes to sha256:/,
    );
    assert.deepEqual(storeContents(root), EMPTY_STORE);

    // A tampered config: its name is its digest.
    const cfg = ociArchive([good], {
      tamper: (files) => {
        for (const [name, data] of files) if (data.toString().includes('"rootfs"')) files.set(name, Buffer.from(data.toString().replace('"sh"', '"xx"')));
      },
    });
    await rejectsWith(store.import(`oci-archive:${writeArchive(dir, 'cfg.tar', cfg.archive)}`), 'E_IMAGE_DIGEST', /image config hashes to/);
    assert.deepEqual(storeContents(root), EMPTY_STORE);
  });

  test('refuses missing, unreadable or mislabelled sources with E_IMAGE_SOURCE, and registry references with E_UNSUPPORTED', async (t) => {
    const dir = scratchDir(t);
    const store = new ImageStore(join(dir, 'store'), new RecordingLog());
    const missing = join(dir, 'nope.tar');
    await rejectsWith(store.import(`oci-archive:${missing}`), 'E_IMAGE_SOURCE', new RegExp(`${missing}: no such file`));
    await rejectsWith(store.import(`rootfs:${join(dir, 'nodir')}`), 'E_IMAGE_SOURCE', /no such directory/);
    await rejectsWith(store.import(`docker-archive:${dir}`), 'E_IMAGE_SOURCE', /not a regular file/);
    await rejectsWith(store.import('oci-archive:relative/path.tar'), 'E_IMAGE_SOURCE', /absolute path/);
    const docker = writeArchive(dir, 'd.tar', dockerArchive([tar([{ name: 'f' }])]).archive);
    await rejectsWith(store.import(`oci-archive:${docker}`), 'E_IMAGE_SOURCE', /not an OCI image layout/, /use docker-archive: instead/);
    const oci = writeArchive(dir, 'o.tar', ociArchive([tar([{ name: 'f' }])]).archive);
    await rejectsWith(store.import(`docker-archive:${oci}`), 'E_IMAGE_SOURCE', /use oci-archive: instead/);
    writeFileSync(join(dir, 'junk.tar'), 'this is not a tar archive'.repeat(40));
    await rejectsWith(store.import(`oci-archive:${join(dir, 'junk.tar')}`), 'E_IMAGE_INVALID', /checksum mismatch/);
    await rejectsWith(
      store.import('docker.io/library/busybox:latest'),
      'E_UNSUPPORTED',
      /registry pulls are not supported.*oci-archive:, docker-archive: or rootfs:/,
    );
    assert.deepEqual(storeContents(join(dir, 'store')), EMPTY_STORE);
  });

  test('rootfs: keeps hard links and file capabilities, skips device nodes in dev/, refuses them elsewhere', async (t) => {
    const dir = scratchDir(t);
    const src = join(dir, 'rootfs');
    mkdirSync(join(src, 'dev'), { recursive: true });
    mkdirSync(join(src, 'bin'));
    writeFileSync(join(src, 'bin/ping'), 'ping');
    execFileSync('setcap', ['cap_net_raw+ep', join(src, 'bin/ping')]);
    linkSync(join(src, 'bin/ping'), join(src, 'bin/ping6'));
    mknod(join(src, 'dev/null'), 0o020666, 1, 3);
    const root = join(dir, 'store');
    const store = new ImageStore(root, new RecordingLog());
    const img = await store.import(`rootfs:${src}`);
    const fs = img.layers[0]!;
    assert.equal(statSync(join(fs, 'bin/ping6')).ino, statSync(join(fs, 'bin/ping')).ino);
    assert.deepEqual(readFileCapabilities(join(fs, 'bin/ping')), readFileCapabilities(join(src, 'bin/ping')));
    assert.ok(readFileCapabilities(join(fs, 'bin/ping')));
    assert.deepEqual(readdirSync(join(fs, 'dev')), []);
    await store.remove(img.id);

    mkdirSync(join(src, 'srv'));
    mknod(join(src, 'srv/mem'), 0o020600, 1, 1);
    await rejectsWith(store.import(`rootfs:${src}`), 'E_IMAGE_UNSAFE', new RegExp(`archive rootfs ${src}, entry "srv/mem"`), /char device node/);
    assert.deepEqual(storeContents(root), EMPTY_STORE);
  });

  test('picks the image for the wanted platform and refuses a mismatch', async (t) => {
    const dir = scratchDir(t);
    const path = writeArchive(dir, 'arm.tar', ociArchive([tar([{ name: 'f' }])], { architecture: 'riscv64' }).archive);
    const store = new ImageStore(join(dir, 'store'), new RecordingLog());
    await rejectsWith(store.import(`oci-archive:${path}`), 'E_IMAGE_PLATFORM', /holds no image for linux\/\w+ \(this host\); it has: linux\/riscv64/);
    const img = await store.import(`oci-archive:${path}`, { platform: 'linux/riscv64' });
    assert.equal(img.layers.length, 1);
    await rejectsWith(store.import(`oci-archive:${path}`, { platform: 'linux/s390x' }), 'E_IMAGE_PLATFORM');
  });
});
