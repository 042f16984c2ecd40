// Resolves a container's `user` (`uid`, `uid:gid`, `name`, `name:group`) against the
// container's own /etc/passwd and /etc/group, read after pivot_root: the image decides
// what names mean, never the host.
import { readFileSync } from 'node:fs';

export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids: number[];
  readonly home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readTable(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

const NUMERIC = /^\d+$/;

export function resolveUser(spec: string, root = '/'): Credentials {
  const passwd: PasswdEntry[] = readTable(`${root}etc/passwd`)
    .filter((f) => f.length >= 4 && NUMERIC.test(f[2]!) && NUMERIC.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
  const groups = readTable(`${root}etc/group`).filter((f) => f.length >= 3 && NUMERIC.test(f[2]!));
  const [userPart, groupPart] = spec === '' ? ['0', undefined] : spec.split(':', 2);
  let entry: PasswdEntry | undefined;
  let uid: number;
  if (NUMERIC.test(userPart!)) {
    uid = Number(userPart);
    entry = passwd.find((p) => p.uid === uid);
  } else {
    entry = passwd.find((p) => p.name === userPart);
    if (!entry) throw new Error(`user "${userPart}" is not in the container's /etc/passwd`);
    uid = entry.uid;
  }
  let gid: number;
  if (groupPart === undefined || groupPart === '') {
    gid = entry?.gid ?? 0;
  } else if (NUMERIC.test(groupPart)) {
    gid = Number(groupPart);
  } else {
    const g = groups.find((f) => f[0] === groupPart);
    if (!g) throw new Error(`group "${groupPart}" is not in the container's /etc/group`);
    gid = Number(g[2]);
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new Error(`user "${spec}": id out of range`);
  // Supplementary groups: those listing the user by name, as login(1) would set them.
  const additionalGids = entry ? groups.filter((f) => (f[3] ?? '').split(',').includes(entry.name) && Number(f[2]) !== gid).map((f) => Number(f[2])) : [];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}
