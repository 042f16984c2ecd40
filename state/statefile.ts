// The state file: JSON, versioned, validated with zod, optionally with encrypted
// sensitive values.
//
// Reading: JSON -> check `version` -> upgrade chain (v1 -> v2 -> ... -> current) ->
// zod -> consistency checks -> decrypt. A file from a newer tsinfra is refused rather
// than half-understood and then overwritten.
//
// Sensitive values (attributes at a resource's `sensitivePaths`, outputs marked
// sensitive) are encrypted only when a state key (TSINFRA_STATE_KEY) is given. Without
// one they are stored in clear, as Terraform does: the file is then as secret as the
// values in it, which is why it is written 0600 in a 0700 directory.
import { z } from 'zod';
import { parseResourceInstanceAddr } from '../plan-engine/addresses.js';
import type { Diagnostic, Result } from '../plan-engine/diagnostics.js';
import { formatAttrPath, resolveAttrPath, getAt, replaceAt } from './attribute-path.js';
import { DecryptFailure, encryptionHeaderSchema, isEncryptedValue, StateKey, type EncryptionHeader, type ValueCipher } from './encryption.js';
import { compareResourceStates, STATE_FORMAT_VERSION, type OutputState, type ResourceInstanceState, type State } from './model.js';

/** A parsed JSON document of some format version. */
export type StateDocument = Record<string, unknown> & { version: number };

/** Converts a document of version N into version N + 1. */
export type StateUpgrader = (old: StateDocument) => StateDocument;

/**
 * The upgrade chain, keyed by the version each function upgrades *from*. Only v1 exists
 * so far; when v2 comes, bump STATE_FORMAT_VERSION and add `1: (v1) => ({ ...v2 })`.
 */
export const upgraders: Readonly<Record<number, StateUpgrader>> = {};

const resourceSchema = z.object({
  address: z.string().min(1),
  type: z.string().min(1),
  name: z.string().min(1),
  index: z.union([z.number().int().nonnegative(), z.string()]).optional(),
  host: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  sensitivePaths: z.array(z.string()),
  dependencies: z.array(z.string()),
  status: z.enum(['ready', 'tainted']),
  createBeforeDestroy: z.boolean().optional(),
});

const outputSchema = z.object({ value: z.unknown(), sensitive: z.boolean() });

const fileSchema = z.object({
  version: z.literal(STATE_FORMAT_VERSION),
  serial: z.number().int().nonnegative(),
  lineage: z.string().min(1),
  tsinfraVersion: z.string(),
  encryption: encryptionHeaderSchema.optional(),
  resources: z.array(resourceSchema),
  outputs: z.record(z.string(), outputSchema),
});
type FileDoc = z.infer<typeof fileSchema>;

export interface StateFileOptions {
  /** The state key; without it sensitive values are written in clear and encrypted files cannot be read. */
  readonly key?: StateKey | undefined;
}

function err(code: string, summary: string, detail?: string): Diagnostic {
  return detail === undefined ? { severity: 'error', code, summary } : { severity: 'error', code, summary, detail };
}

function fail<T>(d: Diagnostic): Result<T | undefined> {
  return { value: undefined, diagnostics: [d] };
}

/** Where a value sits, as authenticated data for its ciphertext. */
function attributeLocation(address: string, path: readonly (string | number)[]): string {
  return `${address}#${formatAttrPath(path)}`;
}
function outputLocation(name: string): string {
  return `output.${name}`;
}

// ---- writing ----

/** The file text for a state: stable key order, resources sorted, 2-space JSON. */
export async function serializeState(state: State, opts: StateFileOptions = {}): Promise<string> {
  const cipher = opts.key ? await opts.key.cipherForWrite() : undefined;
  const doc: Record<string, unknown> = {
    version: STATE_FORMAT_VERSION,
    serial: state.serial,
    lineage: state.lineage,
    tsinfraVersion: state.tsinfraVersion,
  };
  if (cipher) doc['encryption'] = cipher.header();
  doc['resources'] = [...state.resources].sort(compareResourceStates).map((r) => resourceDoc(r, cipher));
  const outputs: Record<string, unknown> = {};
  for (const name of Object.keys(state.outputs).sort()) {
    const o = state.outputs[name]!;
    const value = cipher && o.sensitive ? cipher.seal(o.value, outputLocation(name)) : o.value;
    outputs[name] = { value: value ?? null, sensitive: o.sensitive };
  }
  doc['outputs'] = outputs;
  return JSON.stringify(doc, null, 2) + '\n';
}

