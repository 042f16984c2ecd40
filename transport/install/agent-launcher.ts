// agent.mjs, the file hosts run (`node agent.mjs [supervisor | init ...]`): checks the
// Node.js version, then runs the agent's code, agent-code.cjs (agent-entry.ts bundled as
// one CommonJS script), compiled from V8's code cache when one fits this Node.js.
//
// Why: every fresh host starts an agent, and compiling the 1.4 MB bundle is about a
// third of that start (see docs/fleets.md). A code cache skips the compile:
//
//   agent-code.cache              made at build time by the workstation's Node.js (shipped
//                                 and checksummed with the bundle); V8 refuses it when the
//                                 host's Node.js or flags differ
//   host-cache/<node>-<arch>.cache  made on the host by the first session agent that could
//                                 not use the shipped one, for the next starts
//
// A cache V8 refuses costs nothing but the compile it would have saved.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { CODE_CACHE_FILE, CODE_FILE, HOST_CACHE_DIR, WRITE_CACHE_ENV } from './bundle-files.js';

const MIN_NODE_MAJOR = 20;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(`tsinfra agent: needs Node.js ${MIN_NODE_MAJOR} or newer, ${process.execPath} is ${process.version}\n`);
  process.exit(1);
}

const self = fileURLToPath(import.meta.url);
const dir = dirname(self);
// The programs start each other as `node <this file> <program>` (agent/entry-points.ts).
process.env['TSINFRA_AGENT_BUNDLE'] = self;

const codePath = join(dir, CODE_FILE);
const hostCachePath = join(dir, HOST_CACHE_DIR, `${process.version}-${process.arch}.cache`);
const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(codePath, 'utf8')}\n})`;

/**
 * The script, from the first cache V8 accepts. A refused cache still compiles the source,
 * so the host's own cache is tried first: it exists only where the shipped one was refused.
 */
function compile(): { script: Script; cached: boolean } {
  let script: Script | undefined;
  for (const path of [hostCachePath, join(dir, CODE_CACHE_FILE)]) {
    let cachedData: Buffer;
    try {
      cachedData = readFileSync(path);
    } catch {
      continue;
    }
    script = new Script(source, { filename: codePath, cachedData });
    if (!script.cachedDataRejected) return { script, cached: true };
  }
  return { script: script ?? new Script(source, { filename: codePath }), cached: false };
}

/** Written when the process ends, so that the functions it ran are in the cache too. */
function writeCacheOnExit(script: Script, path: string): void {
  process.on('exit', () => {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.tmp-${process.pid}`;
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      renameSync(tmp, path);
    } catch {
      // A cache is an optimisation: a read-only or full disk only costs the next start its compile.
    }
  });
}

const { script, cached } = compile();
const buildCache = process.env[WRITE_CACHE_ENV];
if (buildCache) writeCacheOnExit(script, buildCache);
// Only the session agent (no program argument) writes: the supervisor runs with other V8
// flags, and a container init is in the container's namespaces by the time it exits.
else if (!cached && process.argv[2] === undefined && process.getuid?.() === 0) writeCacheOnExit(script, hostCachePath);

const module = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(codePath), module, codePath, dir);
