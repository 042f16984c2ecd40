// What an image store holds, by area, to check that a refused import left nothing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Everything the store holds, by area (sources/ is a cache and not listed). */
export function storeContents(root: string): Record<string, string[]> {
  const list = (d: string) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).sort() : []);
  return { layers: list('layers'), images: list('images'), blobs: list('blobs/sha256'), tmp: list('tmp') };
}

export const EMPTY_STORE = { layers: [], images: [], blobs: [], tmp: [] };
