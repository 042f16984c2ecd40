// Reads a seccomp profile in Docker's JSON format (`docker run --security-opt
// seccomp=FILE`) into the profile model. Supported: defaultAction (+ defaultErrnoRet),
// syscalls[] with names (or name), action, errnoRet, args (index, value, valueTwo, op),
// includes/excludes (caps, arches, minKernel); the actions ALLOW, ERRNO, KILL,
// KILL_THREAD, KILL_PROCESS, TRAP, LOG. architectures/archMap are ignored: the filter is
// always built for the host's own architecture. Numbers beyond 2^53 must be written as
// strings (JSON numbers lose precision there).
import { z } from 'zod';
import { fieldPath } from '../../rpc/zod-issues.js';
import { canonicalCapability, CAPABILITY_NAMES } from './capabilities.js';
import { closestName } from './closest-name.js';
import { EPERM, type ArgComparison, type ArgOperator, type RuleFilter, type SeccompAction, type SeccompProfile, type SeccompRule } from './seccomp-model.js';
import { knownSyscallNames } from './syscall-numbers.js';

const integer = z.union([z.number(), z.string()]);

const filterSchema = z.object({
  caps: z.array(z.string()).nullish(),
  arches: z.array(z.string()).nullish(),
  minKernel: z.string().nullish(),
});

const argSchema = z.object({
  index: z.number().int().min(0).max(5),
  value: integer,
  valueTwo: integer.nullish(),
  op: z.string(),
});

const syscallSchema = z.object({
  names: z.array(z.string()).nullish(),
  name: z.string().nullish(),
  action: z.string(),
  errnoRet: z.number().int().nullish(),
  args: z.array(argSchema).nullish(),
  includes: filterSchema.nullish(),
  excludes: filterSchema.nullish(),
});

const profileSchema = z.object({
  defaultAction: z.string(),
  defaultErrnoRet: z.number().int().nullish(),
  syscalls: z.array(syscallSchema).nullish(),
  listenerPath: z.string().nullish(),
});

const OPERATORS: Record<string, ArgOperator> = {
  SCMP_CMP_EQ: 'eq',
  SCMP_CMP_NE: 'ne',
  SCMP_CMP_LT: 'lt',
  SCMP_CMP_LE: 'le',
  SCMP_CMP_GT: 'gt',
  SCMP_CMP_GE: 'ge',
  SCMP_CMP_MASKED_EQ: 'masked-eq',
};

const SIMPLE_ACTIONS: Record<string, SeccompAction> = {
  SCMP_ACT_ALLOW: { type: 'allow' },
  SCMP_ACT_KILL: { type: 'kill-thread' },
  SCMP_ACT_KILL_THREAD: { type: 'kill-thread' },
  SCMP_ACT_KILL_PROCESS: { type: 'kill-process' },
  SCMP_ACT_TRAP: { type: 'trap' },
  SCMP_ACT_LOG: { type: 'log' },
};

const MAX_ERRNO = 4095;
const UINT64_MAX = (1n << 64n) - 1n;

/** Problems found while converting, each as `path: message`. */
class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

/**
 * The profile `text` holds, or the problems that make it unusable (each `field: what is
 * wrong`). `source` names the file in the profile, for later messages.
 */
export function parseDockerSeccompProfile(text: string, source: string): { profile: SeccompProfile } | { problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`not valid JSON: ${(e as Error).message}`] };
  }
  const parsed = profileSchema.safeParse(json);
  if (!parsed.success) return { problems: parsed.error.issues.map((i) => `${fieldPath('', i.path)}: ${i.message}`) };
  const p = new Problems();
  const data = parsed.data;
  if (data.listenerPath) p.add('listenerPath', 'seccomp notification listeners are not supported');
  const defaultAction = convertAction(data.defaultAction, data.defaultErrnoRet, 'defaultAction', p);
  const rules: SeccompRule[] = [];
  (data.syscalls ?? []).forEach((entry, i) => {
    const rule = convertRule(entry, `syscalls[${i}]`, p);
    if (rule) rules.push(rule);
  });
  if (p.list.length > 0 || !defaultAction) return { problems: p.list };
  return { profile: { source, defaultAction, rules } };
}

