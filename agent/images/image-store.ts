// The host's content-addressed image store (`<state>/images`):
//
//   blobs/sha256/<hex>     manifests and configs, as in the source archive
//   layers/<hex>/fs/       a layer unpacked (hex of its diff id), an overlayfs lowerdir
//   layers/<hex>/layer.json  its size
//   images/<hex>.json      one record per image (hex of its id, the config's digest):
//                          layers, run config, digest, and the users that keep it
//   sources/<key>.json     what each source resolved to last (see source-digest.ts)
//   tmp/<pid>-...          staging; entries of dead processes are removed on start
//
// A layer is unpacked into tmp/, verified against both digests, then renamed into
// layers/ (atomic), once per diff id: imports of the same layer in this process wait on
// a lock per diff id and then find it in place. Layers and blobs that an import in
// progress relies on are pinned, so a concurrent remove() never collects them. A failed
// import removes what it added. Store directories are 0700, files 0600.
//
// Users: an image is kept while its record lists users (`image-resource` once per image
// resource that imported it, `container:<id>` for a container the runtime pins);
// release() drops one and removes the image with the last.
import { createHash } from 'node:crypto';
import { readdir, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS } from '../rpc/protocol.js';
import { ArchiveFile } from './archive-file.js';
import { digestMismatch, type ArchiveImage, type ArchiveLayer } from './archive-image.js';
import { digestHex, isSha256Digest, sha256Digest, shortDigest } from './digest.js';
import { readDockerImage } from './docker-archive.js';
import { parseImageConfig, rootfsImageConfig, type ImageRunConfig } from './image-config.js';
import { IMAGE_ERRORS } from './image-errors.js';
import { parseImageSource, REGISTRY_UNSUPPORTED_MESSAGE, type LocalImageSource } from './image-source.js';
import { KeyedLock } from './keyed-lock.js';
import { readLayer, type LayerRead } from './layer-stream.js';
import { LayerUnpacker, type UnpackResult } from './layer-unpack.js';
import { readOciImage } from './oci-archive.js';
import { formatPlatform, hostPlatform, parsePlatform, type Platform } from './platform.js';
import { copyRootfs } from './rootfs-source.js';
import { SourceDigests, sourceStamp } from './source-digest.js';
import { ensurePrivateDir, pathExists, readJsonOrNull, removeStaleScratch, scratchName, writeFileAtomic, writeJsonAtomic } from './store-files.js';

export interface StoredImage {
  /** `sha256:<hex>` of the image config blob (like Docker image ids). */
  readonly id: string;
  /** The manifest digest where the source has one, else the id. */
  readonly digest: string;
  readonly source: string;
  /** Absolute directories of the unpacked layers, lowest first: overlayfs lowerdirs (reverse them for the mount option). */
  readonly layers: string[];
  readonly config: ImageRunConfig;
  /** Bytes of file data in the layers. */
  readonly sizeBytes: number;
}

export interface ImportOptions {
  /** `linux/arm64`: which image of a multi-platform archive; default: this host's. */
  readonly platform?: string | undefined;
  readonly progress?: (message: string) => void;
  /** Recorded as a user of the image in the same step that records the image. */
  readonly user?: string;
}

export type ReleaseResult = 'removed' | 'kept' | 'missing';

const RECORD_VERSION = 1;
const recordSchema = z.object({
  version: z.literal(RECORD_VERSION),
  id: z.string(),
  digest: z.string(),
  manifestDigest: z.string().nullable(),
  source: z.string(),
  platform: z.string(),
  diffIds: z.array(z.string()),
  config: z.object({
    entrypoint: z.array(z.string()),
    cmd: z.array(z.string()),
    env: z.array(z.string()),
    workingDir: z.string(),
    user: z.string(),
  }),
  sizeBytes: z.number(),
  importedAt: z.string(),
  users: z.array(z.string()),
});
type ImageRecord = z.infer<typeof recordSchema>;

const layerMetaSchema = z.object({ diffId: z.string(), bytes: z.number() });

