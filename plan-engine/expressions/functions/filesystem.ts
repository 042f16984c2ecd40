// `file`: reads a file of the configuration, relative to its directory. It runs at
// plan time on this machine, never on a target host.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fail, FunctionFailure, stringArg, type FunctionDef } from './function-def.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export const filesystemFunctions: Record<string, FunctionDef> = {
  file: {
    description: 'The contents of a UTF-8 text file, relative to the configuration directory.',
    params: [{ name: 'path' }],
    impl: (args, env) => {
      const p = stringArg(args, 0, 'path');
      if (p instanceof FunctionFailure) return p;
      const expanded = p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
      const full = isAbsolute(expanded) ? expanded : resolve(env.baseDir, expanded);
      let bytes: Buffer;
      try {
        bytes = readFileSync(full);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          return fail(
            `no file exists at ${JSON.stringify(p)} (looked at ${full}); file() reads files that are part of the configuration, not ones a resource creates.`,
            0,
          );
        }
        return fail(`cannot read ${JSON.stringify(p)}: ${e instanceof Error ? e.message : String(e)}`, 0);
      }
      try {
        return utf8.decode(bytes);
      } catch {
        return fail(`contents of ${JSON.stringify(p)} are not valid UTF-8.`, 0);
      }
    },
  },
};
