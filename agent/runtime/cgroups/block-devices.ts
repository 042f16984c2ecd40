// Block device paths <-> the "MAJ:MIN" numbers cgroup throttle files use.
import { readFile, stat } from 'node:fs/promises';
import { AgentFailure } from '../../rpc/failure.js';
import type { DeviceRate } from './cgroup-manager.js';

/** glibc's major()/minor() on a 64-bit dev_t. */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return { major, minor };
}

/** "MAJ:MIN" of the block device at `path` (symlinks followed). */
export async function blockDeviceNumber(path: string, attribute: string): Promise<string> {
  let st;
  try {
    st = await stat(path, { bigint: true });
  } catch (e) {
    throw new AgentFailure('E_CGROUP_DEVICE', `${attribute}: cannot find device ${path} (${(e as Error).message})`);
  }
  if (!st.isBlockDevice()) throw new AgentFailure('E_CGROUP_DEVICE', `${attribute}: ${path} is not a block device`);
  const { major, minor } = splitDev(st.rdev);
  return `${major}:${minor}`;
}

/** Map "MAJ:MIN" -> rate for a list of device rates. */
export async function resolveRates(rates: readonly DeviceRate[] | undefined, attribute: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const { path, rate } of rates ?? []) out.set(await blockDeviceNumber(path, attribute), rate);
  return out;
}

/** /dev/NAME from sysfs (/sys/dev/block/MAJ:MIN/uevent), else udev's /dev/block/MAJ:MIN link. */
export async function devicePath(dev: string): Promise<string> {
  try {
    const name = /^DEVNAME=(.+)$/m.exec(await readFile(`/sys/dev/block/${dev}/uevent`, 'utf8'))?.[1];
    if (name) return `/dev/${name}`;
  } catch {
    // no sysfs entry: the device is gone
  }
  return `/dev/block/${dev}`;
}

/**
 * Rates the kernel has, back in user terms: a device keeps the path `recorded` gave it
 * (when it still resolves to the same numbers), else its /dev name.
 */
export async function ratesFromKernel(kernel: ReadonlyMap<string, number>, recorded: readonly DeviceRate[] | undefined): Promise<DeviceRate[]> {
  const pathOf = new Map<string, string>();
  for (const { path } of recorded ?? []) {
    try {
      pathOf.set(await blockDeviceNumber(path, 'observe'), path);
    } catch {
      // the device went away: the kernel's numbers are all there is
    }
  }
  const out: DeviceRate[] = [];
  for (const [dev, rate] of kernel) out.push({ path: pathOf.get(dev) ?? (await devicePath(dev)), rate });
  return out;
}

/** True when both maps hold the same devices with the same rates. */
export function sameRates(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([dev, rate]) => b.get(dev) === rate);
}
