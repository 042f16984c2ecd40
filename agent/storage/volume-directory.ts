// The `volume` resource without a thin pool: a directory `<state>/volumes/<name>` that
// containers mount (`mount { type = "volume" source = volume.x.id }`). The id is the
// name. With a `thin_pool`, a thin LV with ext4 mounted at that same path
// (thin-volume.ts): containers see no difference, and `size` is a hard quota.
//
//   <state>/volumes/          0700 root: nobody but root walks into the store
//   <state>/volumes/<name>/   0755 root: as Docker's volume data directories. Inside a
//                             container only the mount point itself is seen, so the
//                             0700 parent does not stand in the way; root in the
//                             container writes, other users read, and a non-root
//                             service gets its own subdirectory chowned by a root
//                             process (an entrypoint), as with Docker named volumes.
//
//   create: mkdir (refused when it exists: import it instead) | update: nothing
//   changes in place | delete: remove the tree (gone already is fine) | read: exists?
//
// Whether a container still uses the volume is the supervisor's business: it holds the
// mounts. This handler only removes what it is told to.
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import type { ApplyAction, ResourceState } from '../rpc/protocol.js';
import { parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import type { ThinVolumes } from './thin-volume.js';

const STORE_MODE = 0o700;
const VOLUME_MODE = 0o755;

/** The names the engine allows (providers/names.ts SAFE_NAME): no separators, no `..`. */
const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isVolumeName(s: string): boolean {
  return VOLUME_NAME.test(s) && !s.includes('..');
}

function checkVolumeName(name: string): string {
  if (!isVolumeName(name)) {
    throw new AgentFailure(
      'E_UNSAFE_NAME',
      `refusing volume name ${JSON.stringify(name)}: volume names are letters, digits, ".", "_" and "-" (no "..", at most 63 characters)`,
    );
  }
  return name;
}

export function volumeStore(stateDir: string): string {
  return join(stateDir, 'volumes');
}

/** Where volume `id` lives on this host: what a `volume` mount binds. Throws E_UNSAFE_NAME for an id that is not a volume name. */
export function volumePath(stateDir: string, id: string): string {
  return join(volumeStore(stateDir), checkVolumeName(id));
}

const stateSchema = z.looseObject({
  name: z.string(),
  size: z.union([z.string(), z.number()]).nullish(),
  thin_pool: z.string().nullable().optional(),
});
type VolumeState = z.output<typeof stateSchema>;

export class VolumeDirectory implements ResourceHandler {
  /** `thin`: thin-pool volumes, on hosts the agent manages LVM on; without it they are refused. */
  constructor(
    private readonly stateDir: string,
    private readonly thin?: ThinVolumes,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const s = parseState(stateSchema, state, 'state');
    const path = volumePath(this.stateDir, s.name);
    if (s.thin_pool) return this.thinVolumes(s).read(state, { ...s, thin_pool: s.thin_pool }, path);
    if (!(await this.exists(path))) return null;
    return { ...state, id: s.name, path };
  }

  async apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    switch (action) {
      case 'create':
        return this.create(planned!, progress);
      case 'update': {
        // Nothing of a volume changes in place: report it as it is.
        const now = await this.read(planned!);
        if (!now)
          throw new AgentFailure('E_VOLUME_GONE', `volume ${JSON.stringify(planned!['name'])} no longer exists on this host: plan again to re-create it`);
        return now;
      }
      case 'delete':
        await this.remove(prior!, progress);
        return null;
    }
  }

  async import(id: string): Promise<ResourceState | null> {
    const path = volumePath(this.stateDir, id);
    const thin = await this.thin?.import(id, path);
    if (thin !== undefined) return thin;
    if (!(await this.exists(path))) return null;
    return { name: id, size: null, thin_pool: null, id, path };
  }

  private async create(planned: ResourceState, progress: Progress): Promise<ResourceState> {
    const s = parseState(stateSchema, planned, 'planned');
    const path = volumePath(this.stateDir, s.name);
    const thin = s.thin_pool ? this.thinVolumes(s) : undefined;
    const store = volumeStore(this.stateDir);
    await mkdir(store, { recursive: true, mode: STORE_MODE });
    await chmod(store, STORE_MODE);
    if (thin) return thin.create(planned, { ...s, thin_pool: s.thin_pool! }, path, progress);
    progress(`creating volume directory ${path}`);
    try {
      await mkdir(path, { mode: VOLUME_MODE });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      throw new AgentFailure(
        'E_VOLUME_EXISTS',
        `volume ${JSON.stringify(s.name)} already exists on this host (${path}): adopt it with tsinfra import ADDR ${s.name}, or give this volume another name`,
      );
    }
    // The agent's umask (077) narrowed the mode mkdir got.
    await chmod(path, VOLUME_MODE);
    return { ...planned, id: s.name, path };
  }

  private async remove(prior: ResourceState, progress: Progress): Promise<void> {
    const s = parseState(stateSchema, prior, 'prior');
    const path = volumePath(this.stateDir, s.name);
    if (s.thin_pool) return this.thinVolumes(s).remove({ ...s, thin_pool: s.thin_pool }, path, progress);
    if (!(await this.exists(path))) return;
    progress(`removing volume directory ${path}`);
    await rm(path, { recursive: true, force: true });
  }

  private thinVolumes(s: VolumeState): ThinVolumes {
    if (!this.thin) {
      throw new AgentFailure('E_UNSUPPORTED', `volume ${JSON.stringify(s.name)}: thin-pool volumes need LVM, which this agent does not manage here`);
    }
    return this.thin;
  }

  /** A directory at `path`; anything else there (a symlink planted in the store) is refused, never followed. */
  private async exists(path: string): Promise<boolean> {
    let st;
    try {
      st = await lstat(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    if (!st.isDirectory()) {
      throw new AgentFailure(
        'E_UNSAFE_PATH',
        `${path} is not a directory (${st.isSymbolicLink() ? 'a symbolic link' : 'another kind of file'}): refusing to use it as a volume`,
      );
    }
    return true;
  }
}
