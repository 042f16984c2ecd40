// The files of the agent bundle (see agent-bundle.ts), shared by the build, the
// installer and the launcher on hosts (agent-launcher.ts).

/** The file hosts run: the launcher. */
export const BUNDLE_ENTRY = 'agent.mjs';
export const BUNDLE_MANIFEST = 'agent.json';
/** The agent's code: agent-entry.ts and everything it imports, as one CommonJS script. */
export const CODE_FILE = 'agent-code.cjs';
/** V8's code cache of CODE_FILE, made at build time by the build machine's Node.js. */
export const CODE_CACHE_FILE = 'agent-code.cache';
/** What a host makes for itself, not part of the checksummed files: the code cache where its Node.js refused CODE_CACHE_FILE, koffi's unpacked module (koffi-natives.ts). */
export const HOST_CACHE_DIR = 'host-cache';
/** Tells the launcher to write the code cache to this path when the program exits (the build). */
export const WRITE_CACHE_ENV = 'TSINFRA_AGENT_WRITE_CODE_CACHE';
/** Brotli-compressed copies of the bundle's files, by sha256 (made at build time; not part of the checksummed files). */
export const COMPRESSED_DIR = 'compressed';
/** What a compressed file's name ends with: in COMPRESSED_DIR (by checksum), and koffi's modules. */
export const COMPRESSED_SUFFIX = '.br';
/** The names launch-agent.ts needs, for agent.mjs and for the bootstrap that runs it without the file. */
export const LAUNCH_FILE_NAMES = {
  codeFile: CODE_FILE,
  codeCacheFile: CODE_CACHE_FILE,
  hostCacheDir: HOST_CACHE_DIR,
  writeCacheEnv: WRITE_CACHE_ENV,
} as const;
