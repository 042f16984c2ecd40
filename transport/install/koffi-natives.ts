// koffi in the agent bundle. koffi finds its native module (koffi.node) through
// node_modules: first the @koromix/koffi-<platform>-<arch> package, then koffi's own
// build directory. A host has neither, so the bundle carries the modules itself under
// koffi/<libc>_<abi>/koffi.node next to agent-code.cjs, and an esbuild plugin swaps koffi's
// package lookup (src/static.js) for a lookup there.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/** A native module to ship: its name in the bundle and where it is on this machine. */
export interface KoffiNative {
  /** `koffi/linux_x64/koffi.node` */
  readonly name: string;
  readonly source: string;
}

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
      const name = `koffi/${dir}/koffi.node`;
      if (/^(linux|musl)_/.test(dir) && existsSync(source) && !found.has(name)) found.set(name, { name, source });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

// Replaces koffi's src/static.js (loadStatic: require the @koromix package). Returning
// null would make koffi fall back to its own build directory, which a host lacks: the
// error that follows ("Cannot find the native Koffi module") is the right one then.
const STATIC_LOADER = `
import { existsSync, readdirSync } from 'node:fs';

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
      return require(dir + name + '/koffi.node');
    } catch (e) {
      error ??= e;
    }
  }
  if (error) throw error;
  return null;
}
`;

/**
 * The esbuild plugin that makes the bundled koffi load the modules shipped next to it;
 * `swapped()` tells afterwards whether koffi's loader was found and replaced.
 */
export function koffiNativesPlugin(): { plugin: Plugin; swapped: () => boolean } {
  let swapped = false;
  const plugin: Plugin = {
    name: 'tsinfra-koffi-natives',
    setup(build) {
      build.onLoad({ filter: /[\\/]koffi[\\/]src[\\/]koffi[\\/]src[\\/]static\.js$/ }, () => {
        swapped = true;
        return { contents: STATIC_LOADER, loader: 'js' };
      });
    },
  };
  return { plugin, swapped: () => swapped };
}
