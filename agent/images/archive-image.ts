// What an archive reader (OCI layout or docker save) hands to the store: the verified
// manifest and config, and where each layer is with the digests it must hash to.
import { sha256Digest } from './digest.js';
import { IMAGE_ERRORS, imageFailure, type ImageLocation } from './image-errors.js';
import type { ParsedImageConfig } from './image-config.js';

export interface ArchiveLayer {
  /** The member of the archive holding the layer (for reading, and for messages). */
  readonly member: string;
  /** sha256 of the member's bytes as stored (compressed or not), when the archive says. */
  readonly blobDigest?: string;
  readonly blobSize?: number;
  /** sha256 of the uncompressed tar, from the image config. */
  readonly diffId: string;
}

export interface ArchiveImage {
  /** The manifest's digest: the image's digest where the archive has a manifest. */
  readonly manifestDigest?: string;
  readonly manifest?: Buffer;
  /** The image id. */
  readonly configDigest: string;
  readonly config: Buffer;
  readonly parsed: ParsedImageConfig;
  /** Lowest first, one per diff id. */
  readonly layers: ArchiveLayer[];
}

export function digestMismatch(at: ImageLocation, what: string, expected: string, actual: string): Error {
  return imageFailure(
    IMAGE_ERRORS.digest,
    at,
    `${what} hashes to ${actual} but ${expected} was expected; the archive is corrupt or was modified after it was made`,
  );
}

/** Checks a small blob against its descriptor. */
export function verifyBlob(at: ImageLocation, what: string, bytes: Buffer, expected: string, expectedSize?: number): void {
  if (expectedSize !== undefined && bytes.length !== expectedSize) {
    throw imageFailure(IMAGE_ERRORS.digest, at, `${what} is ${bytes.length} bytes but its descriptor says ${expectedSize}`);
  }
  const actual = sha256Digest(bytes);
  if (actual !== expected) throw digestMismatch(at, what, expected, actual);
}

export function parseJson(bytes: Buffer, at: ImageLocation, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw imageFailure(IMAGE_ERRORS.invalid, at, `${what} is not JSON: ${(e as Error).message}`);
  }
}
