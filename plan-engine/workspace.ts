// A workspace: a configuration directory with its state backend and input variables.
// Commands open one, then plan/apply/show against it.
import { resolve } from 'node:path';
import { Diagnostics, type Diagnostic } from './diagnostics.js';
import type { Config } from './config/model.js';
import { loadConfig } from './config/load.js';
import { collectVariableInputs, type InputValue, type VarArg } from './variables.js';
import type { Backend } from '../state/backend.js';
import { LocalBackend } from '../state/local-backend.js';

export interface Workspace {
  readonly dir: string;
  readonly config?: Config;
  readonly sources: ReadonlyMap<string, string>;
  readonly inputs: ReadonlyMap<string, InputValue>;
  readonly backend?: Backend;
  readonly diagnostics: readonly Diagnostic[];
}

export async function openWorkspace(dir: string, vars: readonly VarArg[], env: NodeJS.ProcessEnv = process.env): Promise<Workspace> {
  const abs = resolve(dir);
  const diags = new Diagnostics();
  const loaded = await loadConfig(abs);
  diags.append(loaded.diagnostics);
  const inputs = await collectVariableInputs(abs, vars, env, diags);
  const backend = loaded.config ? backendFor(loaded.config, abs, diags) : undefined;
  return {
    dir: abs,
    ...(loaded.config ? { config: loaded.config } : {}),
    sources: loaded.sources,
    inputs,
    ...(backend ? { backend } : {}),
    diagnostics: diags.items,
  };
}

/** The state backend a configuration asks for (local by default). */
export function backendFor(config: Config, dir: string, diags: Diagnostics): Backend | undefined {
  const b = config.settings.backend;
  if (!b || b.type === 'local') return new LocalBackend({ dir });
  diags.error('E_UNSUPPORTED_BACKEND', `Backend "${b.type}" is not supported by this version of tsinfra`, {
    detail: 'Supported backends: local.',
    range: b.range,
  });
  return undefined;
}
