import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';
import { planFlags, planRequest } from '../plan-flags.js';
import { openWorkspace } from '../../plan-engine/workspace.js';
import { Run } from '../../plan-engine/run.js';
import { hasErrors } from '../../plan-engine/diagnostics.js';
import { hasChanges } from '../../plan-engine/plan/model.js';
import { writePlanFile } from '../../plan-engine/plan/plan-file.js';
import { renderPlan } from '../views/plan-view.js';
import { planJson } from '../views/json-format.js';
import { phaseDone } from '../../plan-engine/timings.js';

export default class Plan extends BaseCommand {
  static override summary = 'Show what apply would change: refresh, then diff the configuration against the state.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };
  static override flags = {
    ...varFlags,
    ...planFlags,
    out: Flags.string({ description: 'Save the plan to FILE, for `tsinfra apply FILE`.' }),
    destroy: Flags.boolean({ description: 'Plan to destroy every managed object.', default: false }),
    'detailed-exitcode': Flags.boolean({ description: 'Exit 0: no changes, 1: error, 2: changes present.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plan);
    this.json = flags.json;
    const ws = await openWorkspace(args.dir, this.varArgs());
    this.sources = ws.sources;
    if (hasErrors(ws.diagnostics)) {
      this.report(ws.diagnostics);
      this.exit(1);
    }
    const run = await Run.begin(ws, { operation: 'plan', lock: flags.lock, parallelism: flags.parallelism });
    let code = 0;
    try {
      const r = await run.plan(planRequest(flags, flags.destroy));
      phaseDone('plan');
      this.report(r.diagnostics);
      if (hasErrors(r.diagnostics) || !r.plan) code = 1;
      else {
        if (this.json) this.outJson(planJson(r.plan));
        else this.out(renderPlan(r.plan, this.style));
        phaseDone('render');
        if (flags.out) {
          await writePlanFile(flags.out, r.plan);
          if (!this.json) this.out(`Saved the plan to ${flags.out}. Apply exactly this plan with: tsinfra apply ${flags.out}`);
        }
        if (flags['detailed-exitcode'] && hasChanges(r.plan)) code = 2;
      }
    } finally {
      await run.close();
    }
    this.exit(code);
  }
}
