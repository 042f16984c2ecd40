// OCI whiteouts turned into what overlayfs understands, so that unpacked layers can be
// stacked as lowerdirs as they are:
//   `DIR/.wh.NAME`     -> DIR/NAME is a character device 0:0 (NAME deleted below)
//   `DIR/.wh..wh..opq` -> DIR carries xattr trusted.overlay.opaque=y (lower DIR hidden)
// Other `.wh..wh.` names are AUFS bookkeeping (hard link dirs) and mean nothing here.
import { mknod, lsetxattr } from '../runtime/libc.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const AUFS_META_PREFIX = '.wh..wh.';

export const OPAQUE_XATTR = 'trusted.overlay.opaque';
const S_IFCHR = 0o020000;

export type WhiteoutKind = { kind: 'opaque' } | { kind: 'whiteout'; name: string } | { kind: 'aufs-meta' } | { kind: 'none' };

/** What a member's base name means; a `.wh.` name without a target is malformed ('none' is never returned for it). */
export function classifyWhiteout(base: string): WhiteoutKind {
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'none' };
  if (base === OPAQUE_MARKER) return { kind: 'opaque' };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'aufs-meta' };
  return { kind: 'whiteout', name: base.slice(WHITEOUT_PREFIX.length) };
}

/** An overlayfs whiteout at `path` (which must not exist). */
export function makeWhiteout(path: string): void {
  mknod(path, S_IFCHR, 0, 0);
}

export function makeOpaque(dir: string): void {
  lsetxattr(dir, OPAQUE_XATTR, Buffer.from('y'));
}

export function isWhiteoutDevice(type: string, major: number, minor: number): boolean {
  return type === 'char' && major === 0 && minor === 0;
}
