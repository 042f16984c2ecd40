// The `facts` method: what a host has, from cheap reads only (no scans, nothing
// that can hang): kernel, cgroup layout, tools, interfaces, free space, LVM volume
// groups, and the agent's and Node's versions.
import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, networkInterfaces, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { IpRoute } from './network/iproute.js';
import type { Facts } from './rpc/protocol.js';
import { findProgram, type CommandRunner } from './system/command.js';
import { agentBuild } from './version.js';

export interface FactsOptions {
  readonly runner: CommandRunner;
  readonly stateDir: string;
  /** Where cgroup file systems are mounted; tests point it elsewhere. */
  readonly cgroupRoot?: string;
}

export async function collectFacts(options: FactsOptions): Promise<Facts> {
  const ip = findProgram('ip');
  const [cgroup, interfaces, freeBytes, lvm] = await Promise.all([
    cgroupFacts(options.cgroupRoot ?? '/sys/fs/cgroup'),
    ip ? interfacesFromIp(options.runner) : interfacesFromNode(),
    freeSpace(options.stateDir),
    lvmFacts(options.runner),
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
    lvm,
    agent_version: agentBuild(),
    node_version: process.version,
  };
}

/** vgs can wait on a held LVM lock; facts must not hang on it. */
const VGS_TIMEOUT_MS = 10_000;

/**
 * LVM volume groups from lvm2's `vgs` (absent: present false). A vgs that fails (no
 * device access, a held lock) still means LVM is there: the groups are then empty and
 * `error` says why, rather than failing the whole facts call.
 */
/** `vgs`: the program, or null for a host without it (tests; undefined looks it up). */
export async function lvmFacts(runner: CommandRunner, vgs: string | null = findProgram('vgs') ?? null): Promise<Lvm> {
  if (!vgs) return { present: false, volume_groups: [] };
  try {
    const out = await runner.tryRun([vgs, '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_size,vg_free'], {
      timeoutMs: VGS_TIMEOUT_MS,
    });
    if (out.code !== 0) {
      const why = out.stderr.trim().split('\n').pop() || 'no error output';
      return { present: true, volume_groups: [], error: `vgs failed (exit ${out.code}): ${why}` };
    }
    return { present: true, volume_groups: parseVgsReport(out.stdout) };
  } catch (e) {
    return { present: true, volume_groups: [], error: (e as Error).message };
  }
}

type Lvm = NonNullable<Facts['lvm']>;

/**
 * `vgs --reportformat json --units b --nosuffix` output: `{"report":[{"vg":[{"vg_name":
 * "vg0","vg_size":"10733223936","vg_free":"5368709120"}]}]}` (sizes are strings; a
 * trailing unit letter or decimals are tolerated, as older lvm2 releases print them).
 */
export function parseVgsReport(text: string): Lvm['volume_groups'] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  const reports = (doc as { report?: unknown }).report;
  if (!Array.isArray(reports)) return [];
  const bytes = (v: unknown): number => {
    const n = Number.parseFloat(String(v ?? ''));
    return Number.isFinite(n) ? Math.round(n) : 0;
  };
  const out: Lvm['volume_groups'] = [];
  for (const r of reports) {
    const vgs = (r as { vg?: unknown }).vg;
    if (!Array.isArray(vgs)) continue;
    for (const vg of vgs as Record<string, unknown>[]) {
      if (typeof vg['vg_name'] !== 'string' || vg['vg_name'] === '') continue;
      out.push({ name: vg['vg_name'], size_bytes: bytes(vg['vg_size']), free_bytes: bytes(vg['vg_free']) });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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
