// Platforms in OCI's terms (`linux/amd64`, `linux/arm64/v8`): which image of a
// multi-platform archive this host runs.
import { arch } from 'node:os';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string | undefined;
}

// Node's process.arch names -> GOARCH names used by images.
const NODE_TO_OCI: Readonly<Record<string, string>> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips: 'mips',
};

export function hostPlatform(): Platform {
  return { os: 'linux', architecture: NODE_TO_OCI[arch()] ?? arch() };
}

export const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** `linux/arm64/v8` -> Platform; undefined when malformed. */
export function parsePlatform(s: string): Platform | undefined {
  if (!PLATFORM_RE.test(s)) return undefined;
  const [os, architecture, variant] = s.split('/') as [string, string, string | undefined];
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** Whether an image for `have` runs where `want` is asked; a variant is compared only when asked for. */
export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  // arm64 images usually say v8 or nothing: the same thing.
  const variant = (p: Platform) => (p.architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant);
  return variant(want) === undefined || variant(want) === variant(have);
}
