// A host's processor architecture in the three spellings that meet here: `uname -m`
// (what the host reports), Node's `process.arch` (which runtime fits) and koffi's
// native-module directories (`linux_x64`, `musl_arm64`, ... : libc, then ABI).

export interface HostArch {
  /** As `uname -m` prints it. */
  readonly machine: string;
  /** The host's C library, when known: only its koffi module is sent. */
  readonly libc?: 'glibc' | 'musl';
  /** Node's `process.arch` for it, when Node runs there. */
  readonly node: string;
  /** The ABI part of koffi's native-module directory names. */
  readonly koffiAbis: readonly string[];
}

const MACHINES: Record<string, { node: string; koffiAbis: string[] }> = {
  x86_64: { node: 'x64', koffiAbis: ['x64'] },
  amd64: { node: 'x64', koffiAbis: ['x64'] },
  aarch64: { node: 'arm64', koffiAbis: ['arm64'] },
  arm64: { node: 'arm64', koffiAbis: ['arm64'] },
  armv7l: { node: 'arm', koffiAbis: ['armhf', 'armsf'] },
  armv6l: { node: 'arm', koffiAbis: ['armhf', 'armsf'] },
  i686: { node: 'ia32', koffiAbis: ['ia32'] },
  i386: { node: 'ia32', koffiAbis: ['ia32'] },
  riscv64: { node: 'riscv64', koffiAbis: ['riscv64d', 'riscv64'] },
  ppc64le: { node: 'ppc64', koffiAbis: ['ppc64le'] },
  loongarch64: { node: 'loong64', koffiAbis: ['loong64'] },
};

/** The architecture `uname -m` printed, or undefined when tsinfra does not know it. */
export function hostArch(machine: string, libc?: 'glibc' | 'musl'): HostArch | undefined {
  const known = MACHINES[machine];
  return known ? { machine, ...known, ...(libc ? { libc } : {}) } : undefined;
}

/** Whether a koffi directory name (`linux_x64`, `musl_x64`) holds a module for `arch`. */
export function koffiDirFits(dir: string, arch: HostArch): boolean {
  const m = /^(linux|musl)_(.+)$/.exec(dir);
  if (m === null || !arch.koffiAbis.includes(m[2]!)) return false;
  return arch.libc === undefined || (m[1] === 'musl') === (arch.libc === 'musl');
}
