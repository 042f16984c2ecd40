// `format`, with the verbs of Terraform's format function (Go's fmt verbs):
// %v %#v %t %d %b %o %x %X %e %E %f %g %G %s %q %%, flags "+- #0", width,
// precision and explicit argument indexes (%[2]s).
import { isObject, type Value } from '../../values.js';
import { asBool, asNumber, asString, formatNumber } from '../conversions.js';
import { jsonEncode } from './encoding.js';
import { fail, FunctionFailure, stringArg, type FunctionDef } from './function-def.js';

const VERB = /%([-+# 0]*)(?:\[(\d+)\])?(\d+)?(?:\.(\d*))?(?:\[(\d+)\])?([a-zA-Z%])?/y;

interface Spec {
  readonly flags: string;
  readonly width: number | undefined;
  readonly precision: number | undefined;
  readonly verb: string;
  /** Byte offset of the verb in the format string, for messages. */
  readonly at: number;
}

export const formatFunctions: Record<string, FunctionDef> = {
  format: {
    description: 'A string built from a format specification and values, like printf.',
    params: [{ name: 'format' }],
    variadic: { name: 'args', allowNull: true },
    impl: (args) => {
      const fmt = stringArg(args, 0, 'format');
      return fmt instanceof FunctionFailure ? fmt : format(fmt, args.slice(1));
    },
  },
};

export function format(fmt: string, args: readonly Value[]): string | FunctionFailure {
  let out = '';
  let next = 0; // the argument the next verb without an explicit index takes
  let used = 0; // the highest argument count any verb needed
  let verbs = 0;
  let i = 0;
  while (i < fmt.length) {
    const pct = fmt.indexOf('%', i);
    if (pct < 0) {
      out += fmt.slice(i);
      break;
    }
    out += fmt.slice(i, pct);
    VERB.lastIndex = pct;
    const m = VERB.exec(fmt)!;
    const verb = m[6];
    if (verb === undefined) return fail(`unterminated format verb at offset ${pct}.`, 0);
    i = pct + m[0].length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    verbs++;
    const explicit = m[5] ?? m[2];
    const index = explicit !== undefined ? Number(explicit) - 1 : next;
    if (index < 0 || index >= args.length) {
      return fail(`not enough arguments for "%${verb}" at ${pct}: need index ${index + 1} but have ${args.length} total.`);
    }
    next = index + 1;
    used = Math.max(used, next);
    const spec: Spec = {
      flags: m[1]!,
      width: m[3] !== undefined ? Number(m[3]) : undefined,
      precision: m[4] !== undefined ? Number(m[4] || '0') : undefined,
      verb,
      at: pct,
    };
    const piece = formatOne(spec, args[index]!);
    if (piece instanceof FunctionFailure) return piece;
    out += pad(piece, spec);
  }
  if (used < args.length) {
    return fail(verbs === 0 ? 'too many arguments; no verbs in format string.' : `too many arguments; only ${used} used by format string.`);
  }
  return out;
}

function formatOne(spec: Spec, v: Value): string | FunctionFailure {
  const { verb, flags, precision } = spec;
  const unsupported = (what: string): FunctionFailure => fail(`unsupported value for "%${verb}" at ${spec.at}: ${what}.`);
  if (verb === 'v') {
    if (flags.includes('#')) return jsonEncode(v);
    if (v === null) return 'null';
    if (Array.isArray(v) || isObject(v)) return jsonEncode(v);
    return asString(v)!;
  }
  if (v === null) return unsupported('null value cannot be formatted');
  switch (verb) {
    case 't': {
      const b = asBool(v);
      return b === undefined ? unsupported('bool required') : String(b);
    }
    case 's':
    case 'q': {
      const s = asString(v);
      if (s === undefined) return unsupported('string required');
      const cut = precision !== undefined ? [...s].slice(0, precision).join('') : s;
      return verb === 'q' ? JSON.stringify(cut) : cut;
    }
    case 'x':
    case 'X':
      if (typeof v === 'string' && asNumber(v) === undefined) {
        const hex = Buffer.from(v).toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      return formatInteger(spec, v, unsupported);
    case 'd':
    case 'b':
    case 'o':
      return formatInteger(spec, v, unsupported);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      const n = asNumber(v);
      if (n === undefined) return unsupported('number required');
      return sign(formatFloat(n, verb, precision), n, flags);
    }
    default:
      return fail(`unrecognized format verb "%${verb}" at ${spec.at}.`);
  }
}

function formatInteger(spec: Spec, v: Value, unsupported: (what: string) => FunctionFailure): string | FunctionFailure {
  const n = asNumber(v);
  if (n === undefined) return unsupported('number required');
  if (!Number.isInteger(n)) return unsupported('value has fractional part, so it cannot be formatted as an integer');
  const radix = { d: 10, b: 2, o: 8, x: 16, X: 16 }[spec.verb as 'd'] ?? 10;
  let digits = BigInt(Math.abs(n)).toString(radix);
  if (spec.verb === 'X') digits = digits.toUpperCase();
  if (spec.flags.includes('#')) {
    if (spec.verb === 'x') digits = '0x' + digits;
    else if (spec.verb === 'X') digits = '0X' + digits;
    else if (spec.verb === 'o') digits = '0' + digits;
  }
  return sign(digits, n, spec.flags);
}

function sign(digits: string, n: number, flags: string): string {
  if (n < 0 || Object.is(n, -0)) return digits.startsWith('-') ? digits : '-' + digits;
  if (flags.includes('+')) return '+' + digits;
  if (flags.includes(' ')) return ' ' + digits;
  return digits;
}

/** Go's %e/%f/%g of |n| (the sign is added by the caller). */
function formatFloat(n: number, verb: string, precision: number | undefined): string {
  const a = Math.abs(n);
  const upper = verb === 'E' || verb === 'G';
  let s: string;
  if (verb === 'f' || verb === 'F') s = a.toFixed(precision ?? 6);
  else if (verb === 'e' || verb === 'E') s = goExponent(a.toExponential(precision ?? 6));
  else {
    // %g: shortest representation, exponent form for very small or large values.
    const exp = a === 0 ? 0 : Math.floor(Math.log10(a));
    const limit = precision ?? 6;
    if (exp < -4 || exp >= limit) s = goExponent(precision === undefined ? a.toExponential() : a.toExponential(Math.max(precision - 1, 0)));
    else s = precision === undefined ? formatNumber(a) : String(Number(a.toPrecision(Math.max(precision, 1))));
  }
  return upper ? s.toUpperCase() : s;
}

/** JavaScript writes exponents as e+5; Go as e+05. */
function goExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function pad(s: string, spec: Spec): string {
  const width = spec.width;
  const len = [...s].length;
  if (width === undefined || len >= width) return s;
  const fill = width - len;
  if (spec.flags.includes('-')) return s + ' '.repeat(fill);
  const numeric = 'dboxXeEfFgG'.includes(spec.verb);
  if (spec.flags.includes('0') && numeric) {
    const signChars = /^[+\- ]/.test(s) ? 1 : 0;
    return s.slice(0, signChars) + '0'.repeat(fill) + s.slice(signChars);
  }
  return ' '.repeat(fill) + s;
}
