// Unpacks one layer tar into a private, empty staging directory, member by member,
// refusing anything that could write outside it:
//   - absolute names and `..` components (refused, not stripped);
//   - a member below a symbolic link made by an earlier member (`a -> /etc`, then `a/x`):
//     every parent directory is checked with lstat (and remembered) before a write;
//   - hard links whose target is outside the layer or not (yet) in it;
//   - device nodes other than whiteouts, and overlayfs xattrs.
// Files are created with O_EXCL|O_NOFOLLOW after removing what was there, so a member
// never writes through a link either. Directories get their mode, owner and mtime last
// (deepest first), once nothing more is written into them. Owners, setuid bits and file
// capabilities (security.capability) are kept as the archive says: images need them.
import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, unlink, utimes } from 'node:fs/promises';
import type { AgentLog } from '../log.js';
import { isAgentFailure } from '../rpc/failure.js';
import { lsetxattr, mknod } from '../runtime/libc.js';
import type { ByteSource } from './byte-source.js';
import { baseOf, isWithin, joinRel, normaliseEntryPath, parentOf } from './entry-path.js';
import { IMAGE_ERRORS, imageFailure, unsafeEntry, type ImageLocation } from './image-errors.js';
import { readEntryData, readTar, type TarEntry } from './tar-reader.js';
import { classifyWhiteout, isWhiteoutDevice, makeOpaque, makeWhiteout } from './whiteouts.js';

export interface UnpackResult {
  /** Bytes of regular file data written. */
  readonly bytes: number;
  readonly entries: number;
  readonly whiteouts: number;
}

interface DirMeta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
}

const S_IFIFO = 0o010000;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const IMPLICIT_DIR: DirMeta = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };
/** xattrs applied as the archive gives them; other namespaces (selinux labels, ACLs) are dropped. */
const KEPT_XATTR = (name: string) => name === 'security.capability' || name.startsWith('user.');

export class LayerUnpacker {
  /** Directories (relative) known to be real directories created or checked in this unpack. */
  private readonly dirs = new Set<string>(['']);
  private readonly dirMeta = new Map<string, DirMeta>([['', IMPLICIT_DIR]]);
  private readonly droppedXattrs = new Set<string>();

  constructor(
    /** Absolute staging directory: empty, private to this unpack. */
    private readonly root: string,
    /** archive + layer, for messages. */
    private readonly at: ImageLocation,
    private readonly log: AgentLog,
  ) {}

