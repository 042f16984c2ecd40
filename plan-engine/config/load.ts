// Loads a configuration directory: every `*.hcl` and `*.infra.ts` file in it (not
// subdirectories; `*.auto.vars.hcl` files hold variable values, not configuration)
// becomes one Config, with duplicate declarations reported across files.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Diagnostics, type Diagnostic } from '../diagnostics.js';
import { phaseDone } from '../timings.js';
import { decodeFile } from './hcl-decode.js';
import { locateHcl } from './hcl-locator.js';
import type { Config, FileDecls, Settings } from './model.js';
import { parseHclFiles } from './hcl-parse.js';
import { warmUpParsers } from './parse-pool.js';
import { cacheDir } from './parse-cache.js';

export const VARS_FILE_SUFFIX = '.auto.vars.hcl';

export async function listConfigFiles(dir: string): Promise<{ hcl: string[]; ts: string[] }> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  return {
    hcl: names.filter((n) => n.endsWith('.hcl') && !n.endsWith(VARS_FILE_SUFFIX)),
    ts: names.filter((n) => n.endsWith('.infra.ts')),
  };
}

export interface LoadResult {
  readonly config?: Config;
  readonly diagnostics: readonly Diagnostic[];
  /** Source text of each file, for error snippets. */
  readonly sources: ReadonlyMap<string, string>;
}

export async function loadConfig(dir: string): Promise<LoadResult> {
  const diags = new Diagnostics();
  const sources = new Map<string, string>();
  let files: { hcl: string[]; ts: string[] };
  try {
    files = await listConfigFiles(dir);
  } catch (e) {
    diags.error('E_CONFIG_DIR', `Cannot read configuration directory ${dir}`, { detail: (e as Error).message });
    return { diagnostics: diags.items, sources };
  }
  if (files.hcl.length + files.ts.length === 0) {
    diags.error('E_NO_CONFIG', `No configuration files in ${dir}`, {
      detail: 'tsinfra reads every *.hcl and *.infra.ts file of the directory.',
    });
    return { diagnostics: diags.items, sources };
  }

  // Big configurations are parsed on worker threads: start them while files are read and
  // scanned (unless a parse cache is in use: unchanged files then need no parser at all).
  if (!cacheDir(dir)) {
    const sizes = await Promise.all(files.hcl.map((n) => stat(join(dir, n)).then((st) => st.size)));
    warmUpParsers(sizes.reduce((a, b) => a + b, 0));
  }
  phaseDone('start, list files');
  const hash = createHash('sha256');
  const hclSources = await Promise.all(files.hcl.map((n) => readFile(join(dir, n), 'utf8')));
  const located = files.hcl.map((name, i) => {
    const source = hclSources[i]!;
    sources.set(name, source);
    hash.update(`${name}\0${source}\0`);
    return locateHcl(name, source);
  });

  phaseDone('read + locate HCL');
  const parsed = await parseHclFiles(
    dir,
    files.hcl.map((name, i) => ({ name, source: hclSources[i]!, located: located[i]! })),
  );
  const decls: FileDecls[] = [];
  files.hcl.forEach((name, i) => {
    const r = parsed[i]!;
    diags.append(r.diagnostics);
    if (r.json === undefined) return; // syntax error: reported above
    diags.append(located[i]!.diagnostics);
    const d = decodeFile(name, located[i]!.body, r.json);
    diags.append(d.diagnostics.items);
    decls.push(d.decls);
  });

  phaseDone('parse + decode HCL');
  for (const name of files.ts) {
    const source = await readFile(join(dir, name), 'utf8');
    sources.set(name, source);
    hash.update(`${name}\0${source}\0`);
    // Loaded on demand: the TypeScript toolchain (esbuild) costs ~70 ms to import.
    const { loadTypeScriptManifest } = await import('./typescript.js');
    const r = await loadTypeScriptManifest(join(dir, name), { name });
    diags.append(r.diagnostics);
    decls.push(r.decls);
  }

  phaseDone('TypeScript manifests');
  const config = merge(dir, [...files.hcl, ...files.ts], hash.digest('hex'), decls, diags);
  return { config, diagnostics: diags.items, sources };
}

/** Merges the files' declarations, reporting every duplicate with both places. */
export function merge(dir: string, files: string[], hash: string, all: readonly FileDecls[], diags: Diagnostics): Config {
  const variables = new Map();
  const locals = new Map();
  const hosts = new Map();
  const resources = new Map();
  const outputs = new Map();
  const moved = [];
  let settings: Settings = {};
  const once = <T extends { range: Config['moved'][number]['range'] }>(map: Map<string, T>, key: string, address: string, what: string, decl: T): void => {
    const prev = map.get(key);
    if (prev) {
      diags.error('E_DUPLICATE', `Duplicate ${what} "${address}"`, {
        detail: `It was already declared at ${prev.range.file}:${prev.range.start.line}. Each address must be unique in a configuration.`,
        address,
        range: decl.range,
      });
      return;
    }
    map.set(key, decl);
  };
  for (const f of all) {
    for (const v of f.variables) once(variables, v.name, `var.${v.name}`, 'variable', v);
    for (const l of f.locals) once(locals, l.name, `local.${l.name}`, 'local value', l);
    for (const h of f.hosts) once(hosts, h.name, `host.${h.name}`, 'host', h);
    for (const r of f.resources) once(resources, r.addr.key, r.addr.key, 'resource', r);
    for (const o of f.outputs) once(outputs, o.name, `output.${o.name}`, 'output', o);
    moved.push(...f.moved);
    // Several tsinfra blocks merge, as Terraform's terraform blocks do; each setting once.
    for (const s of f.settings) {
      if (s.backend && settings.backend) {
        diags.error('E_DUPLICATE', 'The backend is declared twice', {
          detail: `It was already declared at ${settings.backend.range.file}:${settings.backend.range.start.line}.`,
          range: s.backend.range,
        });
      } else if (s.backend) settings = { ...settings, backend: s.backend };
      if (s.requiredVersion && settings.requiredVersion) {
        diags.error('E_DUPLICATE', 'required_version is declared twice', {
          detail: `It was already declared at ${settings.requiredVersion.range.file}:${settings.requiredVersion.range.start.line}.`,
          range: s.requiredVersion.range,
        });
      } else if (s.requiredVersion) settings = { ...settings, requiredVersion: s.requiredVersion };
    }
  }
  return { dir, files, hash, variables, locals, hosts, resources, outputs, moved, settings };
}
