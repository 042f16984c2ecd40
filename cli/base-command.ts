// What every command shares: --json and --no-color, rendering diagnostics, exit codes.
// Commands stay thin: parse flags into options, call the engine, hand results to a view.
import { Command, Errors, Flags } from '@oclif/core';
import type { Diagnostic } from '../plan-engine/diagnostics.js';
import { DiagnosticError } from '../plan-engine/diagnostics.js';
import { diagnosticJson, renderDiagnostics } from './views/diagnostics-view.js';
import { colorWanted, makeStyle, type Style } from './views/style.js';
import type { VarArg } from '../plan-engine/variables.js';
import { normalizeArgv } from './plan-flags.js';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({ description: 'Print machine-readable JSON.', default: false }),
    'no-color': Flags.boolean({ description: 'Never use colours.', default: false }),
  };

  protected sources: ReadonlyMap<string, string> = new Map();

  override async init(): Promise<void> {
    this.argv = normalizeArgv(this.argv);
    await super.init();
  }

  protected json = false;
  private styleCache: Style | undefined;

  protected get style(): Style {
    this.styleCache ??= makeStyle(colorWanted(process.stdout, this.argv.includes('--no-color')));
    return this.styleCache;
  }

  protected errStyle(): Style {
    return makeStyle(colorWanted(process.stderr, this.argv.includes('--no-color')));
  }

  /** Prints diagnostics to stderr, as JSON with --json. */
  protected report(ds: readonly Diagnostic[]): void {
    if (!ds.length) return;
    if (this.json) {
      process.stderr.write(JSON.stringify({ diagnostics: ds.map((d) => diagnosticJson(d, this.sources)) }) + '\n');
      return;
    }
    process.stderr.write(renderDiagnostics(ds, this.sources, this.errStyle()) + '\n');
  }

  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  protected outJson(v: unknown): void {
    process.stdout.write(JSON.stringify(v, null, 2) + '\n');
  }

  /** --var and --var-file in command-line order: later ones win. */
  protected varArgs(): VarArg[] {
    const out: VarArg[] = [];
    const a = this.argv;
    for (let i = 0; i < a.length; i++) {
      const t = a[i]!;
      const take = (flag: string): string | undefined => {
        if (t === flag) return a[++i];
        if (t.startsWith(`${flag}=`)) return t.slice(flag.length + 1);
        return undefined;
      };
      const file = take('--var-file');
      if (file !== undefined) {
        out.push({ kind: 'file', path: file });
        continue;
      }
      const v = take('--var');
      if (v !== undefined) out.push({ kind: 'var', text: v });
    }
    return out;
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof DiagnosticError) {
      this.report(err.diagnostics);
      this.exit(1);
    }
    // oclif exits 2 on a usage error, but 2 means "changes present" to --detailed-exitcode
    // users: a typo in a flag must not read as a diff in CI.
    if (!(err instanceof Errors.ExitError) && err.oclif?.exit === 2) {
      process.stderr.write(`Error: ${err.message}\n`);
      this.exit(1);
    }
    return super.catch(err);
  }
}

export const varFlags = {
  var: Flags.string({ description: 'Set a variable: --var NAME=VALUE (repeatable).', multiple: true, multipleNonGreedy: true }),
  'var-file': Flags.string({ description: 'Read variables from an HCL or JSON file (repeatable).', multiple: true, multipleNonGreedy: true }),
};
