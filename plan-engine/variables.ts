// Input variables: where values come from, in Terraform's order of precedence (later
// wins): TSINFRA_VAR_name environment variables, then `*.auto.vars.hcl` files in
// lexical order, then --var-file and --var in the order given on the command line.
// Values typed as strings on a command line or in the environment are parsed as HCL
// when the variable's type is not a string (`--var 'ports=[80,443]'`).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Diagnostics, redactValues, suggest, type Diagnostic, type SourceRange } from './diagnostics.js';
import type { Config, VariableDecl } from './config/model.js';
import { VARS_FILE_SUFFIX } from './config/load.js';
import { syntaxDiagnostics } from './config/hcl-syntax.js';
import { hcl2json } from './config/hcl2json.js';
import { collectTemplates, convertToType, evaluate, parseTemplates, parseTypeConstraint } from './expressions/index.js';
import type { EvalContext } from './plan/eval-context.js';
import { UNKNOWN, type Value } from './values.js';

export type VarArg = { readonly kind: 'var'; readonly text: string } | { readonly kind: 'file'; readonly path: string };

export interface InputValue {
  /** A raw value (JSON data from a file) or a string from a command line / environment. */
  readonly raw: unknown;
  readonly fromString: boolean;
  readonly source: string;
  readonly range?: SourceRange;
}

export async function collectVariableInputs(
  dir: string,
  args: readonly VarArg[],
  env: NodeJS.ProcessEnv,
  diags: Diagnostics,
): Promise<Map<string, InputValue>> {
  const out = new Map<string, InputValue>();
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('TSINFRA_VAR_') && v !== undefined) out.set(k.slice(12), { raw: v, fromString: true, source: `environment variable ${k}` });
  }
  let autoFiles: string[] = [];
  try {
    autoFiles = (await readdir(dir)).filter((n) => n.endsWith(VARS_FILE_SUFFIX)).sort();
  } catch {
    /* reported by the config loader */
  }
  for (const f of autoFiles) await readVarFile(join(dir, f), out, diags);
  for (const a of args) {
    if (a.kind === 'file') {
      await readVarFile(a.path, out, diags);
      continue;
    }
    const eq = a.text.indexOf('=');
    if (eq <= 0) {
      diags.error('E_VAR_ARG', `Invalid --var "${a.text}"`, { detail: 'Write --var NAME=VALUE.' });
      continue;
    }
    out.set(a.text.slice(0, eq), { raw: a.text.slice(eq + 1), fromString: true, source: '--var' });
  }
  return out;
}

async function readVarFile(path: string, out: Map<string, InputValue>, diags: Diagnostics): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    diags.error('E_VAR_FILE', `Cannot read variables file ${path}`, { detail: (e as Error).message });
    return;
  }
  let data: Record<string, unknown>;
  if (path.endsWith('.json')) {
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      diags.error('E_VAR_FILE', `Variables file ${path} is not valid JSON`, { detail: (e as Error).message });
      return;
    }
  } else {
    try {
      data = await (await hcl2json()).parse(path, text);
    } catch (e) {
      diags.append(syntaxDiagnostics(path, (e as Error).message));
      return;
    }
    if (collectTemplates(data).length) {
      diags.error('E_VAR_FILE', `Variables file ${path} may hold only literal values`, {
        detail: 'References and function calls are not allowed in variable files.',
        range: { file: path, start: { line: 1, column: 1 }, end: { line: 1, column: 1 } },
      });
      return;
    }
  }
  for (const [k, v] of Object.entries(data)) out.set(k, { raw: v, fromString: false, source: path });
}

/** Parses a command-line string as an HCL expression for non-string variable types. */
async function fromString(decl: VariableDecl | undefined, text: string): Promise<unknown> {
  const type = decl?.type?.replace(/^\$\{|\}$/g, '').trim();
  if (type === undefined || type === 'string' || type === 'any') return text;
  try {
    const j = await (await hcl2json()).parse('value', `v = ${text}\n`);
    const v = j['v'];
    return collectTemplates(v).length ? text : v;
  } catch {
    return text; // reported by the type conversion below
  }
}

