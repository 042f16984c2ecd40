// Explicit conversions between primitive types. Null stays null, as in Terraform.
import { describeType } from '../conversions.js';
import { asBool, asNumber, asString } from '../conversions.js';
import type { Value } from '../../values.js';
import { fail, type FunctionDef } from './function-def.js';

function converter(target: string, convert: (v: Value) => Value | undefined, hint: string): FunctionDef {
  return {
    description: `The value converted to ${target}.`,
    params: [{ name: 'v', allowNull: true }],
    unknowns: 'shallow',
    impl: ([v]) => {
      if (v === null) return null;
      const out = convert(v!);
      return out === undefined
        ? fail(`cannot convert ${describeType(v!)}${typeof v === 'string' ? ` ${JSON.stringify(v)}` : ''} to ${target}${hint}.`, 0)
        : out;
    },
  };
}

export const conversionFunctions: Record<string, FunctionDef> = {
  tostring: converter('string', asString, '; only numbers and bools convert to strings'),
  tonumber: converter('number', asNumber, ''),
  tobool: converter('bool', asBool, '; only "true" and "false" convert to bools'),
};
