// Sequential byte sources for the tar reader: a stream (a layer, decompressed on the
// fly) or a file read at offsets (an outer archive, whose entries are skipped without
// reading them).
import type { FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Bytes consumed so far (read or skipped). */
  readonly position: number;
  /** Between 1 and `max` bytes, or null at the end. */
  read(max: number): Promise<Buffer | null>;
  /** Exactly `n` bytes; null when the source ends before the first byte; throws `truncated()` when it ends inside. */
  readExact(n: number): Promise<Buffer | null>;
  /** Advances `n` bytes; throws `truncated()` when the source ends first. */
  skip(n: number): Promise<void>;
}

export class TruncatedError extends Error {
  constructor(readonly at: number) {
    super(`unexpected end of data at byte ${at}`);
    this.name = 'TruncatedError';
  }
}

/** Chunks of an async iterable (a decompressing stream), buffered as little as possible. */
export class StreamByteSource implements ByteSource {
  private pending: Buffer | null = null;
  private ended = false;
  position = 0;

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  async read(max: number): Promise<Buffer | null> {
    while (!this.pending || this.pending.length === 0) {
      if (this.ended) return null;
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        return null;
      }
      this.pending = next.value;
    }
    const out = this.pending.length <= max ? this.pending : this.pending.subarray(0, max);
    this.pending = this.pending.length <= max ? null : this.pending.subarray(max);
    this.position += out.length;
    return out;
  }

  async readExact(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.read(n - got);
      if (!b) {
        if (got === 0) return null;
        throw new TruncatedError(this.position);
      }
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const b = await this.read(Math.min(left, 1 << 20));
      if (!b) throw new TruncatedError(this.position);
      left -= b.length;
    }
  }

  /** Reads what is left (so that a hash over the stream sees every byte). */
  async drain(): Promise<number> {
    let n = 0;
    for (let b = await this.read(1 << 20); b; b = await this.read(1 << 20)) n += b.length;
    return n;
  }
}

/** A file read at offsets: skipping costs nothing. */
export class FileByteSource implements ByteSource {
  position = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly size: number,
  ) {}

  async read(max: number): Promise<Buffer | null> {
    const n = Math.min(max, this.size - this.position, 1 << 20);
    if (n <= 0) return null;
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await this.file.read(buf, 0, n, this.position);
    if (bytesRead === 0) throw new TruncatedError(this.position);
    this.position += bytesRead;
    return bytesRead === n ? buf : buf.subarray(0, bytesRead);
  }

  async readExact(n: number): Promise<Buffer | null> {
    if (this.position >= this.size) return null;
    if (this.position + n > this.size) throw new TruncatedError(this.size);
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await this.file.read(buf, got, n - got, this.position + got);
      if (bytesRead === 0) throw new TruncatedError(this.position + got);
      got += bytesRead;
    }
    this.position += n;
    return buf;
  }

  async skip(n: number): Promise<void> {
    if (this.position + n > this.size) throw new TruncatedError(this.size);
    this.position += n;
  }
}