function resourceDoc(r: ResourceInstanceState, cipher: ValueCipher | undefined): Record<string, unknown> {
  const doc: Record<string, unknown> = { address: r.address, type: r.type, name: r.name };
  if (r.index !== undefined) doc['index'] = r.index;
  doc['host'] = r.host;
  doc['status'] = r.status;
  if (r.createBeforeDestroy !== undefined) doc['createBeforeDestroy'] = r.createBeforeDestroy;
  doc['dependencies'] = [...r.dependencies];
  doc['sensitivePaths'] = [...r.sensitivePaths];
  doc['attributes'] = cipher ? sealAttributes(r, cipher) : r.attributes;
  return doc;
}

function sealAttributes(r: ResourceInstanceState, cipher: ValueCipher): Record<string, unknown> {
  const attrs = structuredClone(r.attributes);
  // Outer paths first: an inner path inside an already sealed value then resolves to nothing.
  const paths = r.sensitivePaths
    .map((p) => resolveAttrPath(attrs, p))
    .filter((p) => p !== undefined)
    .sort((a, b) => a.length - b.length);
  for (const path of paths) {
    const v = getAt(attrs, path);
    if (v === undefined || isEncryptedValue(v)) continue;
    replaceAt(attrs, path, cipher.seal(v, attributeLocation(r.address, path)));
  }
  return attrs;
}

// ---- reading ----

/**
 * Brings a document up to `current` through the upgrade chain. Refuses versions newer
 * than `current` and versions with no upgrader. Parameters exist for tests of the chain.
 */
export function upgradeStateDocument(
  doc: StateDocument,
  source: string,
  current: number = STATE_FORMAT_VERSION,
  chain: Readonly<Record<number, StateUpgrader>> = upgraders,
): Result<StateDocument | undefined> {
  if (doc.version > current) {
    return fail(
      err(
        'E_STATE_VERSION_TOO_NEW',
        `State file ${source} has format version ${doc.version}; this tsinfra understands up to version ${current}`,
        'It was written by a newer tsinfra. Upgrade tsinfra to use it; an older one must not overwrite it.',
      ),
    );
  }
  let cur = doc;
  while (cur.version < current) {
    const step = chain[cur.version];
    if (!step) {
      return fail(err('E_STATE_VERSION_UNSUPPORTED', `State file ${source} has format version ${cur.version}, which this tsinfra cannot read`));
    }
    const from = cur.version;
    cur = step(cur);
    if (cur.version !== from + 1) throw new Error(`state upgrader from v${from} produced v${cur.version}`);
  }
  return { value: cur, diagnostics: [] };
}

function issuesText(error: z.ZodError): string {
  const lines = error.issues.slice(0, 10).map((i) => {
    const at = i.path.length > 0 ? formatAttrPath(i.path.map((p) => (typeof p === 'number' ? p : String(p)))) : '(top level)';
    return `  at ${at}: ${i.message}`;
  });
  if (error.issues.length > 10) lines.push(`  ... and ${error.issues.length - 10} more`);
  return lines.join('\n');
}

function invalid(source: string, detail: string): Diagnostic {
  return err(
    'E_STATE_INVALID',
    `State file ${source} is corrupted or not a tsinfra state file`,
    `${detail}\nRestore it from ${source}.backup or fix it by hand; tsinfra will not overwrite it.`,
  );
}

/** Checks what zod cannot: unique addresses that agree with type, name and index. */
function checkConsistency(doc: FileDoc): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  doc.resources.forEach((r, i) => {
    if (seen.has(r.address)) problems.push(`  at resources[${i}]: duplicate address ${r.address}`);
    seen.add(r.address);
    const a = parseResourceInstanceAddr(r.address);
    if (!a) problems.push(`  at resources[${i}].address: "${r.address}" is not a resource instance address`);
    else if (a.type !== r.type || a.name !== r.name || a.instanceKey !== r.index) {
      problems.push(`  at resources[${i}]: address ${r.address} does not match type, name and index`);
    }
  });
  return problems;
}

