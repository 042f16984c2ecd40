// Filesystems on logical volumes: made once (mkfs), grown online, shrunk (ext4 only, never
// below its minimum), relabelled, and probed for import and refresh. Every command that
// writes goes through the runner as a logged change.
//
// Growing: ext4 grows online with resize2fs when mounted, after a forced check when not
// (resize2fs refuses an unmounted filesystem that was mounted since its last check).
// xfs grows only mounted (xfs_growfs takes a mount point): where it is mounted in this
// namespace, else on a temporary mount point. A volume that is open but not mounted
// here (mounted only inside a container's namespace) is refused: an offline resize of
// a filesystem mounted elsewhere corrupts it; the supervisor keeps a host-side mount of
// every volume it hands to a container, so this is a broken setup, not a normal case.
import { mkdtemp, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentFailure } from '../rpc/failure.js';
import type { CommandRunner } from '../system/command.js';
import { parseBlkidExport, mountedFrom } from './device-check.js';
import { ensureMounted, unmountIfMounted } from './lv-mount.js';
import { formatBytes } from './lvm-size.js';
import { lastLines, runChange } from './lvm.js';

export type FilesystemType = 'ext4' | 'xfs';
export const FILESYSTEM_TYPES: readonly FilesystemType[] = ['ext4', 'xfs'];

/** What blkid says is on a device. */
export interface ProbedFilesystem {
  readonly type: string;
  readonly label: string | null;
}

/** Longest label each filesystem stores (bytes). */
export const MAX_LABEL: Readonly<Record<FilesystemType, number>> = { ext4: 16, xfs: 12 };
/** Labels become /dev/disk/by-label names and command arguments: plain characters only. */
const LABEL = /^[A-Za-z0-9_.+@:-]+$/;

const MKFS_TIMEOUT_MS = 30 * 60_000;
const CHECK_TIMEOUT_MS = 60 * 60_000;
const PROBE_TIMEOUT_MS = 30_000;

/** Why `label` cannot label a `type` filesystem, or undefined. */
export function labelProblem(type: FilesystemType, label: string): string | undefined {
  if (!LABEL.test(label)) return 'may contain letters, digits and "_", ".", "+", "@", ":", "-" only';
  if (label.length > MAX_LABEL[type]) return `is longer than ${MAX_LABEL[type]} characters (the most ${type} stores)`;
  return undefined;
}

export function mkfsArgv(type: FilesystemType, device: string, label: string | null): string[] {
  return [`mkfs.${type}`, '-q', ...(label !== null ? ['-L', label] : []), device];
}

/** Label changes: ext4 online or not; xfs through its mount point when mounted. */
export function setLabelArgv(type: FilesystemType, device: string, label: string | null, mountPoint: string | undefined): string[] {
  if (type === 'ext4') return ['e2label', device, label ?? ''];
  if (mountPoint !== undefined) return ['xfs_io', '-c', `label ${label === null ? '-c' : `-s ${label}`}`, mountPoint];
  return ['xfs_admin', '-L', label ?? '--', device];
}

