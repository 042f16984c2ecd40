// Attribute paths as written in `sensitivePaths`: `password`, `env.TOKEN`,
// `mount[0].source`, `extra_hosts["db.local"]` (a quoted key for names with dots).
import type { AttrPath } from '../plan-engine/values.js';

const SEGMENT = /\.?([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;

/** Parses a path string; undefined when it is not one. */
export function parseAttrPath(s: string): AttrPath | undefined {
  const out: (string | number)[] = [];
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < s.length) {
    const at = SEGMENT.lastIndex;
    const m = SEGMENT.exec(s);
    if (!m) return undefined;
    if (m[1] !== undefined) {
      // A leading dot only between segments, never at the start.
      if ((at === 0) === m[0].startsWith('.')) return undefined;
      out.push(m[1]);
    } else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out.length > 0 ? out : undefined;
}

/** The canonical string of a path (the inverse of parseAttrPath). */
export function formatAttrPath(path: AttrPath): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(p)) s += s === '' ? p : `.${p}`;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s;
}

function child(container: unknown, key: string | number): unknown {
  if (typeof key === 'number') return Array.isArray(container) ? container[key] : undefined;
  if (typeof container === 'object' && container !== null && !Array.isArray(container) && Object.hasOwn(container, key)) {
    return (container as Record<string, unknown>)[key];
  }
  return undefined;
}

/** Reads the value at a path of JSON-like data; undefined when absent. */
export function getAt(root: unknown, path: AttrPath): unknown {
  let cur = root;
  for (const p of path) {
    cur = child(cur, p);
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Replaces the value at an existing path (mutates `root`); false when the path is absent. */
export function replaceAt(root: unknown, path: AttrPath, value: unknown): boolean {
  if (path.length === 0) return false;
  const parent = getAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (child(parent, last) === undefined) return false;
  (parent as Record<string | number, unknown>)[last] = value;
  return true;
}

/**
 * Finds the concrete path a path string names in `root`. Exact syntax first; then, since
 * producers may join keys with dots even when a key holds dots or odd characters
 * (`extra_hosts.db.local`, `ports.8080/tcp`), every way of splitting the string at dots
 * is tried against the data. A secret must not go unprotected because of path spelling.
 */
export function resolveAttrPath(root: unknown, s: string): AttrPath | undefined {
  const exact = parseAttrPath(s);
  if (exact && getAt(root, exact) !== undefined) return exact;
  return resolveDotted(root, s.split('.'));
}

function resolveDotted(node: unknown, parts: readonly string[]): (string | number)[] | undefined {
  if (parts.length === 0) return [];
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    const candidates: (string | number)[] = [key];
    if (Array.isArray(node) && /^\d+$/.test(key)) candidates.unshift(Number(key));
    for (const k of candidates) {
      const next = child(node, k);
      if (next === undefined) continue;
      const rest = resolveDotted(next, parts.slice(take));
      if (rest) return [k, ...rest];
    }
  }
  return undefined;
}
