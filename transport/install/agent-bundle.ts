// The agent as installed on hosts: a directory with
//
//   agent.mjs          the launcher (agent-launcher.ts): checks Node.js, runs agent-code.cjs
//   agent-code.cjs     the agent, the supervisor and the container init in one esbuild
//                      bundle (CommonJS, see agent-entry.ts)
//   agent-code.cache   V8's code cache of it, made here by running the bundle once
//   koffi/<libc>_<abi>/koffi.node.br   koffi's native modules, unpacked on a host when first
//                      loaded (koffi-natives.ts)
//   agent.json         { "version": "0.1.0-<12 hex>", "node": ">=20", "files": { name: sha256 } }
//
// The version is AGENT_VERSION plus a hash of every file but the code cache (V8 does not
// make the same bytes twice), so any change to the code is a new version and is uploaded
// again. A host receives the agent's files and the native modules of its own
// architecture, with an agent.json that lists just those (hostBundle).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { brotliCompressSync, constants as zlib } from 'node:zlib';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { AGENT_VERSION } from '../../agent/version.js';
import {
  BUNDLE_ENTRY,
  BUNDLE_MANIFEST,
  CODE_CACHE_FILE,
  CODE_FILE,
  COMPRESSED_DIR,
  COMPRESSED_SUFFIX,
  HOST_CACHE_DIR,
  WRITE_CACHE_ENV,
} from './bundle-files.js';
import { koffiDirFits, type HostArch } from './host-arch.js';
import { KOFFI_NATIVE, findKoffiNatives, koffiNativesPlugin } from './koffi-natives.js';
import { zodLocalesPlugin } from './zod-locales.js';

export { BUNDLE_ENTRY, BUNDLE_MANIFEST } from './bundle-files.js';
export const NODE_REQUIREMENT = '>=20';
/** The files every host gets, whatever its architecture. */
const AGENT_FILES = [BUNDLE_ENTRY, CODE_FILE, CODE_CACHE_FILE];

export interface AgentBundle {
  /** Where the bundle is on this machine. */
  readonly dir: string;
  readonly version: string;
  readonly node: string;
  /** Every file but the manifest: name (relative, `/`-separated) -> sha256 (hex). */
  readonly files: Readonly<Record<string, string>>;
}

/** What a host gets: the files for its architecture and their manifest. */
export interface HostBundle {
  readonly version: string;
  /** name -> sha256, agent.json included. */
  readonly files: Readonly<Record<string, string>>;
  /** The host's agent.json. */
  readonly manifest: string;
}

/** dist/agent-bundle, next to the compiled sources (see build-agent-bundle.ts). */
export function defaultAgentBundleDir(): string {
  return fileURLToPath(new URL('../../agent-bundle/', import.meta.url));
}

export interface BuildOptions {
  /** Directory to (re)create. */
  readonly outDir: string;
  /** The compiled agent-entry.js; default: the one next to this module. */
  readonly entry?: string;
  /** Where to find koffi (node_modules is searched upward from here); default: this module's directory. */
  readonly modulesFrom?: string;
}

