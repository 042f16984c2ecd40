// The stable error codes of image handling. Every message names the source (archive or
// directory), and for content problems the layer and the entry, so that the user can
// find the culprit without reading agent logs.
import { AgentFailure } from '../rpc/failure.js';

export const IMAGE_ERRORS = {
  /** The archive or directory is missing, unreadable, or not what its prefix says. */
  source: 'E_IMAGE_SOURCE',
  /** The archive's structure is wrong: bad JSON, missing blob, malformed tar. */
  invalid: 'E_IMAGE_INVALID',
  /** A blob or a layer does not hash to the digest its manifest or config gives. */
  digest: 'E_IMAGE_DIGEST',
  /** A layer would write outside its directory, or holds a device node. */
  unsafe: 'E_IMAGE_UNSAFE',
  /** No image in the archive matches the wanted platform. */
  platform: 'E_IMAGE_PLATFORM',
  /** Registry pulls, zstd layers and other things this agent does not do (yet). */
  unsupported: 'E_UNSUPPORTED',
  /** Unpacking failed on the host side (disk full, ...). */
  unpack: 'E_IMAGE_UNPACK',
} as const;

/** Where in an image a content problem is: the archive, and the layer and entry when known. */
export interface ImageLocation {
  readonly archive: string;
  readonly layer?: string;
  readonly entry?: string;
}

export function describeLocation(at: ImageLocation): string {
  const parts = [`archive ${at.archive}`];
  if (at.layer !== undefined) parts.push(`layer ${at.layer}`);
  if (at.entry !== undefined) parts.push(`entry ${JSON.stringify(at.entry)}`);
  return parts.join(', ');
}

export function imageFailure(code: string, at: ImageLocation, message: string): AgentFailure {
  return new AgentFailure(code, `${describeLocation(at)}: ${message}`);
}

export function unsafeEntry(at: ImageLocation, why: string): AgentFailure {
  return imageFailure(IMAGE_ERRORS.unsafe, at, `${why}; the image is refused (nothing was stored)`);
}
