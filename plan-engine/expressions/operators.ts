// HCL's unary and binary operators over evaluated operands. Operands convert as HCL
// converts them ("5" + 1 is 6, "true" && true is true); equality never converts
// (1 == "1" is false). An unknown operand makes the result unknown, except where
// the other operand decides a logical operator on its own (false && x is false).
import { containsUnknown, UNKNOWN, valuesEqual, type Unknown, type Value } from '../values.js';
import { asBool, asNumber, describeType } from './conversions.js';

export class OperatorError {
  constructor(
    readonly code: string,
    readonly summary: string,
    readonly detail: string,
  ) {}
}

export type OperatorResult = number | boolean | Unknown | OperatorError;

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  modulo: (a, b) => a % b,
};

const COMPARISON: Record<string, (a: number, b: number) => boolean> = {
  lessThan: (a, b) => a < b,
  lessThanOrEqual: (a, b) => a <= b,
  greaterThan: (a, b) => a > b,
  greaterThanOrEqual: (a, b) => a >= b,
};

function operandError(side: string, v: Value, want: string): OperatorError {
  if (v === null) return new OperatorError('E_TYPE_MISMATCH', 'Invalid operand', `Unsuitable value for ${side} operand: argument must not be null.`);
  const got = `${describeType(v)}${typeof v === 'string' ? ` ${JSON.stringify(v)}` : ''}`;
  return new OperatorError('E_TYPE_MISMATCH', 'Invalid operand', `Unsuitable value for ${side} operand: a ${want} is required, got ${got}.`);
}

/** Checks an operand and converts it; unknown stays unknown. */
function numberOperand(side: string, v: Value): number | Unknown | OperatorError {
  if (v === UNKNOWN) return UNKNOWN;
  const n = asNumber(v);
  return n === undefined ? operandError(side, v, 'number') : n;
}

function boolOperand(side: string, v: Value): boolean | Unknown | OperatorError {
  if (v === UNKNOWN) return UNKNOWN;
  const b = asBool(v);
  return b === undefined ? operandError(side, v, 'bool') : b;
}

export function binaryOp(op: string, lhs: Value, rhs: Value): OperatorResult {
  if (op === 'equal' || op === 'notEqual') {
    if (containsUnknown(lhs) || containsUnknown(rhs)) return UNKNOWN;
    const eq = valuesEqual(lhs, rhs);
    return op === 'equal' ? eq : !eq;
  }
  if (op === 'logicalAnd' || op === 'logicalOr') {
    const l = boolOperand('left', lhs);
    if (l instanceof OperatorError) return l;
    const r = boolOperand('right', rhs);
    if (r instanceof OperatorError) return r;
    const decisive = op === 'logicalAnd' ? false : true;
    if (l === decisive || r === decisive) return decisive;
    if (l === UNKNOWN || r === UNKNOWN) return UNKNOWN;
    return !decisive;
  }
  const arith = ARITHMETIC[op];
  const compare = COMPARISON[op];
  if (arith === undefined && compare === undefined) {
    return unsupported(op);
  }
  const l = numberOperand('left', lhs);
  if (l instanceof OperatorError) return l;
  const r = numberOperand('right', rhs);
  if (r instanceof OperatorError) return r;
  if (typeof l !== 'number' || typeof r !== 'number') return UNKNOWN;
  if (compare !== undefined) return compare(l, r);
  if ((op === 'divide' || op === 'modulo') && r === 0) {
    return new OperatorError('E_DIVISION_BY_ZERO', 'Division by zero', `The right operand of "${op === 'divide' ? '/' : '%'}" is zero.`);
  }
  const out = arith!(l, r);
  return Object.is(out, -0) ? 0 : out;
}

export function unaryOp(op: string, v: Value): OperatorResult {
  if (op === 'negate') {
    const n = numberOperand('unary', v);
    if (n === UNKNOWN || n instanceof OperatorError) return n;
    return n === 0 ? 0 : -n;
  }
  if (op === 'logicalNot') {
    const b = boolOperand('unary', v);
    if (b === UNKNOWN || b instanceof OperatorError) return b;
    return !b;
  }
  return unsupported(op);
}

function unsupported(op: string): OperatorError {
  return new OperatorError('E_UNSUPPORTED_EXPRESSION', 'Unsupported operator', `The operator "${op}" is not supported.`);
}