/** Parses a state file's text. `source` names the file in messages. */
export async function parseStateFile(text: string, source: string, opts: StateFileOptions = {}): Promise<Result<State | undefined>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(invalid(source, `It is not valid JSON: ${(e as Error).message}.`));
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(invalid(source, 'Expected a JSON object.'));
  }
  const version = (json as Record<string, unknown>)['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return fail(invalid(source, '  at version: expected a positive integer format version'));
  }
  const upgraded = upgradeStateDocument(json as StateDocument, source);
  if (!upgraded.value) return fail(upgraded.diagnostics[0]!);

  const parsed = fileSchema.safeParse(upgraded.value);
  if (!parsed.success) return fail(invalid(source, `It does not match the state format:\n${issuesText(parsed.error)}`));
  const problems = checkConsistency(parsed.data);
  if (problems.length > 0) return fail(invalid(source, `It is inconsistent:\n${problems.join('\n')}`));

  let cipher: ValueCipher | undefined;
  const header = parsed.data.encryption;
  if (header) {
    const c = await openCipher(header, source, opts.key);
    if ('diagnostic' in c) return fail(c.diagnostic);
    cipher = c.cipher;
  }
  try {
    return { value: toState(parsed.data, cipher), diagnostics: [] };
  } catch (e) {
    if (e instanceof DecryptFailure) return fail(decryptError(source, e.location));
    if (e instanceof MissingHeader) {
      return fail(invalid(source, `  at ${e.location}: an encrypted value, but the file has no encryption header`));
    }
    throw e;
  }
}

async function openCipher(header: EncryptionHeader, source: string, key: StateKey | undefined): Promise<{ cipher: ValueCipher } | { diagnostic: Diagnostic }> {
  if (!key) {
    return {
      diagnostic: err(
        'E_STATE_KEY_REQUIRED',
        `State file ${source} holds encrypted values; set TSINFRA_STATE_KEY to read it`,
        'It was written with TSINFRA_STATE_KEY set. Use the same key.',
      ),
    };
  }
  if (!StateKey.acceptableParams(header)) {
    return { diagnostic: invalid(source, '  at encryption: scrypt parameters out of the accepted range') };
  }
  try {
    return { cipher: await key.cipherForRead(header) };
  } catch (e) {
    if (e instanceof DecryptFailure) return { diagnostic: decryptError(source, e.location) };
    throw e;
  }
}

function decryptError(source: string, location: string): Diagnostic {
  return err(
    'E_STATE_DECRYPT',
    `Cannot decrypt state file ${source}: TSINFRA_STATE_KEY is not the key it was written with`,
    `Decryption of ${location} failed: the key is wrong or the file was altered.`,
  );
}

class MissingHeader extends Error {
  constructor(readonly location: string) {
    super(location);
  }
}

/** Replaces every sealed value found anywhere in `v` (paths may have changed since writing). */
function openAll(v: unknown, cipher: ValueCipher | undefined, location: (path: (string | number)[]) => string, path: (string | number)[] = []): unknown {
  if (isEncryptedValue(v)) {
    if (!cipher) throw new MissingHeader(location(path));
    return cipher.open(v, location(path));
  }
  if (Array.isArray(v)) return v.map((x, i) => openAll(x, cipher, location, [...path, i]));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = openAll(x, cipher, location, [...path, k]);
    return out;
  }
  return v;
}

function toState(doc: FileDoc, cipher: ValueCipher | undefined): State {
  const resources = doc.resources.map((r): ResourceInstanceState => {
    const out: ResourceInstanceState = {
      address: r.address,
      type: r.type,
      name: r.name,
      host: r.host,
      attributes: openAll(r.attributes, cipher, (p) => attributeLocation(r.address, p)) as Record<string, unknown>,
      sensitivePaths: r.sensitivePaths,
      dependencies: r.dependencies,
      status: r.status,
    };
    if (r.index !== undefined) out.index = r.index;
    if (r.createBeforeDestroy !== undefined) out.createBeforeDestroy = r.createBeforeDestroy;
    return out;
  });
  const outputs: Record<string, OutputState> = {};
  for (const [name, o] of Object.entries(doc.outputs)) {
    const value = isEncryptedValue(o.value) ? openAll(o.value, cipher, () => outputLocation(name)) : o.value;
    outputs[name] = { value: value ?? null, sensitive: o.sensitive };
  }
  return {
    version: doc.version,
    serial: doc.serial,
    lineage: doc.lineage,
    tsinfraVersion: doc.tsinfraVersion,
    resources: resources.sort(compareResourceStates),
    outputs,
  };
}
