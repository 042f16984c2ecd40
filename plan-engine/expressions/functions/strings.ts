// String functions. `replace` accepts a /regex/ pattern written in RE2 syntax, as
// Terraform does; the common RE2 forms are translated to JavaScript's dialect.
import { fail, FunctionFailure, stringArg, stringListArg, type FunctionDef } from './function-def.js';
import type { Value } from '../../values.js';

function unaryString(description: string, name: string, op: (s: string) => Value): FunctionDef {
  return {
    description,
    params: [{ name }],
    impl: (args) => {
      const s = stringArg(args, 0, name);
      return s instanceof FunctionFailure ? s : op(s);
    },
  };
}

function stringPredicate(description: string, second: string, op: (s: string, x: string) => boolean): FunctionDef {
  return {
    description,
    params: [{ name: 'str' }, { name: second }],
    impl: (args) => {
      const s = stringArg(args, 0, 'str');
      if (s instanceof FunctionFailure) return s;
      const x = stringArg(args, 1, second);
      return x instanceof FunctionFailure ? x : op(s, x);
    },
  };
}

export const stringFunctions: Record<string, FunctionDef> = {
  join: {
    description: 'The elements of one or more lists of strings, joined by a separator.',
    params: [{ name: 'separator' }],
    variadic: { name: 'lists' },
    impl: (args) => {
      const sep = stringArg(args, 0, 'separator');
      if (sep instanceof FunctionFailure) return sep;
      if (args.length < 2) return fail('at least one list is required.');
      const parts: string[] = [];
      for (let i = 1; i < args.length; i++) {
        const list = stringListArg(args, i, 'lists');
        if (list instanceof FunctionFailure) return list;
        parts.push(...list);
      }
      return parts.join(sep);
    },
  },

  split: {
    description: 'The parts of a string between occurrences of a separator.',
    params: [{ name: 'separator' }, { name: 'str' }],
    impl: (args) => {
      const sep = stringArg(args, 0, 'separator');
      if (sep instanceof FunctionFailure) return sep;
      const s = stringArg(args, 1, 'str');
      return s instanceof FunctionFailure ? s : s.split(sep);
    },
  },

  replace: {
    description: 'A string with every occurrence of a substring (or a /regex/) replaced.',
    params: [{ name: 'str' }, { name: 'substr' }, { name: 'replace' }],
    impl: (args) => {
      const s = stringArg(args, 0, 'str');
      if (s instanceof FunctionFailure) return s;
      const sub = stringArg(args, 1, 'substr');
      if (sub instanceof FunctionFailure) return sub;
      const rep = stringArg(args, 2, 'replace');
      if (rep instanceof FunctionFailure) return rep;
      if (sub.length > 1 && sub.startsWith('/') && sub.endsWith('/')) {
        const re = compileRe2(sub.slice(1, -1));
        if (re instanceof FunctionFailure) return re;
        return s.replace(re, (...m: unknown[]) => expandReplacement(rep, m));
      }
      return s.split(sub).join(rep);
    },
  },

  lower: unaryString('A string in lower case.', 'str', (s) => s.toLowerCase()),
  upper: unaryString('A string in upper case.', 'str', (s) => s.toUpperCase()),
  trimspace: unaryString('A string without leading and trailing white space.', 'str', (s) => s.trim()),
  startswith: stringPredicate('Whether a string starts with a prefix.', 'prefix', (s, p) => s.startsWith(p)),
  endswith: stringPredicate('Whether a string ends with a suffix.', 'suffix', (s, p) => s.endsWith(p)),
};

/** A global JavaScript RegExp for an RE2 pattern: named groups and leading (?flags) translated. */
function compileRe2(pattern: string): RegExp | FunctionFailure {
  let flags = 'gu';
  let body = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead) {
    if (lead[1]!.includes('U')) return fail('the regular expression flag U (ungreedy) is not supported.', 1);
    flags += lead[1]!.replace(/[^ims]/g, '');
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(body, flags);
  } catch {
    // Unicode mode rejects some escapes RE2 accepts (`\-` outside a class): retry without it.
  }
  try {
    return new RegExp(body, flags.replace('u', ''));
  } catch (e) {
    return fail(`invalid regular expression ${JSON.stringify(pattern)}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
}

/**
 * Expands `$1`, `${1}`, `$name`, `${name}` and `$$` in a replacement as Go's regexp
 * does (a name runs as long as letters, digits and underscores follow; unknown
 * groups expand to nothing). `m` holds String.replace's callback arguments.
 */
function expandReplacement(template: string, m: unknown[]): string {
  const last = m[m.length - 1];
  const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
  const groupCount = m.length - (typeof last === 'object' && last !== null ? 3 : 2);
  const group = (name: string): string => {
    if (/^\d+$/.test(name)) {
      const i = Number(name);
      return i < groupCount ? ((m[i] as string | undefined) ?? '') : '';
    }
    return named[name] ?? '';
  };
  return template.replace(/\$(\$|\{(\w+)\}|(\w+))/g, (all, what: string, braced?: string, bare?: string) => {
    if (what === '$') return '$';
    const name = braced ?? bare;
    return name === undefined ? all : group(name);
  });
}
