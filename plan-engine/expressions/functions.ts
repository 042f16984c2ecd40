// The built-in function table and the calling convention around it: arity, null
// arguments and unknown arguments are checked here once, so implementations only
// see arguments they can work with. `try` and `can` are not in the table: they take
// unevaluated expressions and live in the evaluator.
import { containsUnknown, UNKNOWN, type Value } from '../values.js';
import { collectionFunctions } from './functions/collections.js';
import { encodingFunctions } from './functions/encoding.js';
import { filesystemFunctions } from './functions/filesystem.js';
import { formatFunctions } from './functions/format.js';
import { FunctionFailure, type FunctionDef, type FunctionEnv } from './functions/function-def.js';
import { networkFunctions } from './functions/network.js';
import { numberFunctions } from './functions/numbers.js';
import { stringFunctions } from './functions/strings.js';
import { conversionFunctions } from './functions/type-conversion.js';

export type { FunctionDef, FunctionEnv } from './functions/function-def.js';

export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(
  Object.entries({
    ...collectionFunctions,
    ...stringFunctions,
    ...formatFunctions,
    ...numberFunctions,
    ...conversionFunctions,
    ...networkFunctions,
    ...encodingFunctions,
    ...filesystemFunctions,
  }),
);

/** Functions whose arguments are expressions evaluated by the function itself. */
export const LAZY_FUNCTIONS: readonly string[] = ['try', 'can'];

/** Every function name a configuration may call (for "did you mean"). */
export function functionNames(): string[] {
  return [...FUNCTIONS.keys(), ...LAZY_FUNCTIONS].sort();
}

export type CallOutcome = { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly summary: string; readonly detail: string };

function failure(summary: string, detail: string): CallOutcome {
  return { ok: false, summary, detail };
}

/** Calls a built-in function with evaluated arguments. */
export function invokeFunction(name: string, def: FunctionDef, args: Value[], env: FunctionEnv): CallOutcome {
  const optional = def.optional ?? [];
  const min = def.params.length;
  const max = def.variadic !== undefined ? Infinity : min + optional.length;
  if (args.length < min) {
    const missing = def.params[args.length]!.name;
    return failure(
      'Not enough function arguments',
      `Function "${name}" expects ${max === min ? '' : 'at least '}${min} argument(s). Missing value for "${missing}".`,
    );
  }
  if (args.length > max) {
    return failure('Too many function arguments', `Function "${name}" expects ${max === min ? 'only ' : 'at most '}${max} argument(s).`);
  }
  for (const [i, a] of args.entries()) {
    const param = i < min ? def.params[i]! : (optional[i - min] ?? def.variadic!);
    if (a === null && param.allowNull !== true) {
      return failure('Invalid function argument', `Invalid value for "${param.name}" parameter of "${name}": argument must not be null.`);
    }
  }
  const unknowns = def.unknowns ?? 'deep';
  if (unknowns === 'deep' && args.some(containsUnknown)) return { ok: true, value: UNKNOWN };
  if (unknowns === 'shallow' && args.some((a) => a === UNKNOWN)) return { ok: true, value: UNKNOWN };
  const out = def.impl(args, env);
  if (out instanceof FunctionFailure) {
    const summary = out.argIndex !== undefined ? 'Invalid function argument' : 'Error in function call';
    return failure(summary, `Call to function "${name}" failed: ${out.message}`);
  }
  return { ok: true, value: out };
}
