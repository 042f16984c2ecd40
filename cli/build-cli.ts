// `npm run build` runs this after tsc: makes the CLI start fast.
//
//   oclif.manifest.json   at the package root. Without it oclif imports every command (so
//                         nearly the whole engine) to learn their flags before running the
//                         one asked for: `tsinfra --version` took 0.40 s, 0.14 s with it.
//   dist/cli-bundle/      each command bundled with esbuild (our code, zod, diff: one file
//                         per command plus shared chunks), which the manifest points oclif
//                         at. Loading ~300 small ES modules one by one was most of a
//                         command's start (`plan` on 50 hosts: 0.33 s of 1.6 s).
//
// Both are generated, never committed: a manifest from an older build would hide new
// commands. Without them oclif finds dist/cli/commands itself (slower, same behaviour),
// which is also what tests that import commands directly run. `tsc` alone does not
// refresh the bundle: bin/run.js runs what the last `npm run build` made.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';
import { build, type Plugin as EsbuildPlugin } from 'esbuild';
import { zodLocalesPlugin } from '../transport/install/zod-locales.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const DIST = join(ROOT, 'dist');
const COMMANDS = join(DIST, 'cli', 'commands');
const OUT = join(DIST, 'cli-bundle');
/**
 * Left to node_modules: oclif (commands must extend the Command class oclif itself
 * loaded), ssh2 (finds its optional native crypto module by path), and what is loaded
 * only when needed or is large and native-backed.
 */
const EXTERNAL = ['@oclif/core', 'ssh2', 'koffi', '@cdktf/hcl2json', 'esbuild', 'typescript'];
/** Defined at the top of every bundled file: the URL of dist/, from that file's own. */
const DIST_URL = '__tsinfraDistUrl';

const plugin = new Plugin({ root: ROOT, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const manifest = plugin.manifest;
const ids = Object.keys(manifest.commands);
if (ids.length === 0) throw new Error(`bug: oclif found no commands under ${COMMANDS}`);

// Flat names: every output file sits directly in OUT, so one banner fits them all.
const entryPoints: Record<string, string> = {};
for (const id of ids) {
  const source = join(ROOT, ...manifest.commands[id]!.relativePath!);
  if (!source.startsWith(COMMANDS + sep)) throw new Error(`bug: command ${id} is not under ${COMMANDS}`);
  const flat = id.replaceAll(':', '-');
  if (entryPoints[flat]) throw new Error(`bug: commands ${id} and another both bundle as ${flat}.js`);
  entryPoints[flat] = source;
}

// The manifest goes first and comes back last: a build that fails half-way leaves oclif
// finding dist/cli/commands itself, never a manifest that points at missing files.
const MANIFEST = join(ROOT, 'oclif.manifest.json');
rmSync(MANIFEST, { force: true });
const TMP = `${OUT}.tmp-${process.pid}`;
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });
try {
  const zodLocales = zodLocalesPlugin();
  const result = await build({
    entryPoints,
    outdir: TMP,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: EXTERNAL,
    logLevel: 'warning',
    legalComments: 'none',
    sourcemap: 'linked',
    // Bundled CommonJS dependencies call require(): give ES module output one.
    banner: {
      js: [
        "import { createRequire as __tsinfraCreateRequire } from 'node:module';",
        'const require = __tsinfraCreateRequire(import.meta.url);',
        `const ${DIST_URL} = new URL('../', import.meta.url);`,
      ].join('\n'),
    },
    plugins: [zodLocales.plugin, moduleUrlPlugin()],
  });
  if (result.errors.length > 0) throw new Error('bug: bundling the CLI failed');
  if (!zodLocales.replaced()) throw new Error("bug: zod's locales were not left out of the CLI bundle (has zod's layout changed?)");
  rmSync(OUT, { recursive: true, force: true });
  renameSync(TMP, OUT);
} finally {
  rmSync(TMP, { recursive: true, force: true });
}

for (const id of ids) {
  const command = manifest.commands[id]!;
  command.relativePath = relative(ROOT, join(OUT, `${id.replaceAll(':', '-')}.js`)).split(sep);
}
writeFileSync(`${MANIFEST}.tmp-${process.pid}`, JSON.stringify(manifest, null, 2) + '\n');
renameSync(`${MANIFEST}.tmp-${process.pid}`, MANIFEST);
console.log(`CLI: ${ids.length} commands bundled in ${relative(ROOT, OUT)}/ (${sizeOf(OUT)} kB), oclif.manifest.json`);

/**
 * Our modules find files next to themselves (workers, the agent bundle, package.json)
 * through import.meta.url, which in a bundle is the bundle's: each one gets its own
 * original URL back, made from dist/'s.
 */
function moduleUrlPlugin(): EsbuildPlugin {
  return {
    name: 'tsinfra-module-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!args.path.startsWith(DIST + sep) || !text.includes('import.meta')) return undefined;
        const own = relative(DIST, args.path).split(sep).join('/');
        // Not inside quotes: the agent bundle's esbuild options name import.meta properties as strings.
        const replaced = text.replace(/(?<!['"`])\bimport\.meta\.url\b/g, `new URL(${JSON.stringify(own)}, ${DIST_URL}).href`);
        if (/(?<!['"`])\bimport\.meta\.(dirname|filename|resolve)\b/.test(replaced))
          throw new Error(`bug: ${own} uses an import.meta property the CLI bundle does not rewrite`);
        return { contents: replaced, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

function sizeOf(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) if (name.endsWith('.js')) bytes += statSync(join(dir, name)).size;
  return Math.round(bytes / 1024);
}
