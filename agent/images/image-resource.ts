// The `image` resource type: an image imported into the host's store.
//
//   create: import the source (layers shared with stored images), count this resource as a user
//   read:   null when the image left the store; `source_digest` = what the source resolves to
//           now (re-read only when the archive's size/mtime changed), so a changed archive
//           shows as drift and the provider plans a replacement
//   delete: drop this resource as a user; the image (and layers no other image uses) goes
//           with its last user
//   import: adopt a stored image by id (`sha256:...`)
//
// State: the configuration (source, insecure, username, password, platform) plus
// `id` (config digest), `digest` (manifest digest, or the id) and `source_digest`.
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import { isSha256Digest } from './digest.js';
import { IMAGE_ERRORS } from './image-errors.js';
import { parseImageSource, REGISTRY_UNSUPPORTED_MESSAGE } from './image-source.js';
import type { ImageStore, StoredImage } from './image-store.js';

/** How image resources appear among an image's users in the store. */
export const IMAGE_RESOURCE_USER = 'image-resource';

const plannedSchema = z.looseObject({
  source: z.string().min(1),
  platform: z.string().nullish(),
});

const knownSchema = z.looseObject({
  source: z.string(),
  id: z.string(),
  digest: z.string().nullish(),
  source_digest: z.string().nullish(),
  platform: z.string().nullish(),
});

function computed(image: StoredImage, sourceDigest: string): ResourceState {
  return { id: image.id, digest: image.digest, source_digest: sourceDigest };
}

export class ImageResource implements ResourceHandler {
  constructor(
    private readonly store: ImageStore,
    private readonly log: AgentLog,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const known = parseState(knownSchema, state, 'state');
    const image = await this.store.get(known.id);
    if (!image) return null;
    let sourceDigest = known.source_digest ?? image.digest;
    try {
      sourceDigest = await this.store.currentDigest(known.source, known.platform ?? undefined);
    } catch (e) {
      // The archive is gone but the image is stored and usable: nothing to re-import from.
      if (!isAgentFailure(e) || e.code !== IMAGE_ERRORS.source) throw e;
      this.log.warn(`image ${image.id}: cannot check its source for changes: ${e.message}`);
    }
    return { ...state, ...computed(image, sourceDigest) };
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(planned, progress);
      case 'update': {
        // Nothing of an image changes in place: keep what was imported, take the planned configuration.
        const known = parseState(knownSchema, prior, 'prior');
        parseState(plannedSchema, planned, 'planned');
        return { ...planned, id: known.id, digest: known.digest ?? known.id, source_digest: known.source_digest ?? known.digest ?? known.id };
      }
      case 'delete': {
        const known = parseState(knownSchema, prior, 'prior');
        const result = await this.store.release(known.id, IMAGE_RESOURCE_USER);
        progress(
          result === 'kept'
            ? `image ${known.id} stays in the store: other resources or containers use it`
            : result === 'removed'
              ? `removed image ${known.id} from the store`
              : `image ${known.id} was already gone`,
        );
        return null;
      }
    }
  }

  async import(id: string): Promise<ResourceState | null> {
    if (!isSha256Digest(id)) throw invalidAttribute('id', `${JSON.stringify(id)} is not an image id (sha256:<64 hex digits>)`);
    const image = await this.store.get(id);
    if (!image || !(await this.store.acquire(id, IMAGE_RESOURCE_USER))) return null;
    return { source: image.source, insecure: false, username: null, password: null, platform: null, ...computed(image, image.digest) };
  }

  private async create(planned: ResourceState | null, progress: Progress): Promise<ResourceState> {
    const p = parseState(plannedSchema, planned, 'planned');
    if (parseImageSource(p.source).kind === 'registry') throw new AgentFailure(IMAGE_ERRORS.unsupported, REGISTRY_UNSUPPORTED_MESSAGE);
    const image = await this.store.import(p.source, { platform: p.platform ?? undefined, progress, user: IMAGE_RESOURCE_USER });
    return { ...planned, ...computed(image, image.digest) };
  }
}
