// Turns a zod error into one line that names the offending field, e.g.
// `params.items[0].type: expected string, received number`.
import type { z } from 'zod';

export function fieldPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || 'message';
}

/** The first few issues, each as `path: message`, joined with `; `. */
export function describeIssues(error: z.ZodError, root: string): string {
  const shown = error.issues.slice(0, 3).map((i) => `${fieldPath(root, i.path)}: ${i.message}`);
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}
