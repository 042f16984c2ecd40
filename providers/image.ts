// `image`: an image imported into a host's image store, from a local archive
// (`oci-archive:PATH`, `docker-archive:PATH`) or directory (`rootfs:PATH`). Registry
// references are valid syntax but not supported by the agent yet: check says so.
//
// Nothing updates in place. `id` (the config digest, what containers reference) and
// `digest` (the manifest digest, or the id) are computed at import. `source_digest` is
// what the source resolves to at the last refresh: when the archive changed, it differs
// from `digest`, and the plan keeps `source_digest` = `digest`, so the change forces a
// replacement (a re-import), after showing as drift.
import { z } from 'zod';
import { isAgentFailure } from '../agent/rpc/failure.js';
import { LOCAL_SOURCE_FORMS, parseImageSource } from '../agent/images/image-source.js';
import { PLATFORM_RE } from '../agent/images/platform.js';
import { UNKNOWN, type Value, type ValueObject } from '../plan-engine/values.js';
import { applyThroughAgent } from './agent-operations.js';
import type { PathDiagnostic, ResourceProvider } from './provider.js';

export const imageSchema = z.strictObject({
  source: z.string().min(1, { message: 'must not be empty' }),
  insecure: z.boolean().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  platform: z.string().regex(PLATFORM_RE, { message: 'must be os/architecture[/variant], such as linux/amd64 or linux/arm64/v8' }).optional(),
});
type ImageConfig = z.infer<typeof imageSchema>;

export const imageProvider: ResourceProvider = {
  type: 'image',
  nestedBlocks: {},
  schema: imageSchema,
  updatable: [],
  computed: ['id', 'digest', 'source_digest'],
  sensitive: ['password'],
  usesAgent: true,

  check(raw) {
    const c = raw as Partial<ImageConfig>;
    const out: PathDiagnostic[] = [];
    if (typeof c.source !== 'string' || c.source === '') return out;
    let kind: string;
    try {
      kind = parseImageSource(c.source).kind;
    } catch (e) {
      if (!isAgentFailure(e)) throw e;
      out.push({
        code: 'E_INVALID_IMAGE_SOURCE',
        summary: `Invalid image source ${JSON.stringify(c.source)}`,
        detail: e.message.replace(/^image source "(?:[^"\\]|\\.)*": /, ''),
        path: ['source'],
      });
      return out;
    }
    if (kind === 'registry') {
      out.push({
        code: 'E_UNSUPPORTED',
        summary: 'Pulling images from a registry is not supported by this version of tsinfra yet',
        detail: `Use a local source on the host: ${LOCAL_SOURCE_FORMS}. For example, save the image with \`docker save IMAGE > image.tar\` or \`skopeo copy docker://IMAGE oci-archive:image.tar\` and copy it to the host.`,
        path: ['source'],
      });
      return out;
    }
    for (const k of ['insecure', 'username', 'password'] as const) {
      if (c[k] !== undefined) {
        out.push({ code: 'E_NOT_FOR_SOURCE', severity: 'warning', summary: `"${k}" applies to registry sources only and is ignored for ${kind}:`, path: [k] });
      }
    }
    return out;
  },

  plan(raw, prior) {
    const c = raw as ImageConfig & ValueObject;
    const digest = prior?.['digest'] ?? UNKNOWN;
    return {
      source: c.source,
      insecure: c.insecure ?? false,
      username: c.username ?? null,
      password: c.password ?? null,
      platform: c.platform ?? null,
      id: prior?.['id'] ?? UNKNOWN,
      digest,
      // What the source must still resolve to for the stored image to be the right one.
      source_digest: digest as Value,
    };
  },

  apply(req, session) {
    return applyThroughAgent('image', req, session);
  },
};
