// `rootfs:PATH`: a directory made into a one-layer image. It is copied (the source may
// change later; the store's copy must not), and its layer id is the sha256 of a
// canonical walk: for each entry in name order, a line with its path, type, mode,
// owner, size, link target and file capabilities, followed by a file's bytes. mtimes
// are left out, so touching a file does not make a new image. This is not the digest
// of any tar: it identifies the content, nothing more.
//
// Device nodes directly under dev/ are skipped (a container gets its own /dev, and
// debootstrap leaves some there); anywhere else they are refused, as in layers.
// Sockets are skipped.
import { createHash } from 'node:crypto';
import { constants, type BigIntStats } from 'node:fs';
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, stat, symlink, utimes, type FileHandle } from 'node:fs/promises';
import type { AgentLog } from '../log.js';
import { AgentFailure, isAgentFailure } from '../rpc/failure.js';
import { lsetxattr } from '../runtime/libc.js';
import { SHA256_PREFIX } from './digest.js';
import { CAPABILITY_XATTR, readFileCapabilities } from './file-capabilities.js';
import { IMAGE_ERRORS, imageFailure, unsafeEntry, type ImageLocation } from './image-errors.js';

interface WalkEntry {
  readonly rel: string;
  readonly path: string;
  readonly st: BigIntStats;
}

const COPY_CHUNK = 1 << 20;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Entries below `root` (not root itself), parents before children, names in byte order. */
async function* walk(root: string, rel = ''): AsyncGenerator<WalkEntry> {
  const dir = rel === '' ? root : `${root}/${rel}`;
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const path = `${root}/${childRel}`;
    const st = await lstat(path, { bigint: true });
    yield { rel: childRel, path, st };
    if (st.isDirectory()) yield* walk(root, childRel);
  }
}

