import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { readPlanFile } from '../../plan-engine/plan/plan-file.js';
import { LocalBackend } from '../../state/local-backend.js';
import { planJson, stateJson } from '../views/json-format.js';
import { renderPlan } from '../views/plan-view.js';
import { renderState } from '../views/state-view.js';

export default class Show extends BaseCommand {
  static override summary = 'Show the state, or a saved plan file.';
  static override args = { file: Args.string({ description: 'A plan file saved with plan --out. Without it: the state of --dir.' }) };
  static override flags = { dir: Flags.directory({ description: 'Configuration directory whose state to show.', default: '.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Show);
    this.json = flags.json;
    if (args.file) {
      const plan = await readPlanFile(args.file);
      if (this.json) this.outJson(planJson(plan));
      else this.out(renderPlan(plan, this.style));
      return;
    }
    const state = await new LocalBackend({ dir: flags.dir }).readState();
    if (this.json) this.outJson(stateJson(state));
    else this.out(renderState(state, this.style));
  }
}
