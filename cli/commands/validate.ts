import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { openWorkspace } from '../../plan-engine/workspace.js';
import { makePlan } from '../../plan-engine/plan/planner.js';
import { hasErrors, type Diagnostic } from '../../plan-engine/diagnostics.js';
import { diagnosticJson } from '../views/diagnostics-view.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check the configuration: syntax, types, references. Contacts no host.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    this.json = flags.json;
    const ws = await openWorkspace(args.dir, []);
    this.sources = ws.sources;
    let ds: readonly Diagnostic[] = ws.diagnostics;
    if (!hasErrors(ds) && ws.config) {
      const r = await makePlan(ws.config, null, { mode: 'normal', refresh: false, targets: [], replace: [], inputs: ws.inputs, validateOnly: true }, undefined);
      ds = [...ds, ...r.diagnostics];
    }
    const valid = !hasErrors(ds);
    if (this.json) {
      this.outJson({
        format_version: '1.0',
        valid,
        error_count: ds.filter((d) => d.severity === 'error').length,
        warning_count: ds.filter((d) => d.severity === 'warning').length,
        diagnostics: ds.map((d) => diagnosticJson(d, this.sources)),
      });
    } else {
      this.report(ds);
      if (valid) this.out(this.style.green('Success! The configuration is valid.'));
    }
    this.exit(valid ? 0 : 1);
  }
}
