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
import { createHash, randomBytes } from 'node:crypto';
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
  const dir = __dirname + '/${HOST_CACHE_DIR}/koffi/' + name;
  const target = dir + '/koffi.node';
  // Checked at every load, as the bundle's own files are at every bootstrap: what root's
  // processes map must be what the build shipped (about 1 ms).
  if (!isBuilt(name, readOrNull(target))) unpack(name, dir, target);
  return require(target);
}

function readOrNull(path) {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

function isBuilt(name, bytes) {
  return bytes !== null && createHash('sha256').update(bytes).digest('hex') === SUMS[name];
}

function unpack(name, dir, target) {
  const packed = __dirname + '/koffi/' + name + '/koffi.node.br';
  let raw = null;
  try {
    raw = brotliDecompressSync(readFileSync(packed));
  } catch {
    // Missing, or not brotli any more: reported as damaged below.
  }
  if (!isBuilt(name, raw))
    throw new Error(packed + ' does not unpack to the module this agent was built with: the installed agent is damaged; apply again to repair it');
  // Several processes may unpack at once (container inits are pid 1 of their own
  // namespace: no pid in the name): each writes a file of its own, and a rename is atomic.
  const tmp = target + '.tmp-' + randomBytes(6).toString('hex');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, raw, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error("cannot unpack koffi's native module into " + dir + ': ' + e.message);
  }
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
