// The `facts` method: what a host has, from cheap reads only (no scans, nothing
// that can hang): kernel, cgroup layout, tools, interfaces, free space.
import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { IpRoute } from './network/iproute.js';
import type { Facts } from './rpc/protocol.js';
import { findProgram, type CommandRunner } from './system/command.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const TMPFS_MAGIC = 0x01021994;

export interface FactsOptions {
  readonly runner: CommandRunner;
  readonly stateDir: string;
  /** Where cgroup file systems are mounted; tests point it elsewhere. */
  readonly cgroupRoot?: string;
}

export async function collectFacts(options: FactsOptions): Promise<Facts> {
  const ip = findProgram('ip');
  const [cgroup, interfaces, freeBytes] = await Promise.all([
    cgroupFacts(options.cgroupRoot ?? '/sys/fs/cgroup'),
    ip ? interfacesFromIp(options.runner) : interfacesFromNode(),
    freeSpace(options.stateDir),
  ]);
  return {
    kernel_release: release(),
    hostname: hostname(),
    arch: arch(),
    cpus: cpus().length,
    memory_bytes: totalmem(),
    cgroup,
    tools: { lvm2: findProgram('lvm') !== undefined, nft: findProgram('nft') !== undefined, ip: ip !== undefined },
    interfaces,
    state_dir_free_bytes: freeBytes,
  };
}

async function fsType(path: string): Promise<number | undefined> {
  try {
    return (await statfs(path)).type;
  } catch {
    return undefined;
  }
}

async function lines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n');
  } catch {
    return [];
  }
}

/** v2: one unified hierarchy; v1: a tmpfs of per-controller mounts; hybrid: v1 plus `unified`. */
export async function cgroupFacts(root: string): Promise<Facts['cgroup']> {
  const type = await fsType(root);
  const v2Controllers = async (dir: string) => (await lines(join(dir, 'cgroup.controllers'))).join(' ').split(/\s+/).filter(Boolean);
  if (type === CGROUP2_SUPER_MAGIC) return { version: 'v2', controllers: await v2Controllers(root) };
  if (type !== TMPFS_MAGIC) return { version: 'none', controllers: [] };
  // /proc/cgroups: name, hierarchy id (0 = not mounted as v1), count, enabled.
  const v1 = (await lines('/proc/cgroups'))
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/))
    .filter((f) => f[1] !== '0' && f[3] === '1')
    .map((f) => f[0]!);
  const unified = join(root, 'unified');
  if ((await fsType(unified)) === CGROUP2_SUPER_MAGIC) {
    return { version: 'hybrid', controllers: [...new Set([...v1, ...(await v2Controllers(unified))])].sort() };
  }
  return { version: 'v1', controllers: v1.sort() };
}

async function interfacesFromIp(runner: CommandRunner): Promise<Facts['interfaces']> {
  const links = await new IpRoute(runner).links();
  return links.map((l) => ({ name: l.name, mtu: l.mtu, addresses: l.addresses.map((a) => `${a.address}/${a.prefix}`) }));
}

/** Without iproute2: Node's view (up interfaces with addresses only, no mtu). */
function interfacesFromNode(): Facts['interfaces'] {
  return Object.entries(networkInterfaces()).map(([name, addrs]) => ({
    name,
    mtu: null,
    addresses: (addrs ?? []).map((a) => a.cidr ?? a.address),
  }));
}

async function freeSpace(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}