/** Bundles the compiled agent into `outDir` (written to a temporary directory, then renamed) and seals it. */
export async function buildAgentBundle(options: BuildOptions): Promise<AgentBundle> {
  const entry = options.entry ?? fileURLToPath(new URL('./agent-entry.js', import.meta.url));
  const launcher = join(dirname(entry), 'agent-launcher.js');
  const natives = findKoffiNatives(options.modulesFrom ?? dirname(fileURLToPath(import.meta.url)));
  if (natives.length === 0) throw new Error('bug: no koffi native module found in node_modules (is koffi installed?)');
  const tmp = `${options.outDir.replace(/[\\/]+$/, '')}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const koffi = koffiNativesPlugin(natives);
    const zodLocales = zodLocalesPlugin();
    const common = {
      bundle: true,
      // Comments in the output name sources relative to here: the same bytes from any checkout.
      absWorkingDir: dirname(dirname(dirname(entry))),
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      legalComments: 'none',
    } as const;
    await build({ ...common, entryPoints: [launcher], outfile: join(tmp, BUNDLE_ENTRY), format: 'esm' });
    await build({
      ...common,
      entryPoints: [entry],
      outfile: join(tmp, CODE_FILE),
      format: 'cjs',
      // ESM code in the bundle (koffi's loader) finds its files by its own URL: the bundle's.
      banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__bundleUrl', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename' },
      plugins: [koffi.plugin, zodLocales.plugin],
      // Every fresh host reads, and first receives, this file: no comments or whitespace.
      // Names stay, so that an agent's stack trace still reads.
      minifyWhitespace: true,
      minifySyntax: true,
    });
    const bundled = readFileSync(join(tmp, CODE_FILE), 'utf8');
    if (!koffi.swapped() || bundled.includes('@koromix/koffi-linux'))
      throw new Error("bug: the bundle would look for koffi's native module in node_modules (has koffi's loader changed?)");
    if (!bundled.includes('TSINFRA_AGENT_BUNDLE')) throw new Error(`bug: ${entry} is not the agent's bundle entry`);
    if (!zodLocales.replaced()) throw new Error("bug: zod's locales were not left out of the bundle (has zod's layout changed?)");
    // One non-ASCII character makes V8 hold (and scan) the whole source as UTF-16, twice the bytes.
    const nonAscii = /[^\x00-\x7f]/.exec(bundled);
    if (nonAscii)
      throw new Error(
        `bug: the bundled agent has a non-ASCII character (${JSON.stringify(bundled.slice(Math.max(0, nonAscii.index - 40), nonAscii.index + 10))})`,
      );
    // A module that finds a sibling .js file by its own URL finds nothing in a one-file bundle.
    const siblings = [...bundled.matchAll(/new URL\("(\.{1,2}\/[^"]*\.js)", __bundleUrl\)/g)].map((m) => m[1]);
    if (bundled.includes('import_meta')) throw new Error('bug: bundled agent code uses an import.meta property the bundle does not define');
    if (siblings.length > 0)
      throw new Error(
        `bug: bundled agent code starts ${siblings.join(', ')} by path, which the bundle does not have (start them through agent/entry-points.ts)`,
      );
    for (const n of natives) {
      mkdirSync(join(tmp, dirname(n.name)), { recursive: true });
      writeFileSync(join(tmp, n.name), brotliBest(readFileSync(n.source)));
    }
    makeCodeCache(tmp);
    compressFiles(tmp, sealAgentBundle(tmp));
    rmSync(options.outDir, { recursive: true, force: true });
    mkdirSync(dirname(options.outDir), { recursive: true });
    renameSync(tmp, options.outDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return readAgentBundle(options.outDir);
}

/**
 * Runs the bundled agent once (a short session, in throw-away directories) and
 * keeps V8's code cache of what it compiled: hosts with this Node.js skip that compile.
 */
function makeCodeCache(dir: string): void {
  const scratch = mkdtempSync(join(tmpdir(), 'tsinfra-code-cache-'));
  try {
    // hello, and the read of a bridge that is not there (one `ip` listing, nothing else):
    // what a fresh host's agent runs first.
    const requests = [
      { jsonrpc: '2.0', id: 1, method: 'hello', params: { clientVersion: 'build', protocol: 0 } },
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'resource.read',
        params: { items: [{ type: 'network', state: { driver: 'bridge', bridge: 'tsi-cache-warm', name: 'warm' } }] },
      },
    ];
    execFileSync(process.execPath, [join(dir, BUNDLE_ENTRY)], {
      input: requests.map((r) => JSON.stringify(r) + '\n').join(''),
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        [WRITE_CACHE_ENV]: join(dir, CODE_CACHE_FILE),
        TSINFRA_AGENT_STATE_DIR: join(scratch, 'state'),
        TSINFRA_AGENT_RUN_DIR: join(scratch, 'run'),
      },
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: 60_000,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (!existsSync(join(dir, CODE_CACHE_FILE))) throw new Error(`bug: running the bundled agent in ${dir} left no ${CODE_CACHE_FILE}`);
}

/**
 * compressed/<sha256>.br for every file that is not compressed already: what the SSH
 * transport uploads (0.5 MB of 2.4 MB for a host), compressed once here at brotli's best,
 * not on every run.
 */
function compressFiles(dir: string, bundle: AgentBundle): void {
  mkdirSync(join(dir, COMPRESSED_DIR));
  for (const [name, sum] of Object.entries(bundle.files)) {
    if (!name.endsWith(COMPRESSED_SUFFIX)) writeFileSync(join(dir, COMPRESSED_DIR, sum + COMPRESSED_SUFFIX), brotliBest(readFileSync(join(dir, name))));
  }
}

function brotliBest(raw: Buffer): Buffer {
  return brotliCompressSync(raw, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
}

/** Writes agent.json for the files in `dir` (their hashes make the version, the code cache's excepted). */
export function sealAgentBundle(dir: string): AgentBundle {
  const files: Record<string, string> = {};
  for (const name of listFiles(dir)) if (name !== BUNDLE_MANIFEST) files[name] = sha256File(join(dir, name));
  for (const name of [BUNDLE_ENTRY, CODE_FILE]) if (!files[name]) throw new Error(`bug: ${dir} has no ${name}`);
  const content = createHash('sha256');
  for (const name of Object.keys(files).sort()) if (name !== CODE_CACHE_FILE) content.update(`${files[name]}  ${name}\n`);
  const version = `${AGENT_VERSION}-${content.digest('hex').slice(0, 12)}`;
  writeFileSync(join(dir, BUNDLE_MANIFEST), manifestText(version, files));
  return { dir, version, node: NODE_REQUIREMENT, files };
}

/** Reads and checks a bundle: every file listed is there with its hash. */
export function readAgentBundle(dir: string): AgentBundle {
  const path = join(dir, BUNDLE_MANIFEST);
  let parsed: { version?: unknown; node?: unknown; files?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as typeof parsed;
  } catch (e) {
    throw new Error(`the agent bundle in ${dir} is missing or unreadable (${(e as Error).message}); run \`npm run build\``, { cause: e });
  }
  const { version, node, files } = parsed;
  if (typeof version !== 'string' || typeof node !== 'string' || typeof files !== 'object' || files === null)
    throw new Error(`${path} is not an agent bundle manifest; run \`npm run build\``);
  const checked: Record<string, string> = {};
  for (const [name, sum] of Object.entries(files as Record<string, unknown>)) {
    const file = join(dir, name);
    if (typeof sum !== 'string' || !existsSync(file) || sha256File(file) !== sum)
      throw new Error(`the agent bundle in ${dir} is damaged (${name} differs from ${BUNDLE_MANIFEST}); run \`npm run build\``);
    checked[name] = sum;
  }
  for (const name of [BUNDLE_ENTRY, CODE_FILE]) if (!checked[name]) throw new Error(`${path} lists no ${name}; run \`npm run build\``);
  return { dir, version, node, files: checked };
}

/** The default bundle, built from dist/ first when it is not there (esbuild takes about a second). */
export async function loadAgentBundle(dir = defaultAgentBundleDir()): Promise<AgentBundle> {
  if (!existsSync(join(dir, BUNDLE_MANIFEST))) return buildAgentBundle({ outDir: dir });
  return readAgentBundle(dir);
}

/** The files a host of `arch` gets, or undefined when the bundle has no koffi module for it. */
export function hostBundle(bundle: AgentBundle, arch: HostArch): HostBundle | undefined {
  const files: Record<string, string> = {};
  for (const [name, sum] of Object.entries(bundle.files)) {
    const koffi = KOFFI_NATIVE.exec(name);
    if (AGENT_FILES.includes(name) || (koffi && koffiDirFits(koffi[1]!, arch))) files[name] = sum;
  }
  if (!Object.keys(files).some((n) => n.startsWith('koffi/'))) return undefined;
  const manifest = manifestText(bundle.version, files);
  return { version: bundle.version, files: { ...files, [BUNDLE_MANIFEST]: sha256(manifest) }, manifest };
}

/** The architectures (koffi directory names) the bundle has native modules for. */
export function bundleKoffiDirs(bundle: AgentBundle): string[] {
  return Object.keys(bundle.files).flatMap((n) => KOFFI_NATIVE.exec(n)?.[1] ?? []);
}

function manifestText(version: string, files: Record<string, string>): string {
  const sorted = Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((n) => [n, files[n]]),
  );
  return JSON.stringify({ version, node: NODE_REQUIREMENT, files: sorted }, null, 2) + '\n';
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // Not the bundle's files: copies for the upload, and caches a host (or a local run) made.
    if (dir === root && (name === COMPRESSED_DIR || name === HOST_CACHE_DIR)) return [];
    return statSync(path).isDirectory() ? listFiles(path, root) : [relative(root, path).split(sep).join('/')];
  });
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}
