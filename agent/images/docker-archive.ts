// `docker-archive:PATH`: the tar `docker save` writes. manifest.json names the config
// (`<hex>.json`, or `blobs/sha256/<hex>` since Docker 25) and the layer tars, lowest
// first. There is no manifest digest: the image's digest is its id (the config's).
import { z } from 'zod';
import { describeIssues } from '../rpc/zod-issues.js';
import type { ArchiveFile } from './archive-file.js';
import { parseJson, verifyBlob, type ArchiveImage, type ArchiveLayer } from './archive-image.js';
import { sha256Digest, SHA256_PREFIX } from './digest.js';
import { parseImageConfig } from './image-config.js';
import { IMAGE_ERRORS, imageFailure } from './image-errors.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';

const manifestSchema = z.array(
  z.looseObject({
    Config: z.string(),
    RepoTags: z.array(z.string()).nullish(),
    Layers: z.array(z.string()),
  }),
);

// A member whose name is its own digest: `blobs/sha256/<hex>` or `<hex>.json`.
const CONTENT_NAMED = /^(?:blobs\/sha256\/([0-9a-f]{64})|([0-9a-f]{64})\.json)$/;

function digestFromName(member: string): string | undefined {
  const m = CONTENT_NAMED.exec(member.replace(/^(\.\/)+/, ''));
  return m ? SHA256_PREFIX + (m[1] ?? m[2]) : undefined;
}

interface DockerManifest {
  readonly config: string;
  readonly layers: string[];
}

async function readManifest(archive: ArchiveFile): Promise<DockerManifest> {
  const at = { archive: archive.path, entry: 'manifest.json' };
  if (!archive.has('manifest.json')) {
    const hint = archive.has('oci-layout') ? ' It looks like an OCI layout: use oci-archive: instead.' : '';
    throw imageFailure(IMAGE_ERRORS.source, { archive: archive.path }, `is not a \`docker save\` archive (no manifest.json).${hint}`);
  }
  const parsed = manifestSchema.safeParse(parseJson(await archive.readSmall('manifest.json'), at, 'manifest.json'));
  if (!parsed.success) throw imageFailure(IMAGE_ERRORS.invalid, at, `invalid manifest.json: ${describeIssues(parsed.error, 'manifest')}`);
  if (parsed.data.length !== 1) {
    const tags = parsed.data.flatMap((m) => m.RepoTags ?? []).join(', ');
    throw imageFailure(
      IMAGE_ERRORS.unsupported,
      at,
      `holds ${parsed.data.length} images${tags ? ` (${tags})` : ''}; save one image per archive (docker save IMAGE > file.tar)`,
    );
  }
  const m = parsed.data[0]!;
  return { config: m.Config, layers: m.Layers };
}

async function readConfig(archive: ArchiveFile, member: string): Promise<{ digest: string; bytes: Buffer }> {
  const bytes = await archive.readSmall(member);
  const named = digestFromName(member);
  if (named) verifyBlob({ archive: archive.path, entry: member }, 'image config', bytes, named);
  return { digest: named ?? sha256Digest(bytes), bytes };
}

/** The image id the archive holds now (cheap: the config only). */
export async function resolveDockerImageId(archive: ArchiveFile): Promise<string> {
  return (await readConfig(archive, (await readManifest(archive)).config)).digest;
}

export async function readDockerImage(archive: ArchiveFile, want: Platform | undefined): Promise<ArchiveImage> {
  const manifest = await readManifest(archive);
  const { digest, bytes } = await readConfig(archive, manifest.config);
  const at = { archive: archive.path, entry: manifest.config };
  const parsed = parseImageConfig(bytes, at);
  if (parsed.diffIds.length !== manifest.layers.length) {
    throw imageFailure(
      IMAGE_ERRORS.invalid,
      { archive: archive.path, entry: 'manifest.json' },
      `lists ${manifest.layers.length} layers but the image config ${parsed.diffIds.length} diff ids`,
    );
  }
  if (want && !platformMatches(want, parsed)) {
    throw imageFailure(IMAGE_ERRORS.platform, at, `the image is for ${formatPlatform(parsed)}, not ${formatPlatform(want)}`);
  }
  const layers: ArchiveLayer[] = manifest.layers.map((member, i) => {
    const blobDigest = digestFromName(member);
    return { member, diffId: parsed.diffIds[i]!, ...(blobDigest ? { blobDigest } : {}), blobSize: archive.size(member) };
  });
  return { configDigest: digest, config: bytes, parsed, layers };
}
