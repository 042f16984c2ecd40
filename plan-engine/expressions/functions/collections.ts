// Functions over lists, sets, maps and objects. Sets are lists without duplicates in
// Terraform's order; maps and objects are both plain objects.
import { containsUnknown, isObject, isUnknown, UNKNOWN, valuesEqual, type Value, type ValueObject } from '../../values.js';
import { compareSetElements, describeType, unifyPrimitives } from '../conversions.js';
import { fail, FunctionFailure, integerArg, listArg, numberArg, objectArg, stringArg, stringListArg, type FunctionDef } from './function-def.js';

/** Characters as a person counts them: "é" written with a combining accent is one. */
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function sortedKeys(o: ValueObject): string[] {
  return Object.keys(o).sort();
}

/** Removes duplicates (first wins) and sorts as Terraform orders a set. */
export function toSetValue(list: readonly Value[]): Value[] {
  const out: Value[] = [];
  for (const v of list) if (!out.some((x) => valuesEqual(x, v))) out.push(v);
  return out.sort(compareSetElements);
}

export const collectionFunctions: Record<string, FunctionDef> = {
  length: {
    description: 'Number of elements of a list or map, or of characters of a string.',
    params: [{ name: 'value' }],
    unknowns: 'custom',
    impl: ([v]) => {
      if (isUnknown(v)) return UNKNOWN;
      if (typeof v === 'string') return [...graphemes.segment(v)].length;
      if (Array.isArray(v)) return v.length;
      if (isObject(v)) return Object.keys(v).length;
      return fail(`Invalid value for "value" parameter: a collection or string is required, got ${describeType(v!)}.`, 0);
    },
  },

  lookup: {
    description: 'The value of a key in a map, or a default when the key is absent.',
    params: [{ name: 'inputMap' }, { name: 'key' }],
    optional: [{ name: 'default', allowNull: true }],
    unknowns: 'shallow',
    impl: (args) => {
      const map = objectArg(args, 0, 'inputMap');
      if (map instanceof FunctionFailure) return map;
      const key = stringArg(args, 1, 'key');
      if (key instanceof FunctionFailure) return key;
      if (Object.hasOwn(map, key)) return map[key]!;
      if (args.length > 2) return args[2]!;
      return fail(`lookup failed to find key "${key}".`, 1);
    },
  },

  merge: {
    description: 'One map holding the keys of all arguments; later arguments win.',
    params: [],
    variadic: { name: 'maps', allowNull: true },
    unknowns: 'shallow',
    impl: (args) => {
      const out: ValueObject = {};
      for (const [i, a] of args.entries()) {
        if (a === null) continue;
        if (!isObject(a)) return fail(`Invalid value for "maps" parameter: argument ${i + 1} is a ${describeType(a)}, but merge takes maps or objects.`, i);
        Object.assign(out, a);
      }
      return out;
    },
  },

  concat: {
    description: 'One list holding the elements of all arguments in order.',
    params: [],
    variadic: { name: 'seqs' },
    unknowns: 'shallow',
    impl: (args) => {
      const out: Value[] = [];
      for (const [i, a] of args.entries()) {
        if (!Array.isArray(a)) return fail(`Invalid value for "seqs" parameter: argument ${i + 1} is a ${describeType(a)}, but concat takes lists.`, i);
        out.push(...a);
      }
      return out;
    },
  },

  toset: {
    description: 'A set: duplicates removed, elements of one type, in Terraform order.',
    params: [{ name: 'v' }],
    impl: (args) => {
      const list = listArg(args, 0, 'v');
      if (list instanceof FunctionFailure) return list;
      const unified = unifyPrimitives(list);
      if (unified === undefined) return fail('Invalid value for "v" parameter: all elements must be of one type (numbers and bools cannot be mixed).', 0);
      if (unified.some((x) => x === null)) return fail('Invalid value for "v" parameter: a set cannot hold null.', 0);
      return toSetValue(unified);
    },
  },

  tolist: {
    description: 'A list from a list or set, elements converted to one type.',
    params: [{ name: 'v' }],
    unknowns: 'shallow',
    impl: (args) => {
      const list = listArg(args, 0, 'v');
      if (list instanceof FunctionFailure) return list;
      return unifyPrimitives(list) ?? fail('Invalid value for "v" parameter: all elements must be of one type (numbers and bools cannot be mixed).', 0);
    },
  },

  tomap: {
    description: 'A map from an object, values converted to one type.',
    params: [{ name: 'v' }],
    unknowns: 'shallow',
    impl: (args) => {
      const obj = objectArg(args, 0, 'v');
      if (obj instanceof FunctionFailure) return obj;
      const keys = Object.keys(obj);
      const unified = unifyPrimitives(keys.map((k) => obj[k]!));
      if (unified === undefined) return fail('Invalid value for "v" parameter: all values must be of one type (numbers and bools cannot be mixed).', 0);
      const out: ValueObject = {};
      keys.forEach((k, i) => (out[k] = unified[i]!));
      return out;
    },
  },

  keys: {
    description: 'The keys of a map, in lexical order.',
    params: [{ name: 'inputMap' }],
    unknowns: 'shallow',
    impl: (args) => {
      const obj = objectArg(args, 0, 'inputMap');
      return obj instanceof FunctionFailure ? obj : sortedKeys(obj);
    },
  },

  values: {
    description: 'The values of a map, in the lexical order of their keys.',
    params: [{ name: 'mapping' }],
    unknowns: 'shallow',
    impl: (args) => {
      const obj = objectArg(args, 0, 'mapping');
      return obj instanceof FunctionFailure ? obj : sortedKeys(obj).map((k) => obj[k]!);
    },
  },

  contains: {
    description: 'Whether a list or set holds a value.',
    params: [{ name: 'list' }, { name: 'value', allowNull: true }],
    unknowns: 'shallow',
    impl: (args) => {
      const list = listArg(args, 0, 'list');
      if (list instanceof FunctionFailure) return list;
      const value = args[1]!;
      if (containsUnknown(value)) return UNKNOWN;
      if (list.some((x) => valuesEqual(x, value))) return true;
      return list.some(containsUnknown) ? UNKNOWN : false;
    },
  },

  distinct: {
    description: 'A list without duplicates, first occurrences kept in order.',
    params: [{ name: 'list' }],
    impl: (args) => {
      const list = listArg(args, 0, 'list');
      if (list instanceof FunctionFailure) return list;
      const out: Value[] = [];
      for (const v of list) if (!out.some((x) => valuesEqual(x, v))) out.push(v);
      return out;
    },
  },

  flatten: {
    description: 'A list with nested lists replaced by their elements, recursively.',
    params: [{ name: 'list' }],
    impl: (args) => {
      const list = listArg(args, 0, 'list');
      if (list instanceof FunctionFailure) return list;
      const out: Value[] = [];
      const walk = (l: readonly Value[]): void => {
        for (const v of l) {
          if (Array.isArray(v)) walk(v);
          else out.push(v);
        }
      };
      walk(list);
      return out;
    },
  },

  element: {
    description: 'The element at an index of a list, wrapping around past the end.',
    params: [{ name: 'list' }, { name: 'index' }],
    unknowns: 'shallow',
    impl: (args) => {
      const list = listArg(args, 0, 'list');
      if (list instanceof FunctionFailure) return list;
      const index = integerArg(args, 1, 'index');
      if (index instanceof FunctionFailure) return index;
      if (list.length === 0) return fail('Cannot use element function with an empty list.', 0);
      if (index < 0) return fail('Cannot use element function with a negative index.', 1);
      return list[index % list.length]!;
    },
  },

  sort: {
    description: 'A list of strings in lexical order.',
    params: [{ name: 'list' }],
    impl: (args) => {
      const list = stringListArg(args, 0, 'list');
      return list instanceof FunctionFailure ? list : list.sort();
    },
  },

  range: {
    description: 'A list of numbers: range(limit), range(start, limit) or range(start, limit, step).',
    params: [],
    variadic: { name: 'params' },
    impl: (args) => {
      if (args.length < 1 || args.length > 3) return fail(`range takes 1 to 3 arguments, got ${args.length}.`);
      const nums: number[] = [];
      for (let i = 0; i < args.length; i++) {
        const n = numberArg(args, i, 'params');
        if (n instanceof FunctionFailure) return n;
        nums.push(n);
      }
      const [start, limit] = nums.length === 1 ? [0, nums[0]!] : [nums[0]!, nums[1]!];
      const step = nums[2] ?? (limit < start ? -1 : 1);
      if (step === 0) return fail('step must not be zero.', 2);
      if (step < 0 && limit > start) return fail('limit must be less than start when step is negative.', 1);
      if (step > 0 && limit < start) return fail('limit must be greater than start when step is positive.', 1);
      const MAX = 1024;
      const out: number[] = [];
      for (let v = start; step > 0 ? v < limit : v > limit; v += step) {
        if (out.length >= MAX)
          return fail(`more than ${MAX} values were generated; either decrease the difference between start and limit or use a larger step.`);
        out.push(v);
      }
      return out;
    },
  },

  coalesce: {
    description: 'The first argument that is neither null nor an empty string.',
    params: [],
    variadic: { name: 'vals', allowNull: true },
    unknowns: 'custom',
    impl: (args) => {
      if (args.length === 0) return fail('coalesce needs at least one argument.');
      const known = args.filter((a) => a !== UNKNOWN);
      const unified = unifyPrimitives(known);
      if (unified === undefined) return fail('all arguments must be of one type (numbers and bools cannot be mixed).');
      let k = 0;
      for (const a of args) {
        if (a === UNKNOWN) return UNKNOWN; // it might be null, so the answer is not known yet
        const v = unified[k++]!;
        if (v !== null && v !== '') return v;
      }
      return fail('no non-null, non-empty-string arguments.');
    },
  },
};
