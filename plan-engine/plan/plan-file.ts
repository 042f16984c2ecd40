// Saved plan files (`plan --out FILE`, `apply FILE`): one versioned JSON document that
// embeds the prior state, the lineage and serial it was made against, and the
// configuration's hash. Unknown values are stored as {"$unknown": true}. The file can
// hold sensitive values, so it is written 0600 like state.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { DiagnosticError } from '../diagnostics.js';
import { decodeValue, encodeValue, type Value } from '../values.js';
import { TSINFRA_VERSION } from '../version.js';
import type { Plan } from './model.js';

export const PLAN_FILE_FORMAT = 'tsinfra-plan';
export const PLAN_FILE_VERSION = 1;

const planFileSchema = z.object({
  format: z.literal(PLAN_FILE_FORMAT),
  version: z.number().int(),
  tsinfraVersion: z.string(),
  plan: z.record(z.string(), z.unknown()),
});

export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  const doc = { format: PLAN_FILE_FORMAT, version: PLAN_FILE_VERSION, tsinfraVersion: TSINFRA_VERSION, plan: encodeValue(plan as unknown as Value) };
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
  await rename(tmp, path);
}

export async function readPlanFile(path: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw fail('E_PLAN_FILE', `Cannot read plan file ${path}`, (e as Error).message);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('E_PLAN_FILE', `${path} is not a tsinfra plan file`, 'It is not JSON.');
  }
  const r = planFileSchema.safeParse(parsed);
  if (!r.success) throw fail('E_PLAN_FILE', `${path} is not a tsinfra plan file`, r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  if (r.data.version !== PLAN_FILE_VERSION || r.data.tsinfraVersion !== TSINFRA_VERSION) {
    throw fail(
      'E_PLAN_VERSION',
      `Plan file ${path} was made by tsinfra ${r.data.tsinfraVersion} (format ${r.data.version})`,
      `This is tsinfra ${TSINFRA_VERSION}: make a new plan with this version.`,
    );
  }
  return decodeValue(r.data.plan) as unknown as Plan;
}

function fail(code: string, summary: string, detail: string): DiagnosticError {
  return new DiagnosticError([{ severity: 'error', code, summary, detail }]);
}