/** What an import produced before it is recorded. */
interface Imported {
  readonly id: string;
  readonly manifestDigest: string | null;
  readonly blobs: { digest: string; bytes: Buffer }[];
  readonly diffIds: string[];
  readonly config: ImageRunConfig;
  readonly sizeBytes: number;
}

const META_LOCK = 'meta';

export class ImageStore {
  private readonly locks = new KeyedLock();
  /** Layers (diff ids) that imports in progress rely on: never collected. */
  private readonly pins = new Map<string, number>();
  private ready: Promise<void> | undefined;
  private readonly sources: SourceDigests;

  constructor(
    private readonly root: string,
    private readonly log: AgentLog,
  ) {
    this.sources = new SourceDigests(join(root, 'sources'), join(root, 'tmp'), log);
  }

  /** Imports a local source (registry references fail with E_UNSUPPORTED). Importing an image already stored only records the source and user. */
  async import(source: string, options: ImportOptions = {}): Promise<StoredImage> {
    const parsed = parseImageSource(source);
    if (parsed.kind === 'registry') throw new AgentFailure(IMAGE_ERRORS.unsupported, REGISTRY_UNSUPPORTED_MESSAGE);
    const want = wantedPlatform(options.platform);
    const platformKey = formatPlatform(want ?? hostPlatform());
    await this.init();
    const progress = options.progress ?? (() => {});
    const pinned: string[] = [];
    const pin = (digest: string) => {
      this.pins.set(digest, (this.pins.get(digest) ?? 0) + 1);
      pinned.push(digest);
    };
    try {
      progress(`importing ${source}`);
      const stamp = await sourceStamp(parsed);
      const imported = parsed.kind === 'rootfs' ? await this.importRootfs(parsed, pin, progress) : await this.importArchive(parsed, want, pin, progress);
      const record = await this.locks.with(META_LOCK, () => this.record(imported, source, platformKey, options.user));
      await this.sources.remember(parsed, platformKey, stamp, record.digest);
      this.log.info(`image ${record.id} (${record.digest}) imported from ${source}`);
      return this.toStored(record);
    } catch (e) {
      this.unpin(pinned.splice(0));
      await this.locks
        .with(META_LOCK, () => this.collectGarbage())
        .catch((gcError: unknown) => {
          this.log.warn(`cleaning up after a failed import of ${source}: ${(gcError as Error).message}`);
        });
      throw e;
    } finally {
      this.unpin(pinned);
    }
  }

  /** The image with this id (`sha256:<hex>`), or null; also null when one of its layers was removed by hand (import it again). */
  async get(id: string): Promise<StoredImage | null> {
    if (!isSha256Digest(id)) return null;
    await this.init();
    const record = await this.readRecord(id);
    if (!record) return null;
    for (const d of record.diffIds) {
      if ((await this.layerSize(d)) === null) {
        this.log.warn(`image ${id}: layer ${d} is missing from the store; the image must be imported again`);
        return null;
      }
    }
    return this.toStored(record);
  }

