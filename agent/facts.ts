// The `facts` method: what a host has, from cheap reads only (no scans, nothing
// that can hang): kernel, cgroup layout, tools, interfaces, free space.
import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { IpRoute } from './network/iproute.js';
import type { Facts } from './rpc/protocol.js';
import { findProgram, type CommandRunner } from './system/command.js';

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

async function lines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n');
  } catch {
    return [];
  }
}

/**
 * The cgroup layout from /proc/self/cgroup, which (unlike /sys/fs/cgroup) is there in
 * every mount namespace: `N:cpu,cpuacct:/...` lines are v1 hierarchies, `0::/...`
 * is the unified (v2) one; both together is the hybrid layout.
 */
export function parseCgroupMembership(text: string): { version: Facts['cgroup']['version']; v1Controllers: string[] } {
  let unified = false;
  const v1: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') unified = true;
    else v1.push(...m[2]!.split(',').filter((c) => c && !c.startsWith('name=')));
  }
  const version = v1.length > 0 ? (unified ? 'hybrid' : 'v1') : unified ? 'v2' : 'none';
  return { version, v1Controllers: v1 };
}

export async function cgroupFacts(root: string): Promise<Facts['cgroup']> {
  const { version, v1Controllers } = parseCgroupMembership((await lines('/proc/self/cgroup')).join('\n'));
  const words = async (path: string) => (await lines(path)).join(' ').split(/\s+/).filter(Boolean);
  let v2Controllers: string[] = [];
  if (version === 'v2') {
    v2Controllers = await words(join(root, 'cgroup.controllers'));
    // Not mounted in this mount namespace (ip netns exec remounts /sys): the kernel's list.
    if (v2Controllers.length === 0) {
      v2Controllers = (await lines('/proc/cgroups'))
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(/\s+/))
        .filter((f) => f[3] === '1')
        .map((f) => f[0]!);
    }
  } else if (version === 'hybrid') {
    v2Controllers = await words(join(root, 'unified', 'cgroup.controllers'));
  }
  return { version, controllers: [...new Set([...v1Controllers, ...v2Controllers])].sort() };
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
