// Content digests ("sha256:<64 hex>"), the only algorithm OCI images use in practice.
import { createHash } from 'node:crypto';

export const SHA256_PREFIX = 'sha256:';
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isSha256Digest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function sha256Digest(data: Buffer | string): string {
  return SHA256_PREFIX + createHash('sha256').update(data).digest('hex');
}

/** The hex part of a digest already checked with isSha256Digest. */
export function digestHex(digest: string): string {
  if (!isSha256Digest(digest)) throw new Error(`bug: not a sha256 digest: ${digest}`);
  return digest.slice(SHA256_PREFIX.length);
}

/** `sha256:abcdef012345` for messages and progress lines. */
export function shortDigest(digest: string): string {
  return digest.slice(0, SHA256_PREFIX.length + 12);
}
