// Numeric functions. Arguments given as numeric strings convert, as in HCL.
import { fail, FunctionFailure, numberArg, type FunctionDef } from './function-def.js';

function unaryNumber(description: string, op: (n: number) => number): FunctionDef {
  return {
    description,
    params: [{ name: 'num' }],
    impl: (args) => {
      const n = numberArg(args, 0, 'num');
      return n instanceof FunctionFailure ? n : op(n);
    },
  };
}

function extreme(description: string, pick: (a: number, b: number) => number): FunctionDef {
  return {
    description,
    params: [],
    variadic: { name: 'numbers' },
    impl: (args) => {
      if (args.length === 0) return fail('must pass at least one number.');
      let best: number | undefined;
      for (let i = 0; i < args.length; i++) {
        const n = numberArg(args, i, 'numbers');
        if (n instanceof FunctionFailure) return n;
        best = best === undefined ? n : pick(best, n);
      }
      return best!;
    },
  };
}

export const numberFunctions: Record<string, FunctionDef> = {
  min: extreme('The smallest of the given numbers.', Math.min),
  max: extreme('The largest of the given numbers.', Math.max),
  abs: unaryNumber('The absolute value of a number.', Math.abs),
  ceil: unaryNumber('The closest whole number greater than or equal to a number.', Math.ceil),
  floor: unaryNumber('The closest whole number less than or equal to a number.', Math.floor),
};