function convertAction(name: string, errnoRet: number | null | undefined, path: string, p: Problems): SeccompAction | undefined {
  const simple = SIMPLE_ACTIONS[name];
  if (simple) return simple;
  if (name === 'SCMP_ACT_ERRNO') {
    const errno = errnoRet ?? EPERM;
    if (errno < 0 || errno > MAX_ERRNO) {
      p.add(path, `errno ${errno} is out of range (0 to ${MAX_ERRNO})`);
      return undefined;
    }
    return { type: 'errno', errno };
  }
  if (name === 'SCMP_ACT_TRACE' || name === 'SCMP_ACT_NOTIFY') {
    p.add(path, `${name} is not supported (no tracer or listener watches containers); use SCMP_ACT_ERRNO or SCMP_ACT_LOG`);
    return undefined;
  }
  const close = closestName(name, [...Object.keys(SIMPLE_ACTIONS), 'SCMP_ACT_ERRNO']);
  p.add(path, `unknown action ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ''}`);
  return undefined;
}

function convertRule(entry: z.infer<typeof syscallSchema>, path: string, p: Problems): SeccompRule | undefined {
  const names = [...(entry.names ?? []), ...(entry.name ? [entry.name] : [])];
  if (names.length === 0) p.add(`${path}.names`, 'lists no syscall');
  const known = knownSyscallNames();
  names.forEach((name, i) => {
    if (known.has(name)) return;
    const close = closestName(name, known);
    p.add(`${path}.names[${i}]`, `unknown syscall ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ''}`);
  });
  const action = convertAction(entry.action, entry.errnoRet, `${path}.action`, p);
  const args = (entry.args ?? []).map((a, i) => convertArg(a, `${path}.args[${i}]`, p));
  const includes = entry.includes ? convertFilter(entry.includes, `${path}.includes`, p) : undefined;
  const excludes = entry.excludes ? convertFilter(entry.excludes, `${path}.excludes`, p) : undefined;
  if (!action || args.some((a) => a === undefined)) return undefined;
  return {
    names,
    action,
    args: args as ArgComparison[],
    ...(includes ? { includes } : {}),
    ...(excludes ? { excludes } : {}),
  };
}

function convertArg(arg: z.infer<typeof argSchema>, path: string, p: Problems): ArgComparison | undefined {
  const op = OPERATORS[arg.op];
  if (!op) {
    const close = closestName(arg.op, Object.keys(OPERATORS));
    p.add(`${path}.op`, `unknown comparison ${JSON.stringify(arg.op)}${close ? ` (did you mean ${close}?)` : ''}`);
  }
  const value = toUint64(arg.value, `${path}.value`, p);
  const valueTwo = arg.valueTwo === null || arg.valueTwo === undefined ? 0n : toUint64(arg.valueTwo, `${path}.valueTwo`, p);
  if (!op || value === undefined || valueTwo === undefined) return undefined;
  // Docker's MASKED_EQ: `value` is the mask, `valueTwo` what the masked argument must equal.
  if (op === 'masked-eq') return { index: arg.index, op, mask: value, value: valueTwo };
  return { index: arg.index, op, value };
}

function toUint64(v: number | string, path: string, p: Problems): bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) {
      p.add(path, `${v} is not an unsigned integer`);
      return undefined;
    }
    if (!Number.isSafeInteger(v)) {
      p.add(path, `${v} is too large to be read exactly from a JSON number; write it as a string ("18446744073709551615" or "0x...")`);
      return undefined;
    }
    return BigInt(v);
  }
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(v.trim())) {
    p.add(path, `${JSON.stringify(v)} is not an unsigned integer (decimal or 0x hex)`);
    return undefined;
  }
  const n = BigInt(v.trim());
  if (n > UINT64_MAX) {
    p.add(path, `${v} does not fit in 64 bits`);
    return undefined;
  }
  return n;
}

function convertFilter(f: z.infer<typeof filterSchema>, path: string, p: Problems): RuleFilter {
  const caps: string[] = [];
  (f.caps ?? []).forEach((name, i) => {
    const c = canonicalCapability(name);
    if (c && c !== 'ALL') caps.push(c);
    else {
      const close = closestName(name, CAPABILITY_NAMES);
      p.add(`${path}.caps[${i}]`, `unknown capability ${JSON.stringify(name)}${close ? ` (did you mean ${close}?)` : ''}`);
    }
  });
  if (f.minKernel && !/^\d+\.\d+$/.test(f.minKernel)) p.add(`${path}.minKernel`, `${JSON.stringify(f.minKernel)} is not a kernel version like "4.8"`);
  return {
    ...(f.caps ? { caps } : {}),
    ...(f.arches ? { arches: f.arches } : {}),
    ...(f.minKernel ? { minKernel: f.minKernel } : {}),
  };
}
