// Builds OCI layout and `docker save` archives in memory from layer tars, for cases the
// test image script does not cover (several layers, whiteouts, hostile members,
// tampered blobs).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { sha256Digest } from '../../../agent/images/digest.js';
import { hostPlatform } from '../../../agent/images/platform.js';
import { tar } from './tar-writer.js';

export interface RunConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface BuiltImage {
  readonly archive: Buffer;
  /** Config digest. */
  readonly id: string;
  /** Manifest digest (OCI), else the id. */
  readonly digest: string;
  readonly diffIds: string[];
}

export interface BuildOptions {
  readonly config?: RunConfig;
  readonly gzip?: boolean;
  /** Changes archive members after the digests were computed (to test verification). */
  readonly tamper?: (files: Map<string, Buffer>) => void;
  readonly architecture?: string;
}

function hex(digest: string): string {
  return digest.slice('sha256:'.length);
}

function configBlob(layers: readonly Buffer[], options: BuildOptions): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: options.architecture ?? hostPlatform().architecture,
      os: 'linux',
      config: options.config ?? { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256Digest(l)) },
    }),
  );
}

function archiveOf(files: Map<string, Buffer>, options: BuildOptions): Buffer {
  options.tamper?.(files);
  return tar([...files].map(([name, data]) => ({ name, data })));
}

/** An OCI image layout tar; layers gzip-compressed unless gzip is false. */
export function ociArchive(layers: readonly Buffer[], options: BuildOptions = {}): BuiltImage {
  const files = new Map<string, Buffer>();
  const config = configBlob(layers, options);
  const blobs = layers.map((l) => (options.gzip === false ? l : gzipSync(l)));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256Digest(config), size: config.length },
      layers: blobs.map((b) => ({
        mediaType: options.gzip === false ? 'application/vnd.oci.image.layer.v1.tar' : 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: sha256Digest(b),
        size: b.length,
      })),
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: sha256Digest(manifest),
        size: manifest.length,
        platform: { os: 'linux', architecture: options.architecture ?? hostPlatform().architecture },
      },
    ],
  };
  files.set('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
  files.set('index.json', Buffer.from(JSON.stringify(index)));
  for (const b of [config, manifest, ...blobs]) files.set(`blobs/sha256/${hex(sha256Digest(b))}`, b);
  return { archive: archiveOf(files, options), id: sha256Digest(config), digest: sha256Digest(manifest), diffIds: layers.map((l) => sha256Digest(l)) };
}

/** A `docker save` tar (classic layout: <id>.json, <dir>/layer.tar). */
export function dockerArchive(layers: readonly Buffer[], options: BuildOptions = {}): BuiltImage {
  const files = new Map<string, Buffer>();
  const config = configBlob(layers, options);
  const id = sha256Digest(config);
  const layerNames = layers.map((l, i) => `layer${i}-${hex(sha256Digest(l)).slice(0, 12)}/layer.tar`);
  files.set('manifest.json', Buffer.from(JSON.stringify([{ Config: `${hex(id)}.json`, RepoTags: ['test:latest'], Layers: layerNames }])));
  files.set(`${hex(id)}.json`, config);
  layers.forEach((l, i) => files.set(layerNames[i]!, l));
  return { archive: archiveOf(files, options), id, digest: id, diffIds: layers.map((l) => sha256Digest(l)) };
}

/** A scratch directory removed after the test. */
export function scratchDir(t: { after(fn: () => void): void }, prefix = 'tsit-img-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeArchive(dir: string, name: string, archive: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, archive);
  return path;
}
