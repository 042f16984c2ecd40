// Runs one resource block of an HCL configuration through the planner's own steps
// (evaluate the body with the provider's nested blocks, schema, check, diff against a
// prior state) with a provider given directly, so a provider can be tested before it is
// registered and without a host.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../plan-engine/config/load.js';
import type { Config } from '../../plan-engine/config/model.js';
import { Diagnostics, type Diagnostic } from '../../plan-engine/diagnostics.js';
import { diffInstance } from '../../plan-engine/plan/diff.js';
import { EvalContext } from '../../plan-engine/plan/eval-context.js';
import { evaluateBody } from '../../plan-engine/plan/evaluate-block.js';
import type { Change } from '../../plan-engine/plan/model.js';
import { checkSchema, rangeOf } from '../../plan-engine/plan/schema-issues.js';
import type { ValueObject } from '../../plan-engine/values.js';
import type { PlanContext, ResourceProvider } from '../../providers/provider.js';
import type { HostStorage } from '../../providers/storage-model.js';

export async function loadHcl(text: string): Promise<Config> {
  const dir = await mkdtemp(join(tmpdir(), 'tsit-provider-'));
  try {
    await writeFile(join(dir, 'main.hcl'), text);
    const loaded = await loadConfig(dir);
    if (!loaded.config) throw new Error(`configuration did not load: ${JSON.stringify(loaded.diagnostics)}`);
    return loaded.config;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface Planned {
  readonly diagnostics: readonly Diagnostic[];
  readonly change?: Change;
}

export interface PlanOneOptions {
  /** The host's storage model, as a plan with refresh gives it to storage types. */
  readonly storage?: HostStorage;
}

/**
 * Plans resource `address` of `hcl` with `provider` against `prior` (null: not in
 * state). Diagnostics carry ranges as the planner gives them (schema issues, and
 * check() and checkChange() at their attribute's line).
 */
export async function planOne(
  provider: ResourceProvider,
  hcl: string,
  address: string,
  prior: ValueObject | null = null,
  options: PlanOneOptions = {},
): Promise<Planned> {
  const config = await loadHcl(hcl);
  const decl = config.resources.get(address);
  if (!decl) throw new Error(`no ${address} in the configuration`);
  const ctx = new EvalContext(config);
  const diags = new Diagnostics();
  const body = evaluateBody(decl.body, provider.nestedBlocks, ctx.scope(), address, diags);
  if (diags.hasErrors()) return { diagnostics: diags.items };
  checkSchema(provider.schema, body.value, decl.body, decl.range, address, diags);
  if (diags.hasErrors()) return { diagnostics: diags.items };
  const pctx: PlanContext = {
    address,
    name: decl.addr.name,
    instanceKey: undefined,
    host: 'host.local',
    ...(options.storage ? { storage: options.storage } : {}),
  };
  for (const d of provider.check?.(body.value, pctx) ?? []) {
    const range = rangeOf(decl.body, d.path) ?? decl.range;
    diags.add({ severity: d.severity ?? 'error', code: d.code, summary: d.summary, ...(d.detail ? { detail: d.detail } : {}), address, range });
  }
  if (diags.hasErrors()) return { diagnostics: diags.items };
  const change = diffInstance({
    provider,
    address,
    decl,
    instanceKey: undefined,
    host: 'host.local',
    config: body.value,
    configSensitive: body.sensitivePaths,
    prior: prior
      ? { address, type: decl.addr.type, name: decl.addr.name, host: 'host.local', attributes: prior, sensitivePaths: [], dependencies: [], status: 'ready' }
      : undefined,
    replaceRequested: false,
    dependencies: [],
    ctx,
    diags,
    ...(options.storage ? { storage: options.storage } : {}),
  });
  return { diagnostics: diags.items, change };
}

/** A resource block with a local host around it. */
export function resourceHcl(type: string, name: string, body: string): string {
  return `host "local" {\n  transport = "local"\n}\n\nresource "${type}" "${name}" {\n  host = host.local\n${body}\n}\n`;
}
