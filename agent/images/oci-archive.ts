// `oci-archive:PATH`: an OCI image layout in a tar (oci-layout, index.json,
// blobs/sha256/<hex>), as `skopeo copy ... oci-archive:` or `docker buildx --output
// type=oci` write it. index.json -> (nested index ->) manifest -> config + layers; every
// blob is checked against its descriptor's digest and size before it is used.
import { z } from 'zod';
import { describeIssues } from '../rpc/zod-issues.js';
import type { ArchiveFile } from './archive-file.js';
import { parseJson, verifyBlob, type ArchiveImage, type ArchiveLayer } from './archive-image.js';
import { digestHex, isSha256Digest } from './digest.js';
import { parseImageConfig } from './image-config.js';
import { IMAGE_ERRORS, imageFailure, type ImageLocation } from './image-errors.js';
import { formatPlatform, hostPlatform, platformMatches, type Platform } from './platform.js';

const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
const INDEX_TYPES: readonly string[] = [MEDIA.ociIndex, MEDIA.dockerList];
const MANIFEST_TYPES: readonly string[] = [MEDIA.ociManifest, MEDIA.dockerManifest];

// Layer media types whose bytes are a tar, plain or gzip (detected from the bytes).
const TAR_LAYER_TYPES: readonly string[] = [
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
];

const descriptor = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  platform: z.looseObject({ os: z.string(), architecture: z.string(), variant: z.string().optional() }).optional(),
  annotations: z.record(z.string(), z.string()).nullish(),
  urls: z.array(z.string()).nullish(),
});
type Descriptor = z.infer<typeof descriptor>;

const indexSchema = z.looseObject({ schemaVersion: z.literal(2), mediaType: z.string().optional(), manifests: z.array(descriptor) });
const manifestSchema = z.looseObject({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptor,
  layers: z.array(descriptor),
});

const MAX_NESTING = 4;

function blobMember(d: Descriptor, at: ImageLocation): string {
  if (!isSha256Digest(d.digest)) {
    throw imageFailure(IMAGE_ERRORS.unsupported, at, `descriptor digest ${JSON.stringify(d.digest)} is not sha256 (the only algorithm this agent verifies)`);
  }
  return `blobs/sha256/${digestHex(d.digest)}`;
}

async function readBlob(archive: ArchiveFile, d: Descriptor, what: string): Promise<Buffer> {
  const at = { archive: archive.path };
  const member = blobMember(d, at);
  if (!archive.has(member)) throw imageFailure(IMAGE_ERRORS.invalid, at, `${what} blob ${member} is missing`);
  const bytes = await archive.readSmall(member);
  verifyBlob({ archive: archive.path, entry: member }, what, bytes, d.digest, d.size);
  return bytes;
}

function parseWith<S extends z.ZodType>(schema: S, bytes: Buffer, at: ImageLocation, what: string): z.output<S> {
  const parsed = schema.safeParse(parseJson(bytes, at, what));
  if (!parsed.success) throw imageFailure(IMAGE_ERRORS.invalid, at, `invalid ${what}: ${describeIssues(parsed.error, what)}`);
  return parsed.data;
}

function refName(d: Descriptor): string {
  return d.annotations?.['org.opencontainers.image.ref.name'] ?? d.digest;
}

/** BuildKit stores attestations as manifests for platform unknown/unknown: never images. */
function isAttestation(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest' || d.platform?.os === 'unknown';
}

/** Picks the one manifest (or nested index) of an index for the platform. */
function choose(archive: ArchiveFile, list: Descriptor[], want: Platform | undefined, what: string): Descriptor {
  const at = { archive: archive.path };
  const candidates = list.filter(
    (d) => !isAttestation(d) && (d.mediaType === undefined || INDEX_TYPES.includes(d.mediaType) || MANIFEST_TYPES.includes(d.mediaType)),
  );
  if (candidates.length === 0) throw imageFailure(IMAGE_ERRORS.invalid, at, `${what} lists no image manifest`);
  const target = want ?? hostPlatform();
  let matched = candidates.filter((d) => d.platform && platformMatches(target, d.platform));
  // A lone image that does not say its platform is taken; its config is checked later.
  if (matched.length === 0 && candidates.length === 1 && !candidates[0]!.platform) matched = candidates;
  if (matched.length === 0) {
    const have = candidates.map((d) => (d.platform ? formatPlatform(d.platform) : 'unspecified')).join(', ');
    throw imageFailure(
      IMAGE_ERRORS.platform,
      at,
      `holds no image for ${formatPlatform(target)}${want ? '' : ' (this host)'}; it has: ${have}${want ? '' : '. Set platform to pick one'}`,
    );
  }
  const distinct = [...new Map(matched.map((d) => [d.digest, d])).values()];
  if (distinct.length > 1) {
    throw imageFailure(
      IMAGE_ERRORS.unsupported,
      at,
      `holds several images for ${formatPlatform(target)} (${distinct.map(refName).join(', ')}); export one image per archive`,
    );
  }
  return distinct[0]!;
}

