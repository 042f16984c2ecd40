// Evaluates a compiled manifest in a fresh `node:vm` context.
//
//   engine realm                         manifest context (fresh per evaluation)
//   ------------                         -------------------------------------------
//   API bundle (vm.Script, cached) --->  tsinfra API instance   <- require('tsinfra')
//   compiled manifest -------------->    manifest code ---------> default export
//   JSON.parse(document) <-----------    manifestDocumentJson(default export)
//
// The API runs inside the context too, so the manifest's objects, the API's classes
// and its token registry all belong to that context and die with it; only a JSON
// string comes back, so nothing the engine holds afterwards can call into the
// manifest. The context has the language built-ins plus `require` (tsinfra and Node
// built-ins only: everything else was bundled by esbuild), `module`, `exports`,
// `__filename`, `__dirname` and a `console` that is replayed to the engine's stderr.
// No timers, no `process`: the manifest runs once, synchronously.
//
// This isolates globals; it is not a security boundary (a manifest that requires
// `node:fs` has the engine's privileges, as a Terraform provider would).
import { createRequire, isBuiltin } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import type { ManifestDocument } from '../../api/manifest-document.js';

const API_SCRIPT_NAME = 'tsinfra-api.js';

export type Evaluation =
  | { readonly kind: 'document'; readonly document: ManifestDocument }
  | { readonly kind: 'no-manifest'; readonly exported: string }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string; readonly timedOut: boolean };

export interface EvaluateOptions {
  readonly absFile: string;
  readonly code: string;
  /** The file name the script runs under, as its stack frames will show it. */
  readonly scriptName: string;
  readonly timeoutMs: number;
  /** Receives each line the manifest printed with console.*. */
  readonly console: (line: string) => void;
}

/** What the API bundle returns when run in a context. */
interface ApiInstance {
  readonly tsinfra: object;
  manifestDocumentJson(v: unknown): string | undefined;
}

interface ContextTools {
  readonly apiExports: ApiInstance;
  readonly module: { exports: unknown };
  drainConsole(): string;
}

let apiScript: Promise<vm.Script> | undefined;

/** The API, bundled once per process into a script that any context can run. */
function loadApiScript(): Promise<vm.Script> {
  apiScript ??= (async () => {
    // dist/plan-engine/config/ -> dist/api/sandbox-entry.js
    const entry = fileURLToPath(new URL('../../api/sandbox-entry.js', import.meta.url));
    const r = await build({ entryPoints: [entry], bundle: true, format: 'cjs', platform: 'neutral', write: false, logLevel: 'silent' });
    const code = r.outputFiles[0]!.text;
    const wrapped = `(function () { var module = { exports: {} }; var exports = module.exports;\n${code}\nreturn module.exports; })()`;
    return new vm.Script(wrapped, { filename: API_SCRIPT_NAME });
  })();
  apiScript.catch(() => (apiScript = undefined));
  return apiScript;
}

// Runs inside the context: builds the module globals from in-context objects, so the
// only engine object reachable from manifest code is the `require` for built-ins.
// Built-ins it needs later are captured first: the manifest may replace them.
const PRELUDE = `(function (hostRequire, api, filename, dirname) {
  Error.stackTraceLimit = 50;
  var stringify = JSON.stringify;
  var lines = [];
  var show = function (args) {
    return Array.prototype.map.call(args, function (a) {
      if (typeof a === 'string') return a;
      try { return stringify(a); } catch (e) { return String(a); }
    }).join(' ');
  };
  var log = function () { lines.push(show(arguments)); };
  globalThis.console = { log: log, info: log, warn: log, error: log, debug: log };
  var module = { exports: {} };
  globalThis.module = module;
  globalThis.exports = module.exports;
  globalThis.__filename = filename;
  globalThis.__dirname = dirname;
  globalThis.require = function require(id) {
    if (id === 'tsinfra') return api.tsinfra;
    return hostRequire(id);
  };
  return { apiExports: api, module: module, drainConsole: function () { var out = stringify(lines); lines.length = 0; return out; } };
})`;

export async function evaluateManifest(o: EvaluateOptions): Promise<Evaluation> {
  const api = await loadApiScript();
  const context = vm.createContext({}, { name: `tsinfra manifest ${o.absFile}`, codeGeneration: { strings: true, wasm: false } });
  const apiExports = api.runInContext(context) as ApiInstance;
  const nodeRequire = createRequire(o.absFile);
  const builtinsOnly = (id: string): unknown => {
    if (isBuiltin(id)) return nodeRequire(id) as unknown;
    throw new Error(`Cannot find module '${id}': a manifest may require tsinfra and Node built-in modules; other packages are bundled from node_modules`);
  };
  const prelude = vm.runInContext(PRELUDE, context) as (r: typeof builtinsOnly, a: ApiInstance, f: string, d: string) => ContextTools;
  const tools = prelude(builtinsOnly, apiExports, o.absFile, dirname(o.absFile));
  try {
    new vm.Script(o.code, { filename: o.scriptName }).runInContext(context, { timeout: o.timeoutMs });
  } catch (e) {
    return { kind: 'error', ...describeThrown(e) };
  } finally {
    for (const line of parseJson<string[]>(tools.drainConsole()) ?? []) o.console(String(line));
  }
  const exported = defaultExport(tools.module.exports);
  const json = tools.apiExports.manifestDocumentJson(exported);
  if (json === undefined) return { kind: 'no-manifest', exported: describeExport(exported) };
  const document = parseJson<ManifestDocument>(json);
  if (!document || !Array.isArray(document.blocks) || !Array.isArray(document.problems)) {
    return { kind: 'error', message: 'the manifest did not produce readable data (were built-ins such as JSON replaced?)', stack: '', timedOut: false };
  }
  return { kind: 'document', document };
}

/** Parses what the context returned; a manifest that replaced built-ins may have broken it. */
function parseJson<T>(text: unknown): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** `export default m` compiles to `exports.default` of an ES module; `module.exports = m` is accepted too. */
function defaultExport(exports: unknown): unknown {
  if (typeof exports !== 'object' || exports === null) return exports;
  if ('__esModule' in exports || 'default' in exports) return (exports as { default?: unknown }).default;
  return Object.keys(exports).length === 0 ? undefined : exports;
}

function describeExport(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'object') return typeof (v as { then?: unknown }).then === 'function' ? 'a Promise' : 'an object that is not a Manifest';
  return `a ${typeof v}`;
}

/** Errors thrown in the context are not `instanceof Error` here: read them by shape. */
function describeThrown(e: unknown): { message: string; stack: string; timedOut: boolean } {
  if (typeof e === 'object' && e !== null) {
    const o = e as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
    const timedOut = o.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
    const name = typeof o.name === 'string' ? o.name : 'Error';
    const message = typeof o.message === 'string' ? o.message : String(e);
    return { message: timedOut ? message : `${name}: ${message}`, stack: typeof o.stack === 'string' ? o.stack : '', timedOut };
  }
  return { message: `Uncaught ${String(e)}`, stack: '', timedOut: false };
}
