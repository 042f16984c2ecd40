// Names of layer members, checked before anything is written: a member must stay inside
// the layer (no absolute path, no `..`), whatever the tar says.

export type EntryPath = { ok: true; rel: string } | { ok: false; why: string };

/**
 * `./usr//bin/` -> `usr/bin`; the layer root is "". Absolute names and `..` components
 * are refused rather than stripped: an image that contains them was made to attack, or
 * by a broken tool, and either way its meaning is unclear.
 */
export function normaliseEntryPath(name: string): EntryPath {
  if (name.startsWith('/')) return { ok: false, why: 'absolute path' };
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return { ok: false, why: 'path with ".." (would escape the layer)' };
    parts.push(p);
  }
  return { ok: true, rel: parts.join('/') };
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

export function joinRel(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/** Whether `rel` is `dir` or below it. */
export function isWithin(rel: string, dir: string): boolean {
  return dir === '' || rel === dir || rel.startsWith(`${dir}/`);
}
