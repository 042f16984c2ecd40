// koffi in the agent bundle. koffi finds its native module (koffi.node) through
// node_modules: first the @koromix/koffi-<platform>-<arch> package, then koffi's own
// build directory. A host has neither, so the bundle carries the modules itself under
// koffi/<libc>_<abi>/koffi.node.br next to agent-code.cjs, and an esbuild plugin swaps
// koffi's package lookup (src/static.js) for a lookup there.
//
// The modules ship brotli-compressed, and the first process on a host that loads koffi
// unpacks its module into host-cache/koffi/<libc>_<abi>/koffi.node, checked against the
// sha256 the build recorded in the loader. Most sessions never load koffi (a network's
// are iproute2 and nft), and unpacking 1.1 MB at install was a quarter of the CPU a
// fresh host's agent spent before its first answer.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';
import { HOST_CACHE_DIR } from './bundle-files.js';

/** A native module to ship: its name in the bundle and where it is on this machine. */
export interface KoffiNative {
  /** `linux_x64`: koffi's name for the libc and ABI it is built for. */
  readonly dir: string;
  /** `koffi/linux_x64/koffi.node.br`: compressed, as shipped. */
  readonly name: string;
  readonly source: string;
}

/** koffi/<dir>/koffi.node.br: the bundle's file name of a native module. */
export const KOFFI_NATIVE = /^koffi\/([^/]+)\/koffi\.node\.br$/;

/** The koffi native modules installed on this machine, for every architecture npm fetched. */
export function findKoffiNatives(fromDir: string): KoffiNative[] {
  const require = createRequire(join(fromDir, 'noop.js'));
  // koffi's CommonJS entry (index.cjs) sits at the package's root.
  const koffiDir = dirname(require.resolve('koffi'));
  const roots = [join(koffiDir, 'build', 'koffi')];
  const scope = join(dirname(koffiDir), '@koromix');
  if (existsSync(scope)) {
    for (const pkg of readdirSync(scope)) if (/^koffi-linux-/.test(pkg)) roots.push(join(scope, pkg));
  }
  const found = new Map<string, KoffiNative>();
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const dir of readdirSync(root)) {
      const source = join(root, dir, 'koffi.node');
      const name = `koffi/${dir}/koffi.node.br`;
      if (/^(linux|musl)_/.test(dir) && existsSync(source) && !found.has(name)) found.set(name, { dir, name, source });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// Replaces koffi's src/static.js (loadStatic: require the @koromix package). Returning
// null would make koffi fall back to its own build directory, which a host lacks: the
// error that follows ("Cannot find the native Koffi module") is the right one then.
// SUMS (koffi directory -> sha256 of its koffi.node) is filled in at build time.
const staticLoader = (sums: Readonly<Record<string, string>>): string => `
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { brotliDecompressSync } from 'node:zlib';

const SUMS = ${JSON.stringify(sums)};

export function loadStatic() {
  // The bundle is a CommonJS script: __dirname and require are its own.
  const dir = __dirname + '/koffi/';
  if (!existsSync(dir)) return null;
  const names = readdirSync(dir);
  // glibc first; a module for the other libc fails to load and the next one is tried.
  const candidates = [process.platform + '_' + process.arch, 'musl_' + process.arch]
    .flatMap((prefix) => names.filter((n) => n.startsWith(prefix)));
  let error = null;
  for (const name of candidates) {
    try {
      return loadUnpacked(name);
    } catch (e) {
      error ??= e;
    }
  }
  if (error) throw error;
  return null;
}

function loadUnpacked(name) {
  const target = __dirname + '/${HOST_CACHE_DIR}/koffi/' + name + '/koffi.node';
  if (existsSync(target)) {
    try {
      return require(target);
    } catch {
      // Damaged (a full disk, a crash while writing): unpacked again below.
      rmSync(target, { force: true });
    }
  }
  const packed = __dirname + '/koffi/' + name + '/koffi.node.br';
  let raw = null;
  try {
    raw = brotliDecompressSync(readFileSync(packed));
  } catch {
    // Not brotli any more: reported as damaged below.
  }
  if (raw === null || createHash('sha256').update(raw).digest('hex') !== SUMS[name])
    throw new Error(packed + ' does not unpack to the module this agent was built with: the installed agent is damaged; apply again to repair it');
  mkdirSync(__dirname + '/${HOST_CACHE_DIR}/koffi/' + name, { recursive: true, mode: 0o700 });
  // Several processes may unpack at once: each writes its own file, and a rename is atomic.
  const tmp = target + '.tmp-' + process.pid;
  writeFileSync(tmp, raw, { mode: 0o600 });
  renameSync(tmp, target);
  return require(target);
}
`;

/**
 * The esbuild plugin that makes the bundled koffi load the modules shipped next to it;
 * `swapped()` tells afterwards whether koffi's loader was found and replaced.
 */
export function koffiNativesPlugin(natives: readonly KoffiNative[]): { plugin: Plugin; swapped: () => boolean } {
  const sums = Object.fromEntries(natives.map((n) => [n.dir, createHash('sha256').update(readFileSync(n.source)).digest('hex')]));
  let swapped = false;
  const plugin: Plugin = {
    name: 'tsinfra-koffi-natives',
    setup(build) {
      build.onLoad({ filter: /[\\/]koffi[\\/]src[\\/]koffi[\\/]src[\\/]static\.js$/ }, () => {
        swapped = true;
        return { contents: staticLoader(sums), loader: 'js' };
      });
    },
  };
  return { plugin, swapped: () => swapped };
}
