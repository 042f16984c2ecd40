// Directories of the agent's state that hold one `<network id>.json` file per network
// (the IPAM's addresses, the network records).
import { readdirSync } from 'node:fs';
import { isSafeLinkName } from './link-name.js';

/** The ids of the networks that have a file in `dir`, in the order of the file names; none without `dir`. Other files are not ours. */
export function networkFileIds(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return names
    .filter((n) => n.endsWith('.json') && isSafeLinkName(n.slice(0, -5)))
    .sort()
    .map((n) => n.slice(0, -5));
}
