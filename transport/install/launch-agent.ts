// Runs the agent's code (agent-code.cjs) from V8's code cache when one fits this Node.js.
// Two callers: agent.mjs (agent-launcher.ts: `node agent.mjs [program]`), and a fresh
// session's bootstrap (host-bootstrap.ts), which gets this function as source text and
// calls it in its own process, sparing the ES module loader it would start to import
// agent.mjs (about 5 ms of CPU per host). So, like hostBootstrap, it imports nothing,
// refers to nothing outside itself, and keeps to syntax an old Node.js parses (the
// bootstrap must get as far as saying the Node.js is too old).
//
// Why a cache: every fresh host starts an agent, and compiling the bundle is about a
// third of that start (see docs/fleets.md). A code cache skips the compile:
//
//   agent-code.cache              made at build time by the workstation's Node.js (shipped
//                                 and checksummed with the bundle); V8 refuses it when the
//                                 host's Node.js or flags differ
//   host-cache/<node>-<arch>.cache  made on the host by the first session agent that could
//                                 not use the shipped one, for the next starts (host-cache/
//                                 also holds koffi's unpacked module, koffi-natives.ts)
//
// A cache V8 refuses costs nothing but the compile it would have saved.

export interface LaunchFiles {
  /** The bundle's directory on this host. */
  readonly dir: string;
  /** agent.mjs there: the programs start each other as `node <entry> <program>`. */
  readonly entry: string;
  readonly codeFile: string;
  readonly codeCacheFile: string;
  readonly hostCacheDir: string;
  /** The environment variable that asks for the cache to be written at exit (the build). */
  readonly writeCacheEnv: string;
}

export function launchAgent(require: NodeJS.Require, files: LaunchFiles): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const vm = require('node:vm') as typeof import('node:vm');
  const nodeModule = require('node:module') as typeof import('node:module');

  process.env['TSINFRA_AGENT_BUNDLE'] = files.entry;
  const codePath = path.join(files.dir, files.codeFile);
  const hostCachePath = path.join(files.dir, files.hostCacheDir, process.version + '-' + process.arch + '.cache');
  const source = '(function (exports, require, module, __filename, __dirname) {' + fs.readFileSync(codePath, 'utf8') + '\n})';

  // The first cache V8 accepts. A refused cache still compiles the source, so the host's
  // own cache is tried first: it exists only where the shipped one was refused.
  let script: import('node:vm').Script | undefined;
  let cached = false;
  for (const cachePath of [hostCachePath, path.join(files.dir, files.codeCacheFile)]) {
    let cachedData: Buffer;
    try {
      cachedData = fs.readFileSync(cachePath);
    } catch {
      continue;
    }
    script = new vm.Script(source, { filename: codePath, cachedData });
    if (!script.cachedDataRejected) {
      cached = true;
      break;
    }
  }
  const compiled = script || new vm.Script(source, { filename: codePath });

  // Written when the process ends, so that the functions it ran are in the cache too.
  const writeCacheOnExit = (cachePath: string): void => {
    process.on('exit', () => {
      try {
        fs.mkdirSync(path.dirname(cachePath), { recursive: true, mode: 0o700 });
        const tmp = cachePath + '.tmp-' + process.pid;
        fs.writeFileSync(tmp, compiled.createCachedData(), { mode: 0o600 });
        fs.renameSync(tmp, cachePath);
      } catch {
        // A cache is an optimisation: a read-only or full disk only costs the next start its compile.
      }
    });
  };
  const buildCache = process.env[files.writeCacheEnv];
  if (buildCache) writeCacheOnExit(buildCache);
  // Only the session agent (no program argument) writes: the supervisor runs with other V8
  // flags, and a container init is in the container's namespaces by the time it exits.
  else if (!cached && process.argv[2] === undefined && process.getuid && process.getuid() === 0) writeCacheOnExit(hostCachePath);

  const module = { exports: {} };
  (compiled.runInThisContext() as (...args: unknown[]) => void).call(
    module.exports,
    module.exports,
    nodeModule.createRequire(codePath),
    module,
    codePath,
    files.dir,
  );
}