/** `Estimated minimum size of the filesystem: 27738` (blocks) from `resize2fs -P`. */
export function parseResize2fsMinimum(stdout: string): number | undefined {
  const m = /minimum size of the filesystem:\s*(\d+)/i.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** `Block size:  4096` from `dumpe2fs -h`. */
export function parseExtBlockSize(stdout: string): number | undefined {
  const m = /^Block size:\s*(\d+)/m.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

export class Filesystems {
  constructor(private readonly runner: CommandRunner) {}

  /** The filesystem on `device`, or null when blkid finds none. */
  async probe(device: string): Promise<ProbedFilesystem | null> {
    const out = await this.runner.tryRun(['blkid', '-p', '-o', 'export', device], { timeoutMs: PROBE_TIMEOUT_MS });
    if (out.code === 2) return null;
    if (out.code !== 0) throw new AgentFailure('E_LVM_FS', `blkid -p ${device} failed (exit ${out.code}): ${lastLines(out.stderr)}`);
    const tags = parseBlkidExport(out.stdout);
    const type = tags.get('TYPE');
    return type ? { type, label: tags.get('LABEL') || null } : null;
  }

  async make(what: string, type: FilesystemType, device: string, label: string | null): Promise<void> {
    await runChange(this.runner, 'E_LVM_FS', `${what}: making the ${type} filesystem`, mkfsArgv(type, device, label), MKFS_TIMEOUT_MS);
  }

  /** Grows the filesystem to fill its (grown) volume; `open`: lvm2 reports the volume open. */
  async grow(what: string, type: FilesystemType, device: string, open: boolean): Promise<void> {
    const mountPoint = mountedFrom(device);
    const grow = `${what}: growing the ${type} filesystem`;
    if (open && mountPoint === undefined) {
      // Mounted in a container's namespace only. Growing it offline would corrupt it; a
      // mount here gets the same superblock (the kernel shares it), so the grow is online.
      await this.withTemporaryMount(device, type, (dir) =>
        runChange(this.runner, 'E_LVM_FS', grow, type === 'ext4' ? ['resize2fs', device] : ['xfs_growfs', dir], CHECK_TIMEOUT_MS),
      );
      return;
    }
    if (type === 'ext4') {
      if (mountPoint === undefined) await this.check(what, device);
      await runChange(this.runner, 'E_LVM_FS', grow, ['resize2fs', device], CHECK_TIMEOUT_MS);
      return;
    }
    if (mountPoint !== undefined) {
      await runChange(this.runner, 'E_LVM_FS', grow, ['xfs_growfs', mountPoint], CHECK_TIMEOUT_MS);
      return;
    }
    await this.withTemporaryMount(device, type, (dir) => runChange(this.runner, 'E_LVM_FS', grow, ['xfs_growfs', dir], CHECK_TIMEOUT_MS));
  }

  /** e2fsck -f -p: what resize2fs wants before it touches an unmounted ext4. */
  async check(what: string, device: string): Promise<void> {
    // It repairs what it safely can: a change, so logged.
    const out = await this.runner.tryRun(['e2fsck', '-f', '-p', device], { mutates: true, timeoutMs: CHECK_TIMEOUT_MS });
    // 0: clean, 1: errors fixed, 2: fixed, reboot advised (the root filesystem only). 4 and up: not fixed.
    if (out.code > 2) {
      throw new AgentFailure(
        'E_LVM_FS',
        `${what}: the filesystem check found problems it did not fix: e2fsck -f -p ${device} exited ${out.code}: ${lastLines(out.stderr + out.stdout)}`,
      );
    }
  }

  /** The least an (unmounted, checked) ext4 can be shrunk to, in bytes: resize2fs -P blocks times the block size. */
  async ext4MinimumBytes(what: string, device: string): Promise<number> {
    const min = await this.runner.tryRun(['resize2fs', '-P', device], { timeoutMs: CHECK_TIMEOUT_MS });
    const blocks = parseResize2fsMinimum(min.stdout);
    const header = await this.runner.tryRun(['dumpe2fs', '-h', device], { timeoutMs: PROBE_TIMEOUT_MS });
    const blockSize = parseExtBlockSize(header.stdout);
    if (min.code !== 0 || blocks === undefined || blockSize === undefined) {
      throw new AgentFailure(
        'E_LVM_FS',
        `${what}: cannot tell how small its filesystem can get: resize2fs -P ${device} exited ${min.code}: ${lastLines(min.stderr || min.stdout)}`,
      );
    }
    return blocks * blockSize;
  }

  async setLabel(what: string, type: FilesystemType, device: string, label: string | null): Promise<void> {
    const argv = setLabelArgv(type, device, label, type === 'xfs' ? mountedFrom(device) : undefined);
    await runChange(this.runner, 'E_LVM_FS', `${what}: changing the filesystem label`, argv);
  }

  private async withTemporaryMount(device: string, type: FilesystemType, body: (dir: string) => Promise<unknown>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'tsinfra-grow-'));
    try {
      ensureMounted(device, dir, type, []);
      try {
        await body(dir);
      } finally {
        unmountIfMounted(dir);
      }
    } finally {
      await rmdir(dir).catch(() => {});
    }
  }
}

/** `shrinking vg0/data from 3 GiB to 1 GiB`: the numbers for messages. */
export function describeResize(from: number, to: number): string {
  return `from ${formatBytes(from)} (${from} bytes) to ${formatBytes(to)} (${to} bytes)`;
}
