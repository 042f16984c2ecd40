import { Args, Flags } from '@oclif/core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseCommand } from '../base-command.js';
import { formatHcl } from '../../plan-engine/config/hcl-format.js';
import { listConfigFiles, VARS_FILE_SUFFIX } from '../../plan-engine/config/load.js';
import { readdir } from 'node:fs/promises';
import { parseHclSyntax } from '../../plan-engine/config/hcl-syntax.js';
import type { Diagnostic } from '../../plan-engine/diagnostics.js';

export default class Fmt extends BaseCommand {
  static override summary = 'Rewrite *.hcl files in canonical format (--check: only report, for CI).';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };
  static override flags = {
    check: Flags.boolean({ description: 'Change nothing; exit 1 when a file is not formatted (for CI).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Fmt);
    const { hcl } = await listConfigFiles(args.dir);
    const vars = (await readdir(args.dir)).filter((n) => n.endsWith(VARS_FILE_SUFFIX));
    const unformatted: string[] = [];
    const problems: Diagnostic[] = [];
    const sources = new Map<string, string>();
    for (const name of [...hcl, ...vars].sort()) {
      const path = join(args.dir, name);
      const text = await readFile(path, 'utf8');
      sources.set(name, text);
      // A file with syntax errors is never rewritten: formatting could only make it worse.
      const syntax = await parseHclSyntax(name, text);
      if (syntax.diagnostics.some((d) => d.code === 'E_SYNTAX')) {
        problems.push(...syntax.diagnostics);
        continue;
      }
      const formatted = formatHcl(text);
      if (formatted === text) continue;
      unformatted.push(name);
      if (!flags.check) await writeFile(path, formatted);
    }
    this.sources = sources;
    this.report(problems);
    if (flags.json) this.outJson({ files: unformatted, changed: !flags.check });
    else for (const name of unformatted) this.out(name);
    if (problems.length || (flags.check && unformatted.length)) this.exit(1);
  }
}
