// Reads a layer blob once, hashing it twice on the way: the bytes as stored (the blob
// digest of the manifest) and the uncompressed tar (the config's diff id). Compression
// is recognised from the bytes (gzip or none; zstd is refused), not from media types,
// which some tools get wrong.
//
//   file bytes -> sha256 (blob) -> [gunzip] -> sha256 (diff id) -> tar reader -> unpack
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StreamByteSource } from './byte-source.js';
import { SHA256_PREFIX } from './digest.js';
import { IMAGE_ERRORS, imageFailure, type ImageLocation } from './image-errors.js';

export interface LayerDigests {
  /** sha256 of the bytes as read. */
  readonly blobDigest: string;
  readonly blobSize: number;
  /** sha256 of the uncompressed tar. */
  readonly diffId: string;
}

export type LayerRead<T> = { readonly value: T } & LayerDigests;

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

async function* hashing(chunks: AsyncIterable<Buffer>, hash: Hash, count: { n: number }): AsyncGenerator<Buffer> {
  for await (const c of chunks) {
    hash.update(c);
    count.n += c.length;
    yield c;
  }
}

function startsWith(b: Buffer, magic: number[]): boolean {
  return b.length >= magic.length && magic.every((m, i) => b[i] === m);
}

/** The first bytes of a stream (to recognise compression) and the whole stream again. */
async function peek(chunks: AsyncIterator<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncGenerator<Buffer> }> {
  const seen: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await chunks.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(r.value);
    size += r.value.length;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* seen;
    if (done) return;
    for (let r = await chunks.next(); !r.done; r = await chunks.next()) yield r.value;
  }
  return { head: Buffer.concat(seen).subarray(0, n), all: all() };
}

/**
 * Runs `consume` over the uncompressed tar of `raw`, then reads whatever it left (tar
 * padding) so that both digests cover every byte. `raw` is destroyed on failure.
 */
export async function readLayer<T>(raw: Readable, at: ImageLocation, consume: (src: StreamByteSource) => Promise<T>): Promise<LayerRead<T>> {
  const blobHash = createHash('sha256');
  const tarHash = createHash('sha256');
  const blobCount = { n: 0 };
  const tarCount = { n: 0 };
  let gunzip: ReturnType<typeof createGunzip> | undefined;
  try {
    const { head, all } = await peek(hashing(raw, blobHash, blobCount)[Symbol.asyncIterator](), 4);
    if (startsWith(head, ZSTD_MAGIC)) throw imageFailure(IMAGE_ERRORS.unsupported, at, 'zstd-compressed layers are not supported yet');
    let plain: AsyncIterable<Buffer> = all;
    if (startsWith(head, GZIP_MAGIC)) {
      gunzip = createGunzip();
      plain = pipeline(Readable.from(all), gunzip, () => {});
    }
    const src = new StreamByteSource(hashing(plain, tarHash, tarCount)[Symbol.asyncIterator]());
    const value = await consume(src);
    await src.drain();
    return {
      value,
      blobDigest: SHA256_PREFIX + blobHash.digest('hex'),
      blobSize: blobCount.n,
      diffId: SHA256_PREFIX + tarHash.digest('hex'),
    };
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('Z_')) {
      throw imageFailure(IMAGE_ERRORS.invalid, at, `corrupt gzip data: ${(e as Error).message}`);
    }
    throw e;
  } finally {
    gunzip?.destroy();
    raw.destroy();
  }
}
