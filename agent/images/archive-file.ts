// An outer image archive (OCI layout tar or `docker save` tar) opened for random access:
// one pass over the headers builds an index of its members, then blobs and layers are
// read at their offsets without unpacking the archive. A gzip-compressed archive
// (`docker save | gzip`) is first decompressed into the store's scratch directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { AgentFailure } from '../rpc/failure.js';
import { FileByteSource } from './byte-source.js';
import { IMAGE_ERRORS, imageFailure } from './image-errors.js';
import { readTar, type TarEntryType } from './tar-reader.js';

interface Member {
  readonly type: TarEntryType;
  readonly offset: number;
  readonly size: number;
  readonly linkname: string;
}

const MAX_LINK_HOPS = 16;

/** `./blobs//sha256/x` -> `blobs/sha256/x`; null for names that leave the archive. */
export function normaliseMemberName(name: string): string | null {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return null;
    parts.push(p);
  }
  return parts.join('/');
}

function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a directory, not an archive file';
  return err.message;
}

export class ArchiveFile {
  private constructor(
    /** The archive as the user named it (for messages). */
    readonly path: string,
    /** The file actually read (a decompressed copy for gzip archives). */
    private readonly readPath: string,
    private readonly file: FileHandle,
    private readonly members: ReadonlyMap<string, Member>,
    private readonly scratch: string | undefined,
  ) {}

  /**
   * Opens and indexes `path`. `scratchFile` receives the decompressed archive when it is
   * gzip-compressed (removed by close()).
   */
  static async open(path: string, scratchFile: string): Promise<ArchiveFile> {
    let readPath = path;
    let scratch: string | undefined;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new AgentFailure(IMAGE_ERRORS.source, `image archive ${path} is not a regular file`);
      if (await isGzip(path)) {
        await pipeline(createReadStream(path), createGunzip(), createWriteStream(scratchFile, { mode: 0o600 }));
        readPath = scratch = scratchFile;
      }
    } catch (e) {
      if (scratch === undefined) await rm(scratchFile, { force: true });
      if (e instanceof AgentFailure) throw e;
      const zlib = (e as { code?: string }).code?.startsWith('Z_');
      throw new AgentFailure(
        IMAGE_ERRORS.source,
        `cannot read image archive ${path}: ${zlib ? `corrupt gzip data (${(e as Error).message})` : describeFsError(e)}`,
      );
    }
    let file: FileHandle | undefined;
    try {
      file = await open(readPath, 'r');
      const size = (await file.stat()).size;
      const members = new Map<string, Member>();
      const src = new FileByteSource(file, size);
      for await (const entry of readTar(src, { archive: path })) {
        const name = normaliseMemberName(entry.name);
        if (name === null || name === '') continue;
        members.set(name, { type: entry.type, offset: entry.dataOffset, size: entry.size, linkname: entry.linkname });
      }
      return new ArchiveFile(path, readPath, file, members, scratch);
    } catch (e) {
      await file?.close();
      if (scratch !== undefined) await rm(scratch, { force: true });
      if (e instanceof AgentFailure) throw e;
      throw new AgentFailure(IMAGE_ERRORS.source, `cannot read image archive ${path}: ${describeFsError(e)}`);
    }
  }

  async close(): Promise<void> {
    await this.file.close();
    if (this.scratch !== undefined) await rm(this.scratch, { force: true });
  }

  has(name: string): boolean {
    return this.lookup(name, false) !== undefined;
  }

  /** Size in bytes of a member (a file, after links are followed). */
  size(name: string): number {
    return this.member(name).size;
  }

  /** A member's content, at most `max` bytes (manifests and configs, not layers). */
  async readSmall(name: string, max = 4 << 20): Promise<Buffer> {
    const m = this.member(name);
    if (m.size > max) throw imageFailure(IMAGE_ERRORS.invalid, { archive: this.path, entry: name }, `is ${m.size} bytes, more than the ${max} expected`);
    const buf = Buffer.alloc(m.size);
    let got = 0;
    while (got < m.size) {
      const { bytesRead } = await this.file.read(buf, got, m.size - got, m.offset + got);
      if (bytesRead === 0) throw imageFailure(IMAGE_ERRORS.invalid, { archive: this.path, entry: name }, 'is truncated');
      got += bytesRead;
    }
    return buf;
  }

  /** A stream of a member's content (layers). */
  stream(name: string): Readable {
    const m = this.member(name);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.readPath, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
  }

  private member(name: string): Member {
    const m = this.lookup(name, true);
    if (!m) throw imageFailure(IMAGE_ERRORS.invalid, { archive: this.path }, `has no member ${JSON.stringify(name)} (referenced by its manifest)`);
    return m;
  }

  /** Follows symbolic and hard links (docker save links shared layers) within the archive. */
  private lookup(name: string, strict: boolean): Member | undefined {
    let current = normaliseMemberName(name);
    for (let hop = 0; current !== null && hop < MAX_LINK_HOPS; hop++) {
      const m = this.members.get(current);
      if (!m) return undefined;
      if (m.type === 'file') return m;
      if (m.type === 'symlink') current = m.linkname.startsWith('/') ? null : normaliseMemberName(posix.join(posix.dirname(current), m.linkname));
      else if (m.type === 'hardlink') current = normaliseMemberName(m.linkname);
      else if (strict) throw imageFailure(IMAGE_ERRORS.invalid, { archive: this.path, entry: name }, `is a ${m.type}, not a file`);
      else return undefined;
    }
    if (strict) throw imageFailure(IMAGE_ERRORS.invalid, { archive: this.path, entry: name }, 'is a link that leads outside the archive or loops');
    return undefined;
  }
}

async function isGzip(path: string): Promise<boolean> {
  const f = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await f.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await f.close();
  }
}