/** Evaluates every declared variable into the context: input or default, type conversion, validation. */
export async function evaluateVariables(
  config: Config,
  inputs: ReadonlyMap<string, InputValue>,
  ctx: EvalContext,
  diags: Diagnostics,
  options: { requireAll: boolean },
): Promise<void> {
  for (const [name, input] of inputs) {
    if (!config.variables.has(name) && !input.source.startsWith('environment')) {
      const s = suggest(name, config.variables.keys());
      diags.error('E_UNDECLARED_VARIABLE', `A value was given for undeclared variable "${name}"`, {
        detail: `From ${input.source}.${s ? ` Did you mean "${s}"?` : ''}`,
        ...(input.range ? { range: input.range } : {}),
      });
    }
  }
  for (const decl of config.variables.values()) {
    const address = `var.${decl.name}`;
    // Until a value is settled the variable is unknown: later errors then do not pile up on it.
    ctx.vars.set(decl.name, { value: UNKNOWN, sensitive: decl.sensitive });
    const input = inputs.get(decl.name);
    let raw: unknown;
    if (input) raw = input.fromString ? await fromString(decl, input.raw as string) : input.raw;
    else if (decl.default) {
      diags.append(await parseTemplates(collectTemplates(decl.default.expr)));
      const r = evaluate(decl.default.expr, ctx.scope(), { range: decl.default.range, address });
      diags.append(r.diagnostics);
      raw = r.value;
    } else if (options.requireAll) {
      diags.error('E_MISSING_VARIABLE', `No value for required variable "${decl.name}"`, {
        detail: `Set it with --var ${decl.name}=..., a --var-file, a *.auto.vars.hcl file or TSINFRA_VAR_${decl.name}.`,
        range: decl.range,
        address,
      });
      continue;
    } else raw = undefined;
    let value = (raw ?? null) as Value;
    if (raw !== undefined && decl.type !== undefined) {
      const t = parseTypeConstraint(decl.type);
      diags.append(t.diagnostics.map((d) => ({ ...d, range: decl.typeRange ?? decl.range, address })));
      if (t.type) {
        const c = convertToType(value, t.type);
        if (c.diagnostics.length) {
          for (const d of c.diagnostics) {
            // A value from the command line or the environment has no range of its own: point at the declaration.
            const range = input ? (input.range ?? decl.range) : (decl.default?.range ?? decl.range);
            const located: Diagnostic = { ...d, address, range, detail: `${d.detail ?? ''} (value from ${input?.source ?? 'the default'})`.trim() };
            diags.add(decl.sensitive ? redactValues(located) : located);
          }
          continue;
        }
        value = c.value;
      }
    }
    if (value === null && !decl.nullable) {
      diags.error('E_NULL_VARIABLE', `Variable "${decl.name}" must not be null`, { range: decl.range, address });
      continue;
    }
    // `validate` runs without inputs: a variable with no value evaluates as unknown.
    ctx.vars.set(decl.name, { value: raw === undefined ? UNKNOWN : value, sensitive: decl.sensitive });
    if (raw === undefined) continue;
    for (const v of decl.validations) {
      const cond = evaluate(v.condition.expr, ctx.scope(), { range: v.condition.range, address });
      diags.append(cond.diagnostics);
      if (cond.value === false) {
        const msg = evaluate(v.errorMessage.expr, ctx.scope(), { range: v.errorMessage.range, address });
        diags.error('E_VARIABLE_VALIDATION', `Invalid value for variable "${decl.name}"`, {
          detail: `${typeof msg.value === 'string' && !msg.sensitive ? msg.value : '(error message hidden: it uses a sensitive value)'} (value from ${input?.source ?? 'the default'})`,
          range: v.condition.range,
          address,
        });
      } else if (cond.value !== true && cond.diagnostics.length === 0 && typeof cond.value !== 'object') {
        diags.error('E_VARIABLE_VALIDATION', `The validation condition of "${decl.name}" must be true or false`, { range: v.condition.range, address });
      }
    }
  }
}
