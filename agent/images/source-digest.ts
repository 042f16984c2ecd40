// What a local source resolves to now, for drift detection on refresh: the manifest
// digest of an OCI archive, the image id of a docker archive or of a rootfs. A small
// record per source keeps the digest with a stamp of the source (size, mtime, inode;
// for a directory a fingerprint of its tree's metadata), so the archive is read again
// only when the stamp changed.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import { ArchiveFile } from './archive-file.js';
import { sha256Digest } from './digest.js';
import { resolveDockerImageId } from './docker-archive.js';
import { rootfsImageConfig } from './image-config.js';
import { IMAGE_ERRORS } from './image-errors.js';
import type { LocalImageSource } from './image-source.js';
import { resolveOciManifest } from './oci-archive.js';
import type { Platform } from './platform.js';
import { hostPlatform } from './platform.js';
import { hashRootfs, rootfsFingerprint } from './rootfs-source.js';
import { readJsonOrNull, scratchName, writeJsonAtomic } from './store-files.js';

const recordSchema = z.object({ source: z.string(), platform: z.string(), stamp: z.string(), digest: z.string() });

/** Changes whenever the source's content may have changed. Throws E_IMAGE_SOURCE when it is gone. */
export async function sourceStamp(src: LocalImageSource): Promise<string> {
  if (src.kind === 'rootfs') return rootfsFingerprint(src.path);
  try {
    const st = await stat(src.path, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new AgentFailure(IMAGE_ERRORS.source, `cannot read image archive ${src.path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The image id of a directory: the digest of the config the store makes for it. */
export function rootfsImageId(diffId: string): string {
  const host = hostPlatform();
  return sha256Digest(rootfsImageConfig(diffId, host.os, host.architecture));
}

export class SourceDigests {
  constructor(
    /** `<store>/sources` */
    private readonly dir: string,
    /** `<store>/tmp`, for decompressing gzip archives. */
    private readonly scratchDir: string,
    private readonly log: AgentLog,
  ) {}

  /** Records what the source resolved to at import (stamp taken before reading it). */
  async remember(src: LocalImageSource, platform: string, stamp: string, digest: string): Promise<void> {
    await writeJsonAtomic(this.file(src, platform), { source: `${src.kind}:${src.path}`, platform, stamp, digest });
  }

  /** The digest the source resolves to now, read again only when its stamp changed. */
  async current(src: LocalImageSource, platform: string, want: Platform | undefined): Promise<string> {
    const stamp = await sourceStamp(src);
    const parsed = recordSchema.safeParse(await readJsonOrNull(this.file(src, platform)));
    if (parsed.success && parsed.data.stamp === stamp) return parsed.data.digest;
    this.log.info(`${src.kind}:${src.path} changed since it was last read: resolving its digest again`);
    const digest = await this.resolve(src, want);
    await this.remember(src, platform, stamp, digest);
    return digest;
  }

  private async resolve(src: LocalImageSource, want: Platform | undefined): Promise<string> {
    if (src.kind === 'rootfs') return rootfsImageId(await hashRootfs(src.path, this.log));
    const archive = await ArchiveFile.open(src.path, scratchName(this.scratchDir, '.tar'));
    try {
      return src.kind === 'oci-archive' ? (await resolveOciManifest(archive, want)).digest : await resolveDockerImageId(archive);
    } finally {
      await archive.close();
    }
  }

  private file(src: LocalImageSource, platform: string): string {
    const key = createHash('sha256').update(`${src.kind}:${src.path}\0${platform}`).digest('hex');
    return join(this.dir, `${key}.json`);
  }
}
