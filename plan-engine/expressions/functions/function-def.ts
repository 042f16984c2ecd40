// The shape of a built-in function. Implementations return a FunctionFailure for
// a user error instead of throwing: the evaluator turns it into an E_FUNCTION_CALL
// diagnostic naming the function and, when known, the argument at fault.
import { isObject, type Value, type ValueObject } from '../../values.js';
import { asNumber, asString, describeType } from '../conversions.js';

export class FunctionFailure {
  constructor(
    readonly message: string,
    /** 0-based index of the argument at fault, when there is one. */
    readonly argIndex?: number,
  ) {}
}

export function fail(message: string, argIndex?: number): FunctionFailure {
  return new FunctionFailure(message, argIndex);
}

export type FunctionResult = Value | FunctionFailure;

export interface FunctionEnv {
  /** Directory that `file()` paths are relative to. */
  readonly baseDir: string;
}

export interface Param {
  readonly name: string;
  /** Null is an error unless the parameter allows it. */
  readonly allowNull?: boolean;
}

/**
 * How a function treats unknown arguments: `deep` (the default) returns unknown when
 * any argument holds an unknown anywhere; `shallow` only when an argument is wholly
 * unknown, leaving unknown elements to the implementation; `custom` leaves all to it.
 */
export type UnknownHandling = 'deep' | 'shallow' | 'custom';

export interface FunctionDef {
  readonly params: readonly Param[];
  /** Trailing parameters that may be left out. */
  readonly optional?: readonly Param[];
  /** Any number of further arguments. */
  readonly variadic?: Param;
  readonly unknowns?: UnknownHandling;
  /** One line for "did you mean" and documentation. */
  readonly description: string;
  readonly impl: (args: Value[], env: FunctionEnv) => FunctionResult;
}

// Argument readers: each returns the converted argument or a failure that names it.

export function numberArg(args: readonly Value[], i: number, name: string): number | FunctionFailure {
  const n = asNumber(args[i]!);
  return n === undefined ? fail(`Invalid value for "${name}" parameter: a number is required, got ${describeType(args[i]!)}.`, i) : n;
}

export function integerArg(args: readonly Value[], i: number, name: string): number | FunctionFailure {
  const n = numberArg(args, i, name);
  if (n instanceof FunctionFailure) return n;
  return Number.isInteger(n) ? n : fail(`Invalid value for "${name}" parameter: a whole number is required, got ${n}.`, i);
}

export function stringArg(args: readonly Value[], i: number, name: string): string | FunctionFailure {
  const s = asString(args[i]!);
  return s === undefined ? fail(`Invalid value for "${name}" parameter: a string is required, got ${describeType(args[i]!)}.`, i) : s;
}

export function listArg(args: readonly Value[], i: number, name: string): Value[] | FunctionFailure {
  const v = args[i]!;
  return Array.isArray(v) ? v : fail(`Invalid value for "${name}" parameter: a list is required, got ${describeType(v)}.`, i);
}

export function objectArg(args: readonly Value[], i: number, name: string): ValueObject | FunctionFailure {
  const v = args[i]!;
  return isObject(v) ? v : fail(`Invalid value for "${name}" parameter: a map or object is required, got ${describeType(v)}.`, i);
}

/** Elements of a list argument converted to strings, as functions taking list(string) do. */
export function stringListArg(args: readonly Value[], i: number, name: string): string[] | FunctionFailure {
  const list = listArg(args, i, name);
  if (list instanceof FunctionFailure) return list;
  const out: string[] = [];
  for (const [k, v] of list.entries()) {
    const s = asString(v);
    if (s === undefined) {
      return fail(`Invalid value for "${name}" parameter: element ${k}: a string is required, got ${describeType(v)}.`, i);
    }
    out.push(s);
  }
  return out;
}
