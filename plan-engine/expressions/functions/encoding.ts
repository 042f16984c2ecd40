// JSON encoding as Terraform writes it: object keys sorted, integers without a
// fraction, and <, >, &, U+2028, U+2029 escaped (Go's encoder does that, and users
// compare our output with Terraform's).
import { isObject, type Value, type ValueObject } from '../../values.js';
import { formatNumber } from '../conversions.js';
import { fail, FunctionFailure, stringArg, type FunctionDef } from './function-def.js';

export function jsonEncode(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return quoteJson(v);
  if (Array.isArray(v)) return `[${v.map(jsonEncode).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${quoteJson(k)}:${jsonEncode(v[k]!)}`)
      .join(',')}}`;
  }
  throw new Error('jsonEncode: unknown values must be handled by the caller');
}

function quoteJson(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export const encodingFunctions: Record<string, FunctionDef> = {
  jsonencode: {
    description: 'A value encoded as a JSON string.',
    params: [{ name: 'val', allowNull: true }],
    impl: ([v]) => jsonEncode(v!),
  },

  jsondecode: {
    description: 'The value a JSON string encodes.',
    params: [{ name: 'str' }],
    impl: (args) => {
      const s = stringArg(args, 0, 'str');
      if (s instanceof FunctionFailure) return s;
      try {
        return JSON.parse(s) as Value | ValueObject;
      } catch (e) {
        return fail(`the given string is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 0);
      }
    },
  },
};