function checkLayout(archive: ArchiveFile): void {
  if (archive.has('oci-layout') && archive.has('index.json')) return;
  const hint = archive.has('manifest.json') ? ' It looks like a `docker save` archive: use docker-archive: instead.' : '';
  throw imageFailure(IMAGE_ERRORS.source, { archive: archive.path }, `is not an OCI image layout (no oci-layout and index.json).${hint}`);
}

/** The manifest an archive resolves to for the platform, with its digest (cheap: no layer is read). */
export async function resolveOciManifest(archive: ArchiveFile, want: Platform | undefined): Promise<{ digest: string; bytes: Buffer }> {
  checkLayout(archive);
  const at = { archive: archive.path, entry: 'index.json' };
  let index = parseWith(indexSchema, await archive.readSmall('index.json'), at, 'index.json');
  let what = 'index.json';
  for (let depth = 0; depth < MAX_NESTING; depth++) {
    const d = choose(archive, index.manifests, want, what);
    const bytes = await readBlob(archive, d, `manifest ${d.digest}`);
    const json = parseJson(bytes, { archive: archive.path, entry: blobMember(d, at) }, 'manifest');
    const mediaType = (json as { mediaType?: unknown }).mediaType ?? d.mediaType;
    if (typeof mediaType === 'string' && INDEX_TYPES.includes(mediaType)) {
      what = `image index ${d.digest}`;
      index = parseWith(indexSchema, bytes, { archive: archive.path, entry: blobMember(d, at) }, what);
      continue;
    }
    return { digest: d.digest, bytes };
  }
  throw imageFailure(IMAGE_ERRORS.invalid, at, `image indexes are nested more than ${MAX_NESTING} deep`);
}

export async function readOciImage(archive: ArchiveFile, want: Platform | undefined): Promise<ArchiveImage> {
  const { digest, bytes } = await resolveOciManifest(archive, want);
  const at = { archive: archive.path, entry: `blobs/sha256/${digestHex(digest)}` };
  const manifest = parseWith(manifestSchema, bytes, at, `manifest ${digest}`);
  const config = await readBlob(archive, manifest.config, 'image config');
  const configAt = { archive: archive.path, entry: blobMember(manifest.config, at) };
  const parsed = parseImageConfig(config, configAt);
  if (parsed.diffIds.length !== manifest.layers.length) {
    throw imageFailure(IMAGE_ERRORS.invalid, at, `manifest lists ${manifest.layers.length} layers but the image config ${parsed.diffIds.length} diff ids`);
  }
  if (want && !platformMatches(want, parsed)) {
    throw imageFailure(IMAGE_ERRORS.platform, configAt, `the image is for ${formatPlatform(parsed)}, not ${formatPlatform(want)}`);
  }
  const layers: ArchiveLayer[] = manifest.layers.map((d, i) => {
    const member = blobMember(d, at);
    if (d.mediaType?.includes('zstd')) throw imageFailure(IMAGE_ERRORS.unsupported, { ...at, layer: member }, 'zstd-compressed layers are not supported yet');
    if (d.mediaType !== undefined && !TAR_LAYER_TYPES.includes(d.mediaType)) {
      throw imageFailure(IMAGE_ERRORS.unsupported, { ...at, layer: member }, `layer media type ${d.mediaType} is not supported`);
    }
    if (!archive.has(member)) {
      const foreign = d.urls?.length ? ' (a foreign layer, to be downloaded from its URLs: not supported)' : '';
      throw imageFailure(IMAGE_ERRORS.invalid, { archive: archive.path, layer: member }, `layer blob is missing from the archive${foreign}`);
    }
    return { member, blobDigest: d.digest, blobSize: d.size, diffId: parsed.diffIds[i]! };
  });
  return { manifestDigest: digest, manifest: bytes, configDigest: manifest.config.digest, config, parsed, layers };
}
