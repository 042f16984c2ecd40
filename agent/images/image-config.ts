// The image configuration blob (OCI image config / Docker image JSON): what a container
// runs by default and which layers (by diff id) make up the root filesystem.
import { z } from 'zod';
import { describeIssues } from '../rpc/zod-issues.js';
import { isSha256Digest } from './digest.js';
import { IMAGE_ERRORS, imageFailure, type ImageLocation } from './image-errors.js';

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageRunConfig {
  readonly entrypoint: string[];
  readonly cmd: string[];
  readonly env: string[];
  /** "/" when the image sets none. */
  readonly workingDir: string;
  /** As the image says (`app`, `1000:1000`, ...); "" means root. */
  readonly user: string;
}

export interface ParsedImageConfig {
  readonly run: ImageRunConfig;
  /** Digests of the uncompressed layer tars, lowest first. */
  readonly diffIds: string[];
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

const stringList = z.array(z.string()).nullish();

const configSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  variant: z.string().optional(),
  config: z
    .looseObject({
      Entrypoint: stringList,
      Cmd: stringList,
      Env: stringList,
      WorkingDir: z.string().nullish(),
      User: z.string().nullish(),
    })
    .nullish(),
  rootfs: z.looseObject({
    type: z.string(),
    diff_ids: z.array(z.string()),
  }),
});

export function parseImageConfig(bytes: Buffer, at: ImageLocation): ParsedImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw imageFailure(IMAGE_ERRORS.invalid, at, `image config is not JSON: ${(e as Error).message}`);
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw imageFailure(IMAGE_ERRORS.invalid, at, `invalid image config: ${describeIssues(parsed.error, 'config')}`);
  const c = parsed.data;
  if (c.rootfs.type !== 'layers')
    throw imageFailure(IMAGE_ERRORS.invalid, at, `image config rootfs.type is ${JSON.stringify(c.rootfs.type)}, expected "layers"`);
  for (const d of c.rootfs.diff_ids) {
    if (!isSha256Digest(d)) throw imageFailure(IMAGE_ERRORS.invalid, at, `image config lists layer diff id ${JSON.stringify(d)}, not a sha256 digest`);
  }
  const run = c.config ?? {};
  return {
    run: {
      entrypoint: run.Entrypoint ?? [],
      cmd: run.Cmd ?? [],
      env: run.Env ?? [],
      workingDir: run.WorkingDir || '/',
      user: run.User ?? '',
    },
    diffIds: c.rootfs.diff_ids,
    os: c.os ?? 'linux',
    architecture: c.architecture ?? '',
    ...(c.variant !== undefined ? { variant: c.variant } : {}),
  };
}

/** The config of an image made from a directory: one layer, PATH set, no command. */
export function rootfsImageConfig(diffId: string, os: string, architecture: string): Buffer {
  // Keys in a fixed order: the bytes, and so the image id, depend on the layer only.
  const config = {
    architecture,
    os,
    config: { Env: [DEFAULT_PATH_ENV], WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  return Buffer.from(JSON.stringify(config));
}