  async list(): Promise<StoredImage[]> {
    await this.init();
    const out: StoredImage[] = [];
    for (const name of (await readdir(this.dir('images'))).sort()) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const record = await this.readRecord(`sha256:${name.slice(0, 64)}`);
      if (record) out.push(this.toStored(record));
    }
    return out;
  }

  /** Removes the image whatever its users, and the layers and blobs no other image uses. */
  async remove(id: string): Promise<void> {
    if (!isSha256Digest(id)) return;
    await this.init();
    await this.locks.with(META_LOCK, async () => {
      await rm(this.recordPath(id), { force: true });
      await this.collectGarbage();
    });
    this.log.info(`image ${id} removed from the store`);
  }

  /** Adds a user to a stored image; false when there is no such image. */
  async acquire(id: string, user: string): Promise<boolean> {
    if (!isSha256Digest(id)) return false;
    await this.init();
    return this.locks.with(META_LOCK, async () => {
      const record = await this.readRecord(id);
      if (!record) return false;
      await writeJsonAtomic(this.recordPath(id), { ...record, users: [...record.users, user] });
      return true;
    });
  }

  /** Drops one occurrence of `user`; the image goes when no user is left. */
  async release(id: string, user: string): Promise<ReleaseResult> {
    if (!isSha256Digest(id)) return 'missing';
    await this.init();
    const result = await this.locks.with(META_LOCK, async (): Promise<ReleaseResult> => {
      const record = await this.readRecord(id);
      if (!record) return 'missing';
      const users = [...record.users];
      const i = users.indexOf(user);
      if (i !== -1) users.splice(i, 1);
      if (users.length > 0) {
        await writeJsonAtomic(this.recordPath(id), { ...record, users });
        return 'kept';
      }
      await rm(this.recordPath(id), { force: true });
      await this.collectGarbage();
      return 'removed';
    });
    if (result === 'removed') this.log.info(`image ${id} removed from the store (no user left)`);
    return result;
  }

  /** The digest `source` resolves to now (manifest digest or image id), re-reading it only when it changed. */
  async currentDigest(source: string, platform?: string): Promise<string> {
    const parsed = parseImageSource(source);
    if (parsed.kind === 'registry') throw new AgentFailure(IMAGE_ERRORS.unsupported, REGISTRY_UNSUPPORTED_MESSAGE);
    const want = wantedPlatform(platform);
    await this.init();
    return this.sources.current(parsed, formatPlatform(want ?? hostPlatform()), want);
  }

  // ---- importing ----------------------------------------------------------------

  private async importArchive(src: LocalImageSource, want: Platform | undefined, pin: (d: string) => void, progress: (m: string) => void): Promise<Imported> {
    const archive = await ArchiveFile.open(src.path, scratchName(this.dir('tmp'), '.tar'));
    try {
      const image = src.kind === 'oci-archive' ? await readOciImage(archive, want) : await readDockerImage(archive, want);
      this.warnForeignPlatform(image, want, src.path);
      let sizeBytes = 0;
      for (const [i, layer] of image.layers.entries()) {
        pin(layer.diffId);
        const what = `layer ${i + 1}/${image.layers.length} ${shortDigest(layer.diffId)}`;
        sizeBytes += await this.ensureLayer(archive, layer, what, progress);
      }
      const blobs = [{ digest: image.configDigest, bytes: image.config }];
      if (image.manifestDigest && image.manifest) blobs.push({ digest: image.manifestDigest, bytes: image.manifest });
      return {
        id: image.configDigest,
        manifestDigest: image.manifestDigest ?? null,
        blobs,
        diffIds: image.parsed.diffIds,
        config: image.parsed.run,
        sizeBytes,
      };
    } finally {
      await archive.close();
    }
  }

  /** Unpacks the layer unless the store has it; returns its size. */
  private async ensureLayer(archive: ArchiveFile, layer: ArchiveLayer, what: string, progress: (m: string) => void): Promise<number> {
    return this.locks.with(`layer:${layer.diffId}`, async () => {
      const existing = await this.layerSize(layer.diffId);
      if (existing !== null) {
        progress(`${what}: already in the store`);
        return existing;
      }
      progress(`${what}: unpacking${layer.blobSize !== undefined ? ` (${formatBytes(layer.blobSize)})` : ''}`);
      const staging = scratchName(this.dir('tmp'));
      try {
        await mkdir(join(staging, 'fs'), { recursive: true, mode: 0o700 });
        const r = await this.unpackVerified(archive, layer, join(staging, 'fs'));
        await this.commitLayer(staging, layer.diffId, r.bytes);
        this.log.info(`unpacked layer ${layer.diffId} from ${archive.path} (${r.entries} entries, ${r.bytes} bytes)`);
        return r.bytes;
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    });
  }

  /** Unpacks a layer into `dest` and checks both its digests. */
  private async unpackVerified(archive: ArchiveFile, layer: ArchiveLayer, dest: string): Promise<UnpackResult> {
    const at = { archive: archive.path, layer: layer.member };
    let r: LayerRead<UnpackResult>;
    try {
      r = await readLayer(archive.stream(layer.member), at, (src) => new LayerUnpacker(dest, at, this.log).unpack(src));
    } catch (e) {
      // A blob too damaged to read is reported for what it is: not the blob the manifest names.
      if (isAgentFailure(e) && e.code === IMAGE_ERRORS.invalid && layer.blobDigest !== undefined) {
        const actual = await hashStream(archive.stream(layer.member));
        if (actual !== layer.blobDigest) throw digestMismatch(at, 'the layer blob', layer.blobDigest, actual);
      }
      throw e;
    }
    if (layer.blobDigest !== undefined && r.blobDigest !== layer.blobDigest) throw digestMismatch(at, 'the layer blob', layer.blobDigest, r.blobDigest);
    if (r.diffId !== layer.diffId) throw digestMismatch(at, 'the uncompressed layer', layer.diffId, r.diffId);
    return r.value;
  }

  private async importRootfs(src: LocalImageSource, pin: (d: string) => void, progress: (m: string) => void): Promise<Imported> {
    progress(`copying ${src.path}`);
    const staging = scratchName(this.dir('tmp'));
    try {
      await mkdir(join(staging, 'fs'), { recursive: true, mode: 0o700 });
      const { diffId, bytes } = await copyRootfs(src.path, join(staging, 'fs'), this.log);
      pin(diffId);
      await this.locks.with(`layer:${diffId}`, async () => {
        if ((await this.layerSize(diffId)) !== null) return;
        await this.commitLayer(staging, diffId, bytes);
        this.log.info(`copied ${src.path} into layer ${diffId} (${bytes} bytes)`);
      });
      const host = hostPlatform();
      const config = rootfsImageConfig(diffId, host.os, host.architecture);
      const parsed = parseImageConfig(config, { archive: `rootfs ${src.path}` });
      return {
        id: sha256Digest(config),
        manifestDigest: null,
        blobs: [{ digest: sha256Digest(config), bytes: config }],
        diffIds: [diffId],
        config: parsed.run,
        sizeBytes: bytes,
      };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Moves a verified staging directory into layers/ (another agent process may have been first: then its copy stays). */
  private async commitLayer(staging: string, diffId: string, bytes: number): Promise<void> {
    await writeFile(join(staging, 'layer.json'), JSON.stringify({ diffId, bytes }), { mode: 0o600 });
    try {
      await rename(staging, this.layerDir(diffId));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  }

  private warnForeignPlatform(image: ArchiveImage, want: Platform | undefined, path: string): void {
    const host = hostPlatform();
    if (!want && image.parsed.architecture && image.parsed.architecture !== host.architecture) {
      this.log.warn(`${path} holds an image for ${image.parsed.os}/${image.parsed.architecture}; this host is ${formatPlatform(host)}`);
    }
  }

  /** Writes the blobs and the record. Call under META_LOCK (garbage collection must not see blobs without their record). */
  private async record(imported: Imported, source: string, platform: string, user: string | undefined): Promise<ImageRecord> {
    for (const b of imported.blobs) await this.writeBlob(b.digest, b.bytes);
    const prior = await this.readRecord(imported.id);
    const record: ImageRecord = {
      version: RECORD_VERSION,
      id: imported.id,
      digest: imported.manifestDigest ?? imported.id,
      manifestDigest: imported.manifestDigest,
      source,
      platform,
      diffIds: imported.diffIds,
      config: imported.config,
      sizeBytes: imported.sizeBytes,
      importedAt: prior?.importedAt ?? new Date().toISOString(),
      users: [...(prior?.users ?? []), ...(user !== undefined ? [user] : [])],
    };
    await writeJsonAtomic(this.recordPath(imported.id), record);
    return record;
  }

  // ---- store files --------------------------------------------------------------

  private init(): Promise<void> {
    this.ready ??= (async () => {
      for (const d of ['', 'blobs', 'blobs/sha256', 'layers', 'images', 'sources', 'tmp']) await ensurePrivateDir(this.dir(d));
      const stale = await removeStaleScratch(this.dir('tmp'));
      if (stale.length) this.log.info(`image store: removed ${stale.length} staging entries left by interrupted imports`);
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw new AgentFailure(IMAGE_ERRORS.unpack, `cannot prepare the image store ${this.root}: ${(e as Error).message}`);
    });
    return this.ready;
  }

  private dir(sub: string): string {
    return sub === '' ? this.root : join(this.root, sub);
  }

  private layerDir(diffId: string): string {
    return join(this.root, 'layers', digestHex(diffId));
  }

  private recordPath(id: string): string {
    return join(this.root, 'images', `${digestHex(id)}.json`);
  }

  private async writeBlob(digest: string, bytes: Buffer): Promise<void> {
    const path = join(this.root, 'blobs', 'sha256', digestHex(digest));
    if (!(await pathExists(path))) await writeFileAtomic(path, bytes);
  }

  /** The size of a stored layer, or null when the store does not have it. */
  private async layerSize(diffId: string): Promise<number | null> {
    const meta = layerMetaSchema.safeParse(await readJsonOrNull(join(this.layerDir(diffId), 'layer.json')));
    return meta.success && meta.data.diffId === diffId ? meta.data.bytes : null;
  }

  private async readRecord(id: string): Promise<ImageRecord | null> {
    const json = await readJsonOrNull(this.recordPath(id));
    if (json === null) return null;
    const parsed = recordSchema.safeParse(json);
    if (!parsed.success || parsed.data.id !== id) {
      this.log.warn(`image store: ignoring unreadable record ${this.recordPath(id)}`);
      return null;
    }
    return parsed.data;
  }

  private toStored(r: ImageRecord): StoredImage {
    return {
      id: r.id,
      digest: r.digest,
      source: r.source,
      layers: r.diffIds.map((d) => join(this.layerDir(d), 'fs')),
      config: r.config,
      sizeBytes: r.sizeBytes,
    };
  }

  private unpin(digests: string[]): void {
    for (const d of digests) {
      const n = (this.pins.get(d) ?? 0) - 1;
      if (n > 0) this.pins.set(d, n);
      else this.pins.delete(d);
    }
    digests.length = 0;
  }

  /** Removes layers and blobs that no record uses and no import in progress pinned. Call under META_LOCK. */
  private async collectGarbage(): Promise<void> {
    const used = new Set<string>();
    for (const name of await readdir(this.dir('images'))) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const record = await this.readRecord(`sha256:${name.slice(0, 64)}`);
      if (!record) continue;
      used.add(record.id);
      if (record.manifestDigest) used.add(record.manifestDigest);
      for (const d of record.diffIds) used.add(d);
    }
    const keep = (hex: string) => used.has(`sha256:${hex}`) || this.pins.has(`sha256:${hex}`);
    const isHex = (name: string) => /^[0-9a-f]{64}$/.test(name);
    for (const hex of await readdir(this.dir('layers'))) {
      if (!isHex(hex) || keep(hex)) continue;
      // Renamed away first: a half-deleted layer must never look like a stored one.
      const doomed = scratchName(this.dir('tmp'));
      await rename(join(this.dir('layers'), hex), doomed);
      await rm(doomed, { recursive: true, force: true });
      this.log.info(`image store: removed unused layer sha256:${hex}`);
    }
    for (const hex of await readdir(this.dir('blobs/sha256'))) {
      if (isHex(hex) && !keep(hex)) await rm(join(this.dir('blobs/sha256'), hex), { force: true });
    }
  }
}

function wantedPlatform(platform: string | undefined): Platform | undefined {
  if (platform === undefined || platform === '') return undefined;
  const p = parsePlatform(platform);
  if (!p) throw new AgentFailure(RPC_ERRORS.invalid, `invalid attributes: platform: ${JSON.stringify(platform)} is not os/arch[/variant], like linux/arm64`);
  return p;
}

async function hashStream(stream: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
