// Small state files that must never be half-written nor forgotten after a crash
// (addresses handed out, links to undo, peers of other hosts): written to a temporary
// file, synced, renamed over the old one, and the rename synced too.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `text` (mode 0600; its directory must exist). A crash leaves the
 * old file or the new one, never a torn one, and once this returns the new one survives.
 */
export function replaceFileDurably(path: string, text: string): void {
  // One per process: the agent and the supervisor may write the same directory.
  const tmp = `${path}.tmp-${process.pid}`;
  // One left by a crashed process of the same pid goes, so that `wx` makes it new, 0600.
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    const bytes = Buffer.from(text, 'utf8');
    for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written, bytes.length - written, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dirname(path));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
