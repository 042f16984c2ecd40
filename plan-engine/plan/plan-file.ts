// Saved plan files (`plan --out FILE`, `apply FILE`): one versioned JSON document that
// embeds the prior state, the lineage and serial it was made against, and the
// configuration's hash. Unknown values are stored as {"$unknown": true}. The file
// holds what the state holds, secrets included: it is written 0600, and when
// TSINFRA_STATE_KEY is set the whole plan is sealed with it (AES-256-GCM), as the
// state's sensitive values are.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { DiagnosticError } from '../diagnostics.js';
import { decodeValue, encodeValue, type Value } from '../values.js';
import { TSINFRA_VERSION } from '../version.js';
import { ENCRYPTED_MARKER, encryptionHeaderSchema, StateKey } from '../../state/encryption.js';
import type { Plan } from './model.js';

export const PLAN_FILE_FORMAT = 'tsinfra-plan';
export const PLAN_FILE_VERSION = 1;

const planFileSchema = z.object({
  format: z.literal(PLAN_FILE_FORMAT),
  version: z.number().int(),
  tsinfraVersion: z.string(),
  plan: z.record(z.string(), z.unknown()).optional(),
  encryption: encryptionHeaderSchema.optional(),
  sealed: z.object({ [ENCRYPTED_MARKER]: z.string() }).optional(),
});

const SEALED_LOCATION = 'plan';

export async function writePlanFile(path: string, plan: Plan, key: StateKey | undefined = StateKey.fromEnv()): Promise<void> {
  const body = encodeValue(plan as unknown as Value);
  const head = { format: PLAN_FILE_FORMAT, version: PLAN_FILE_VERSION, tsinfraVersion: TSINFRA_VERSION };
  let doc: Record<string, unknown> = { ...head, plan: body };
  if (key) {
    const cipher = await key.cipherForWrite();
    doc = { ...head, encryption: cipher.header(), sealed: cipher.seal(body, SEALED_LOCATION) };
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, JSON.stringify(doc), { mode: 0o600 });
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fail('E_PLAN_FILE', `Cannot write plan file ${path}`, (e as Error).message);
  }
}

export async function readPlanFile(path: string, key: StateKey | undefined = StateKey.fromEnv()): Promise<Plan> {
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
  const head = parsed as { format?: unknown; version?: unknown; tsinfraVersion?: unknown };
  if (head?.format === PLAN_FILE_FORMAT && typeof head.version === 'number' && head.version !== PLAN_FILE_VERSION) {
    throw fail(
      'E_PLAN_VERSION',
      `Plan file ${path} has format version ${head.version}`,
      `This is tsinfra ${TSINFRA_VERSION}, which reads format ${PLAN_FILE_VERSION}: make a new plan.`,
    );
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
  let body: unknown = r.data.plan;
  if (r.data.encryption && r.data.sealed) {
    if (!key) throw fail('E_PLAN_KEY_REQUIRED', `Plan file ${path} is encrypted`, 'Set TSINFRA_STATE_KEY to the key it was made with.');
    try {
      const cipher = await key.cipherForRead(r.data.encryption);
      body = cipher.open(r.data.sealed, SEALED_LOCATION);
    } catch {
      throw fail('E_PLAN_DECRYPT', `Cannot decrypt plan file ${path}`, 'TSINFRA_STATE_KEY is not the key the plan was made with, or the file was altered.');
    }
  }
  if (typeof body !== 'object' || body === null) throw fail('E_PLAN_FILE', `${path} is not a tsinfra plan file`, 'It holds no plan.');
  return decodeValue(body) as unknown as Plan;
}

function fail(code: string, summary: string, detail: string): DiagnosticError {
  return new DiagnosticError([{ severity: 'error', code, summary, detail }]);
}