function typeOf(st: BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

/** The directory, which must exist; throws E_IMAGE_SOURCE otherwise. */
export async function checkRootfs(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw new AgentFailure(IMAGE_ERRORS.source, `rootfs ${path} is not a directory`);
  } catch (e) {
    if (isAgentFailure(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new AgentFailure(IMAGE_ERRORS.source, `cannot read rootfs ${path}: ${code === 'ENOENT' ? 'no such directory' : (e as Error).message}`);
  }
}

/**
 * A cheap fingerprint of the tree (lstat data only: names, sizes, modes, owners, inode
 * numbers and times): when it is unchanged, the content digest is too.
 */
export async function rootfsFingerprint(root: string): Promise<string> {
  await checkRootfs(root);
  const h = createHash('sha256');
  const top = await stat(root, { bigint: true });
  h.update(`.\0${top.mode}\0${top.uid}\0${top.gid}\0${top.mtimeNs}\0${top.ctimeNs}\n`);
  for await (const e of walk(root)) {
    const s = e.st;
    h.update(`${e.rel}\0${s.mode}\0${s.uid}\0${s.gid}\0${s.size}\0${s.ino}\0${s.mtimeNs}\0${s.ctimeNs}\n`);
  }
  return SHA256_PREFIX + h.digest('hex');
}

class RootfsWalker {
  private readonly hash = createHash('sha256');
  private readonly linked = new Map<string, string>();
  private readonly dirs: { rel: string; st: BigIntStats }[] = [];
  bytes = 0;

  constructor(
    private readonly source: string,
    /** Where the copy goes; undefined to hash only. */
    private readonly dest: string | undefined,
    private readonly log: AgentLog,
  ) {}

  async run(): Promise<string> {
    const at: ImageLocation = { archive: `rootfs ${this.source}` };
    const top = await stat(this.source, { bigint: true });
    this.hash.update(`.\0dir\0${(top.mode & 0o7777n).toString(8)}\0${top.uid}\0${top.gid}\n`);
    for await (const e of walk(this.source)) {
      try {
        await this.entry(e, { ...at, entry: e.rel });
      } catch (err) {
        if (isAgentFailure(err)) throw err;
        throw imageFailure(IMAGE_ERRORS.unpack, { ...at, entry: e.rel }, `cannot copy: ${(err as Error).message}`);
      }
    }
    if (this.dest !== undefined) {
      for (const d of this.dirs.reverse()) await setMeta(`${this.dest}/${d.rel}`, d.st);
      await setMeta(this.dest, top);
    }
    return SHA256_PREFIX + this.hash.digest('hex');
  }

  private async entry(e: WalkEntry, where: ImageLocation): Promise<void> {
    const { st, rel } = e;
    const type = typeOf(st);
    if (type === 'char' || type === 'block' || type === 'socket') {
      if (type === 'socket' || /^dev\/[^/]+$/.test(rel)) {
        this.log.info(`rootfs ${this.source}: skipping ${type} ${rel}`);
        return;
      }
      throw unsafeEntry(where, `a ${type} device node; images may not carry device nodes (a container gets its own /dev)`);
    }
    const out = this.dest === undefined ? undefined : `${this.dest}/${rel}`;
    const key = `${st.dev}:${st.ino}`;
    const first = type === 'file' && st.nlink > 1n ? this.linked.get(key) : undefined;
    if (first !== undefined) {
      this.hash.update(`${rel}\0hardlink\0${first}\n`);
      if (out) await link(`${this.dest}/${first}`, out);
      return;
    }
    const target = type === 'symlink' ? await readlink(e.path) : '';
    const caps = type === 'file' ? readFileCapabilities(e.path) : undefined;
    const size = type === 'file' ? st.size : 0n;
    this.hash.update(`${rel}\0${type}\0${(st.mode & 0o7777n).toString(8)}\0${st.uid}\0${st.gid}\0${size}\0${target}\0${caps?.toString('hex') ?? ''}\n`);
    switch (type) {
      case 'dir':
        if (out) await mkdir(out, 0o700);
        this.dirs.push({ rel, st });
        return;
      case 'symlink':
        if (out) {
          await symlink(target, out);
          await lchown(out, Number(st.uid), Number(st.gid));
          await lutimes(out, st.atime, st.mtime);
        }
        return;
      case 'fifo':
        throw imageFailure(IMAGE_ERRORS.unsupported, where, 'named pipes in a rootfs are not supported; remove it');
      case 'file':
        if (st.nlink > 1n) this.linked.set(key, rel);
        await this.copyFile(e.path, out, size, where);
        if (out) {
          await chown(out, Number(st.uid), Number(st.gid));
          await chmod(out, Number(st.mode & 0o7777n));
          if (caps) lsetxattr(out, CAPABILITY_XATTR, caps);
          await utimes(out, st.atime, st.mtime);
        }
        return;
    }
  }

  /** Hashes (and copies) the file's bytes; refuses a file that changes size while read. */
  private async copyFile(path: string, out: string | undefined, size: bigint, where: ImageLocation): Promise<void> {
    const from = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    let to: FileHandle | undefined;
    try {
      to = out === undefined ? undefined : await open(out, CREATE_FLAGS, 0o600);
      const buf = Buffer.allocUnsafe(COPY_CHUNK);
      let total = 0n;
      for (;;) {
        const { bytesRead } = await from.read(buf, 0, COPY_CHUNK, null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        this.hash.update(chunk);
        if (to) await to.write(chunk, 0, chunk.length);
        total += BigInt(bytesRead);
      }
      if (total !== size) throw imageFailure(IMAGE_ERRORS.source, where, 'the file changed while it was copied; try again');
      this.bytes += Number(total);
    } finally {
      await from.close();
      await to?.close();
    }
  }
}

async function setMeta(path: string, st: BigIntStats): Promise<void> {
  await chown(path, Number(st.uid), Number(st.gid));
  await chmod(path, Number(st.mode & 0o7777n));
  await utimes(path, st.atime, st.mtime);
}

/** Copies `source` into `dest` (an empty private directory); returns the layer's diff id and size. */
export async function copyRootfs(source: string, dest: string, log: AgentLog): Promise<{ diffId: string; bytes: number }> {
  await checkRootfs(source);
  const w = new RootfsWalker(source, dest, log);
  const diffId = await w.run();
  return { diffId, bytes: w.bytes };
}

/** The layer id the directory has now, without copying it. */
export async function hashRootfs(source: string, log: AgentLog): Promise<string> {
  await checkRootfs(source);
  return new RootfsWalker(source, undefined, log).run();
}
