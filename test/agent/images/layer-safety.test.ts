// Hostile layers: members that would write outside the layer, device nodes, overlayfs
// xattrs. Each is refused with E_IMAGE_UNSAFE naming the archive, the layer and the
// member; nothing is written outside, and the store is left as it was.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readFileCapabilities } from '../../../agent/images/file-capabilities.js';
import { ImageStore } from '../../../agent/images/image-store.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { dockerArchive, ociArchive, scratchDir, writeArchive } from './archive-builder.js';
import { RecordingLog } from './recording-log.js';
import { EMPTY_STORE, storeContents } from './store-contents.js';
import { tar, type TarMember } from './tar-writer.js';

interface Case {
  readonly name: string;
  /** Members of the hostile layer; `OUT` stands for a directory outside the store. */
  readonly members: (out: string) => TarMember[];
  readonly entry: string | ((out: string) => string);
  readonly why: RegExp;
}

const CASES: Case[] = [
  { name: 'a ../ path', members: () => [{ name: '../escaped', data: 'x' }], entry: '../escaped', why: /path with "\.\."/ },
  { name: 'a ../ path in the middle', members: () => [{ name: 'a/../../escaped', data: 'x' }], entry: 'a/../../escaped', why: /path with "\.\."/ },
  { name: 'an absolute path', members: (out) => [{ name: `${out}/escaped`, data: 'x' }], entry: (out) => `${out}/escaped`, why: /absolute path/ },
  { name: 'an absolute /etc path', members: () => [{ name: '/etc/tsit-escaped', data: 'x' }], entry: '/etc/tsit-escaped', why: /absolute path/ },
  {
    name: 'a file under a symlink to an outside directory',
    members: (out) => [
      { name: 'link', type: 'symlink', linkname: out },
      { name: 'link/escaped', data: 'x' },
    ],
    entry: 'link/escaped',
    why: /below link, a symbolic link in this layer/,
  },
  {
    name: 'a file under a relative symlink climbing out',
    members: () => [
      { name: 'a/', type: 'dir' },
      { name: 'a/up', type: 'symlink', linkname: '../../../../../../../..' },
      { name: 'a/up/tmp/escaped', data: 'x' },
    ],
    entry: 'a/up/tmp/escaped',
    why: /below a\/up, a symbolic link/,
  },
  {
    name: 'a directory replaced by a symlink, then written into',
    members: (out) => [
      { name: 'd/', type: 'dir' },
      { name: 'd', type: 'symlink', linkname: out },
      { name: 'd/escaped', data: 'x' },
    ],
    entry: 'd/escaped',
    why: /below d, a symbolic link/,
  },
  {
    name: 'a hard link to a file outside',
    members: (out) => [{ name: 'hl', type: 'hardlink', linkname: `${out}/secret` }],
    entry: 'hl',
    why: /hard link to .*absolute path/,
  },
  {
    name: 'a hard link with ..',
    members: () => [{ name: 'hl', type: 'hardlink', linkname: '../secret' }],
    entry: 'hl',
    why: /hard link to .*"\.\."/,
  },
  {
    name: 'a hard link through a symlinked directory',
    members: (out) => [
      { name: 'l', type: 'symlink', linkname: out },
      { name: 'hl', type: 'hardlink', linkname: 'l/secret' },
    ],
    entry: 'hl',
    why: /hard link through l, a symbolic link/,
  },
  {
    name: 'a character device',
    members: () => [{ name: 'dev/mem', type: 'char', devmajor: 1, devminor: 1 }],
    entry: 'dev/mem',
    why: /char device node \(1:1\)/,
  },
  { name: 'a block device', members: () => [{ name: 'sda', type: 'block', devmajor: 8, devminor: 0 }], entry: 'sda', why: /block device node \(8:0\)/ },
  {
    name: 'an overlayfs xattr',
    members: () => [{ name: 'd/', type: 'dir', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }],
    entry: 'd/',
    why: /sets trusted\.overlay\.redirect/,
  },
];

describe('hostile layers', () => {
  for (const c of CASES) {
    test(`refuses ${c.name}`, async (t) => {
      const dir = scratchDir(t);
      const out = join(dir, 'outside');
      mkdirSync(out);
      writeFileSync(join(out, 'secret'), 'secret');
      const root = join(dir, 'store');
      const store = new ImageStore(root, new RecordingLog());
      // A harmless first layer, so that a refused import must also remove what it completed.
      const good = tar([
        { name: 'etc/', type: 'dir' },
        { name: 'etc/os-release', data: 'ok' },
      ]);
      const bad = tar(c.members(out));
      const entry = typeof c.entry === 'string' ? c.entry : c.entry(out);
      for (const [kind, built] of [
        ['oci-archive', ociArchive([good, bad])],
        ['docker-archive', dockerArchive([good, bad])],
      ] as const) {
        const path = writeArchive(dir, `${kind}.tar`, built.archive);
        await assert.rejects(store.import(`${kind}:${path}`), (e: unknown) => {
          assert.ok(isAgentFailure(e), String(e));
          assert.equal(e.code, 'E_IMAGE_UNSAFE', e.message);
          assert.ok(e.message.startsWith(`archive ${path}, layer `), e.message);
          assert.ok(e.message.includes(`entry ${JSON.stringify(entry)}`), e.message);
          assert.match(e.message, c.why);
          return true;
        });
        assert.deepEqual(storeContents(root), EMPTY_STORE, `${kind}: store left clean`);
      }
      assert.ok(!existsSync(join(out, 'escaped')));
      assert.ok(!existsSync(join(dir, 'escaped')));
      assert.ok(!existsSync('/etc/tsit-escaped'));
      assert.equal(readFileSync(join(out, 'secret'), 'utf8'), 'secret');
    });
  }

  test('accepts what normal images hold: setuid files, absolute symlinks, hard links, fifos, file capabilities', async (t) => {
    const dir = scratchDir(t);
    const caps = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const layer = tar([
      { name: 'bin/', type: 'dir' },
      { name: 'bin/su', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/ping', data: 'ping', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': caps } },
      { name: 'bin/su2', type: 'hardlink', linkname: 'bin/su' },
      { name: 'etc/localtime', type: 'symlink', linkname: '/usr/share/zoneinfo/UTC' },
      { name: 'run/initctl', type: 'fifo', mode: 0o600 },
      { name: './var/./lib//x', data: 'normalised' },
      { name: 'var/lib/x', data: 'last member wins' },
    ]);
    const store = new ImageStore(join(dir, 'store'), new RecordingLog());
    const img = await store.import(`oci-archive:${writeArchive(dir, 'ok.tar', ociArchive([layer]).archive)}`);
    const fs = img.layers[0]!;
    assert.equal((statSync(join(fs, 'bin/su')).mode & 0o7777).toString(8), '4755');
    assert.equal(statSync(join(fs, 'bin/su2')).ino, statSync(join(fs, 'bin/su')).ino);
    assert.equal(readlinkSync(join(fs, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
    assert.ok(lstatSync(join(fs, 'run/initctl')).isFIFO());
    assert.equal(readFileSync(join(fs, 'var/lib/x'), 'utf8'), 'last member wins');
    assert.deepEqual(readFileCapabilities(join(fs, 'bin/ping')), caps);
  });
});
