// A strict, streaming tar reader: ustar, GNU (long names 'L'/'K', base-256 numbers) and
// pax ('x' records: path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*). Sparse and
// multi-volume entries are refused rather than misread. Entries come one at a time; the
// reader skips whatever the caller leaves unread of an entry's data.
import type { ByteSource } from './byte-source.js';
import { TruncatedError } from './byte-source.js';
import { IMAGE_ERRORS, imageFailure, type ImageLocation } from './image-errors.js';
import { BLOCK, decodeHeader, isZeroBlock, parsePaxRecords, paxNumber, TarFormatError } from './tar-header.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarEntry {
  /** The member name as stored (pax or GNU long name applied), not yet normalised. */
  readonly name: string;
  readonly type: TarEntryType;
  readonly linkname: string;
  /** Permission bits including setuid, setgid and sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** Offset of the data in the source (for random access into an uncompressed archive). */
  readonly dataOffset: number;
}

/** Longest pax or GNU long-name body accepted (they are held in memory). */
const MAX_META_BYTES = 1 << 20;

const TYPES: Readonly<Record<string, TarEntryType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

const XATTR_PREFIX = 'SCHILY.xattr.';

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function nulTerminated(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul === -1 ? b.length : nul).toString('utf8');
}

/**
 * The entries of a tar archive. `src` must not be read by anyone else between entries,
 * except for the current entry's data through `readEntryData`.
 */
export async function* readTar(src: ByteSource, where: ImageLocation): AsyncGenerator<TarEntry> {
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let current: string | undefined;
  const fail = (e: unknown): never => {
    if (e instanceof TarFormatError || e instanceof TruncatedError) {
      const at = current === undefined ? where : { ...where, entry: current };
      throw imageFailure(IMAGE_ERRORS.invalid, at, `malformed tar: ${e.message}`);
    }
    throw e;
  };
  for (;;) {
    let block: Buffer | null;
    try {
      block = await src.readExact(BLOCK);
    } catch (e) {
      return fail(e);
    }
    // End of archive: a zero block (two, normally), or the end of the data.
    if (!block || isZeroBlock(block)) {
      if (pax || longName !== undefined || longLink !== undefined) fail(new TarFormatError('archive ends after an extended header'));
      return;
    }
    try {
      const h = decodeHeader(block);
      current = longName ?? h.name;
      if (h.typeflag === 'x' || h.typeflag === 'L' || h.typeflag === 'K' || h.typeflag === 'g') {
        if (h.size > MAX_META_BYTES) throw new TarFormatError(`extended header of ${h.size} bytes is too large`);
        const body = (await src.readExact(h.size)) ?? Buffer.alloc(0);
        if (body.length !== h.size) throw new TruncatedError(src.position);
        await src.skip(padding(h.size));
        // Global pax headers ('g') carry defaults nobody relies on in images: read and ignored.
        if (h.typeflag === 'x') pax = parsePaxRecords(body);
        else if (h.typeflag === 'L') longName = nulTerminated(body);
        else if (h.typeflag === 'K') longLink = nulTerminated(body);
        continue;
      }
      let type = TYPES[h.typeflag];
      if (!type) throw new TarFormatError(`unsupported entry type ${JSON.stringify(h.typeflag)} (sparse, multi-volume or vendor extension)`);
      let name = longName ?? h.name;
      let linkname = longLink ?? h.linkname;
      let { size, uid, gid, mtime } = h;
      const xattrs = new Map<string, Buffer>();
      if (pax) {
        for (const [key, value] of pax) {
          if (key === 'path') name = value.toString('utf8');
          else if (key === 'linkpath') linkname = value.toString('utf8');
          else if (key === 'size') size = paxNumber(value, key);
          else if (key === 'uid') uid = paxNumber(value, key);
          else if (key === 'gid') gid = paxNumber(value, key);
          else if (key === 'mtime') mtime = Math.floor(paxNumber(value, key, true));
          else if (key.startsWith(XATTR_PREFIX)) xattrs.set(key.slice(XATTR_PREFIX.length), value);
          else if (key.startsWith('GNU.sparse.')) throw new TarFormatError('sparse files are not supported');
        }
      }
      current = name;
      // Old tars mark directories with a trailing slash on a regular-file entry.
      if (type === 'file' && h.typeflag !== '7' && name.endsWith('/')) type = 'directory';
      // Links, devices, directories and fifos have no data, whatever the size field says
      // (as Go's archive/tar reads them, which Docker and containerd use to write layers).
      const dataSize = type === 'file' ? size : 0;
      const entry: TarEntry = {
        name,
        type,
        linkname,
        mode: h.mode & 0o7777,
        uid,
        gid,
        size: dataSize,
        mtime,
        devmajor: h.devmajor,
        devminor: h.devminor,
        xattrs,
        dataOffset: src.position,
      };
      pax = undefined;
      longName = undefined;
      longLink = undefined;
      const start = src.position;
      yield entry;
      const consumed = src.position - start;
      if (consumed > dataSize) throw new Error(`bug: read ${consumed} bytes of a ${dataSize}-byte tar entry`);
      await src.skip(dataSize - consumed + padding(dataSize));
    } catch (e) {
      fail(e);
    }
  }
}

/** The data of the current entry, in chunks; call before asking readTar for the next entry. */
export async function* readEntryData(src: ByteSource, entry: TarEntry, where: ImageLocation): AsyncGenerator<Buffer> {
  let left = entry.size - (src.position - entry.dataOffset);
  while (left > 0) {
    const chunk = await src.read(Math.min(left, 1 << 20));
    if (!chunk) throw imageFailure(IMAGE_ERRORS.invalid, { ...where, entry: entry.name }, `malformed tar: ${new TruncatedError(src.position).message}`);
    left -= chunk.length;
    yield chunk;
  }
}