  async unpack(src: ByteSource): Promise<UnpackResult> {
    let bytes = 0;
    let entries = 0;
    let whiteouts = 0;
    for await (const entry of readTar(src, this.at)) {
      entries++;
      const where = { ...this.at, entry: entry.name };
      try {
        const r = await this.apply(entry, src, where);
        bytes += r.bytes;
        whiteouts += r.whiteout ? 1 : 0;
      } catch (e) {
        if (isAgentFailure(e)) throw e;
        throw imageFailure(IMAGE_ERRORS.unpack, where, `cannot unpack: ${(e as Error).message}`);
      }
    }
    await this.finishDirectories();
    if (this.droppedXattrs.size) this.log.info(`${this.at.layer}: ignored extended attributes ${[...this.droppedXattrs].sort().join(', ')}`);
    return { bytes, entries, whiteouts };
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  private async apply(entry: TarEntry, src: ByteSource, where: ImageLocation): Promise<{ bytes: number; whiteout: boolean }> {
    const p = normaliseEntryPath(entry.name);
    if (!p.ok) throw unsafeEntry(where, `${p.why}: members must stay inside the layer`);
    const rel = p.rel;
    const none = { bytes: 0, whiteout: false };
    if (rel === '') {
      if (entry.type !== 'directory') throw unsafeEntry(where, `a ${entry.type} in place of the layer's root directory`);
      this.dirMeta.set('', meta(entry));
      return none;
    }
    // AUFS bookkeeping (`.wh..wh.plnk/...`) is skipped with everything below it.
    if (rel.split('/').some((c) => classifyWhiteout(c).kind === 'aufs-meta')) return none;
    const parent = parentOf(rel);
    const wh = classifyWhiteout(baseOf(rel));
    if (wh.kind === 'opaque') {
      await this.ensureDirectory(parent, where);
      makeOpaque(this.abs(parent));
      return { bytes: 0, whiteout: true };
    }
    if (wh.kind === 'whiteout') {
      if (wh.name === '' || wh.name === '.' || wh.name === '..') throw imageFailure(IMAGE_ERRORS.invalid, where, 'whiteout without a file name');
      await this.ensureDirectory(parent, where);
      // A file of the same name in this very layer stays: whiteouts hide lower layers only.
      const target = joinRel(parent, wh.name);
      if ((await lstatOrNull(this.abs(target))) === null) makeWhiteout(this.abs(target));
      return { bytes: 0, whiteout: true };
    }
    await this.ensureDirectory(parent, where);
    const path = this.abs(rel);
    switch (entry.type) {
      case 'directory': {
        const st = await lstatOrNull(path);
        if (st && !st.isDirectory()) await this.removeExisting(rel);
        if (!st?.isDirectory()) await mkdir(path, 0o700);
        this.dirs.add(rel);
        this.dirMeta.set(rel, meta(entry));
        await this.setXattrs(entry, path, where);
        return none;
      }
      case 'file':
        await this.removeExisting(rel);
        return { bytes: await this.writeFile(entry, src, path, where), whiteout: false };
      case 'symlink':
        if (entry.linkname === '') throw imageFailure(IMAGE_ERRORS.invalid, where, 'symbolic link without a target');
        await this.removeExisting(rel);
        await symlink(entry.linkname, path);
        await lchown(path, entry.uid, entry.gid);
        await lutimes(path, entry.mtime, entry.mtime);
        return none;
      case 'hardlink':
        await this.hardlink(entry, rel, where);
        return none;
      case 'char':
      case 'block':
        if (!isWhiteoutDevice(entry.type, entry.devmajor, entry.devminor)) {
          throw unsafeEntry(
            where,
            `a ${entry.type} device node (${entry.devmajor}:${entry.devminor}); images may not carry device nodes (a container gets its own /dev)`,
          );
        }
        await this.removeExisting(rel);
        makeWhiteout(path);
        return { bytes: 0, whiteout: true };
      case 'fifo':
        await this.removeExisting(rel);
        mknod(path, S_IFIFO | 0o600, 0, 0);
        await this.setOwnerModeTime(path, entry);
        return none;
    }
  }

  /** Makes sure `rel` is a real directory of this layer, creating missing ones, refusing symbolic links on the way. */
  private async ensureDirectory(rel: string, where: ImageLocation): Promise<void> {
    if (this.dirs.has(rel)) return;
    let prefix = '';
    for (const part of rel.split('/')) {
      prefix = joinRel(prefix, part);
      if (this.dirs.has(prefix)) continue;
      const st = await lstatOrNull(this.abs(prefix));
      if (st === null) {
        await mkdir(this.abs(prefix), 0o700);
        this.dirMeta.set(prefix, IMPLICIT_DIR);
      } else if (st.isSymbolicLink()) {
        throw unsafeEntry(where, `is below ${prefix}, a symbolic link in this layer: writing through it could leave the layer`);
      } else if (!st.isDirectory()) {
        throw imageFailure(IMAGE_ERRORS.invalid, where, `is below ${prefix}, which is not a directory in this layer`);
      }
      this.dirs.add(prefix);
    }
  }

  /** Removes whatever an earlier member left at `rel` (tar semantics: the last member wins). */
  private async removeExisting(rel: string): Promise<void> {
    const path = this.abs(rel);
    const st = await lstatOrNull(path);
    if (st === null) return;
    if (!st.isDirectory()) return unlink(path);
    await rm(path, { recursive: true, force: true });
    for (const d of [...this.dirs]) if (isWithin(d, rel)) this.dirs.delete(d);
    for (const d of [...this.dirMeta.keys()]) if (isWithin(d, rel)) this.dirMeta.delete(d);
  }

  private async writeFile(entry: TarEntry, src: ByteSource, path: string, where: ImageLocation): Promise<number> {
    const fh = await open(path, CREATE_FLAGS, 0o600);
    let written = 0;
    try {
      for await (const chunk of readEntryData(src, entry, where)) {
        await fh.write(chunk, 0, chunk.length);
        written += chunk.length;
      }
      // chown clears setuid bits and file capabilities: mode and xattrs come after it.
      await fh.chown(entry.uid, entry.gid);
      await fh.chmod(entry.mode);
    } finally {
      await fh.close();
    }
    await this.setXattrs(entry, path, where);
    await utimes(path, entry.mtime, entry.mtime);
    return written;
  }

  private async hardlink(entry: TarEntry, rel: string, where: ImageLocation): Promise<void> {
    const target = normaliseEntryPath(entry.linkname);
    if (!target.ok || target.rel === '') {
      throw unsafeEntry(where, `hard link to ${JSON.stringify(entry.linkname)}: ${target.ok ? 'the layer root' : target.why}`);
    }
    // The target's directories must be real ones of this layer, like any write's.
    await this.ensureExistingDirectory(parentOf(target.rel), where);
    const st = await lstatOrNull(this.abs(target.rel));
    if (st === null) throw imageFailure(IMAGE_ERRORS.invalid, where, `hard link to ${target.rel}, which is not in this layer (before the link)`);
    if (st.isDirectory()) throw imageFailure(IMAGE_ERRORS.invalid, where, `hard link to ${target.rel}, a directory`);
    if (target.rel === rel) return;
    await this.removeExisting(rel);
    await link(this.abs(target.rel), this.abs(rel));
  }

  private async ensureExistingDirectory(rel: string, where: ImageLocation): Promise<void> {
    let prefix = '';
    for (const part of rel === '' ? [] : rel.split('/')) {
      prefix = joinRel(prefix, part);
      if (this.dirs.has(prefix)) continue;
      const st = await lstatOrNull(this.abs(prefix));
      if (st?.isSymbolicLink()) throw unsafeEntry(where, `hard link through ${prefix}, a symbolic link: it could reach outside the layer`);
      if (!st?.isDirectory()) throw imageFailure(IMAGE_ERRORS.invalid, where, `hard link below ${prefix}, which is not a directory of this layer`);
      this.dirs.add(prefix);
    }
  }

  private async setXattrs(entry: TarEntry, path: string, where: ImageLocation): Promise<void> {
    for (const [name, value] of entry.xattrs) {
      if (name.startsWith('trusted.overlay.')) throw unsafeEntry(where, `sets ${name}, an overlayfs attribute only the agent may set`);
      if (KEPT_XATTR(name)) lsetxattr(path, name, value);
      else this.droppedXattrs.add(name);
    }
  }

  private async setOwnerModeTime(path: string, m: DirMeta): Promise<void> {
    await chown(path, m.uid, m.gid);
    await chmod(path, m.mode);
    await utimes(path, m.mtime, m.mtime);
  }

  private async finishDirectories(): Promise<void> {
    const depth = (rel: string) => (rel === '' ? 0 : rel.split('/').length);
    const ordered = [...this.dirMeta].sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [rel, m] of ordered) await this.setOwnerModeTime(this.abs(rel), m);
  }
}

function meta(entry: TarEntry): DirMeta {
  return { mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime };
}

async function lstatOrNull(path: string) {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}
