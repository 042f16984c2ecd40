// The strict tar reader: ustar, pax and GNU long names, base-256 numbers, and errors
// for what it must not guess about.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { StreamByteSource } from '../../../agent/images/byte-source.js';
import { readEntryData, readTar, type TarEntry } from '../../../agent/images/tar-reader.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { scratchDir } from './archive-builder.js';
import { tar } from './tar-writer.js';

interface Read extends Omit<TarEntry, 'xattrs' | 'dataOffset'> {
  data: string;
  xattrs: Record<string, string>;
}

/** Reads every entry with its data, feeding the reader in small uneven chunks. */
async function readAll(archive: Buffer, chunk = 333): Promise<Read[]> {
  async function* chunks() {
    for (let i = 0; i < archive.length; i += chunk) yield archive.subarray(i, i + chunk);
  }
  const src = new StreamByteSource(chunks());
  const out: Read[] = [];
  const where = { archive: 'test.tar', layer: 'l0' };
  for await (const e of readTar(src, where)) {
    const parts: Buffer[] = [];
    for await (const c of readEntryData(src, e, where)) parts.push(c);
    const { xattrs, dataOffset: _offset, ...rest } = e;
    out.push({ ...rest, data: Buffer.concat(parts).toString(), xattrs: Object.fromEntries([...xattrs].map(([k, v]) => [k, v.toString()])) });
  }
  return out;
}

async function rejectsInvalid(archive: Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(readAll(archive), (e: unknown) => {
    assert.ok(isAgentFailure(e), String(e));
    assert.equal(e.code, 'E_IMAGE_INVALID');
    assert.match(e.message, pattern);
    assert.match(e.message, /archive test\.tar, layer l0/);
    return true;
  });
}

describe('tar reader', () => {
  test('reads ustar members of every type with their metadata', async () => {
    const entries = await readAll(
      tar([
        { name: 'dir/', type: 'dir', mode: 0o750, uid: 1000, gid: 1000 },
        { name: 'dir/file', data: 'hello', mode: 0o4755, mtime: 1234 },
        { name: 'dir/link', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'dir/hard', type: 'hardlink', linkname: 'dir/file' },
        { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3 },
        { name: 'pipe', type: 'fifo' },
      ]),
    );
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode.toString(8), e.uid, e.data, e.linkname]),
      [
        ['dir/', 'directory', '750', 1000, '', ''],
        ['dir/file', 'file', '4755', 0, 'hello', ''],
        ['dir/link', 'symlink', '644', 0, '', '/etc/passwd'],
        ['dir/hard', 'hardlink', '644', 0, '', 'dir/file'],
        ['dev/null', 'char', '644', 0, '', ''],
        ['pipe', 'fifo', '644', 0, '', ''],
      ],
    );
    assert.equal(entries[1]!.mtime, 1234);
    assert.deepEqual([entries[4]!.devmajor, entries[4]!.devminor], [1, 3]);
  });

  test('applies pax records: long path, linkpath, size, ids, fractional mtime, xattrs', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
    const [file, link] = await readAll(
      tar([
        { name: long, data: 'x'.repeat(700), pax: { uid: '70000', gid: '70001', mtime: '1700000000.75', 'SCHILY.xattr.user.note': 'hi' } },
        { name: 'l', type: 'symlink', pax: { linkpath: 'z'.repeat(150) } },
      ]),
    );
    assert.equal(file!.name, long);
    assert.equal(file!.data.length, 700);
    assert.deepEqual([file!.uid, file!.gid, file!.mtime], [70000, 70001, 1700000000]);
    assert.deepEqual(file!.xattrs, { 'user.note': 'hi' });
    assert.equal(link!.linkname, 'z'.repeat(150));
  });

  test('reads GNU long names and base-256 numbers', async () => {
    const long = `${'a'.repeat(150)}/b`;
    const [e] = await readAll(tar([{ name: long, gnuLongName: true, data: 'abc', uid: 8 ** 8 + 5 }]));
    assert.equal(e!.name, long);
    assert.equal(e!.uid, 8 ** 8 + 5);
    assert.equal(e!.data, 'abc');
  });

  test('reads what GNU tar writes in gnu and posix formats (long names, pax xattrs)', async (t) => {
    const dir = scratchDir(t);
    const root = join(dir, 'root');
    const deep = join(root, 'x'.repeat(80), 'y'.repeat(80));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'z'.repeat(120)), 'deep');
    symlinkSync('z'.repeat(120), join(root, 'to-deep'));
    for (const format of ['gnu', 'posix']) {
      const file = join(dir, `${format}.tar`);
      execFileSync('tar', ['--format', format, '--sort=name', '-C', root, '-cf', file, '.']);
      const entries = await readAll(readFileSync(file), 4096);
      const leaf = entries.find((e) => e.name.endsWith('z'.repeat(120)));
      assert.ok(leaf, `${format}: long member name read`);
      assert.equal(leaf.data, 'deep');
      assert.equal(entries.find((e) => e.name.endsWith('to-deep'))?.linkname, 'z'.repeat(120));
    }
  });

  test('skips unread data and stops at the end-of-archive blocks', async () => {
    const archive = Buffer.concat([
      tar([
        { name: 'a', data: 'A'.repeat(1000) },
        { name: 'b', data: 'B' },
      ]),
      Buffer.from('trailing garbage'),
    ]);
    const src = new StreamByteSource(
      (async function* () {
        yield archive;
      })(),
    );
    const names: string[] = [];
    for await (const e of readTar(src, { archive: 'test.tar' })) names.push(e.name);
    assert.deepEqual(names, ['a', 'b']);
  });

  test('refuses a corrupt header, a truncated member, sparse files and unknown types', async () => {
    const good = tar([{ name: 'file', data: 'hello world' }]);
    const corrupt = Buffer.from(good);
    corrupt[10] = 0x41;
    await rejectsInvalid(corrupt, /checksum mismatch/);
    await rejectsInvalid(good.subarray(0, 512 + 5), /unexpected end of data/);
    await rejectsInvalid(tar([{ name: 's', data: 'x', pax: { 'GNU.sparse.major': '1' } }]), /sparse files are not supported/);
    const vendor = Buffer.from(good);
    vendor[156] = 'S'.charCodeAt(0);
    // Re-checksum so that only the type is wrong.
    vendor.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += vendor[i]!;
    vendor.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await rejectsInvalid(vendor, /unsupported entry type "S"/);
  });
});
