// Picks the cgroup implementation the host runs: v2 when the root is a cgroup2 file
// system (the pure unified layout), v1 when controllers are mounted as v1 hierarchies
// under it. The hybrid layout (v1 controllers plus an "unified" cgroup2 mount that holds
// no controllers, as on this project's build machine) is v1 for limits.
import { readFileSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentFailure } from '../../rpc/failure.js';
import type { CgroupManager } from './cgroup-manager.js';
import { CgroupV1Manager } from './cgroup-v1.js';
import { CgroupV2Manager } from './cgroup-v2.js';
import { findV1Hierarchies } from './v1-hierarchies.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const DEFAULT_ROOT = '/sys/fs/cgroup';
const DEFAULT_PARENT = 'tsinfra';

export interface CgroupOptions {
  /** Where the cgroup file systems are mounted (default /sys/fs/cgroup). */
  readonly root?: string;
  /** The directory under the root (or under each v1 hierarchy) that holds the containers' cgroups. */
  readonly parent?: string;
}

function isCgroup2(path: string): boolean {
  try {
    return statfsSync(path).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

export function detectCgroupManager(options: CgroupOptions = {}): CgroupManager {
  const root = resolve(options.root ?? DEFAULT_ROOT);
  const parent = options.parent ?? DEFAULT_PARENT;
  if (isCgroup2(root)) return new CgroupV2Manager(root, parent);
  const hierarchies = findV1Hierarchies(root);
  if (hierarchies.size > 0) return new CgroupV1Manager(hierarchies, parent);
  throw new AgentFailure(
    'E_CGROUP_UNSUPPORTED',
    `no cgroup file system is mounted at ${root} (neither cgroup2 nor cgroup v1 controller hierarchies): containers need cgroups`,
  );
}

export interface CgroupFacts {
  readonly version: 'v1' | 'v2' | 'hybrid' | 'none';
  /** Controllers the runtime can use: v2 the root's cgroup.controllers, v1 the mounted hierarchies. */
  readonly controllers: string[];
}

export function cgroupFacts(root = DEFAULT_ROOT): CgroupFacts {
  const words = (file: string) => {
    try {
      return readFileSync(file, 'utf8').split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  };
  const resolved = resolve(root);
  if (isCgroup2(resolved)) return { version: 'v2', controllers: words(join(resolved, 'cgroup.controllers')).sort() };
  const v1 = [...findV1Hierarchies(resolved).keys()];
  if (v1.length === 0) return { version: 'none', controllers: [] };
  const unified = join(resolved, 'unified');
  const hybrid = isCgroup2(unified);
  return { version: hybrid ? 'hybrid' : 'v1', controllers: [...new Set([...v1, ...(hybrid ? words(join(unified, 'cgroup.controllers')) : [])])].sort() };
}
