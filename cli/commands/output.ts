import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { LocalBackend } from '../../state/local-backend.js';
import { outputsJson } from '../views/json-format.js';
import { formatValue } from '../views/plan-view.js';
import type { Value } from '../../plan-engine/values.js';

export default class Output extends BaseCommand {
  static override summary = 'Print output values from the state.';
  static override args = {
    name: Args.string({ description: 'One output to print.' }),
  };
  static override flags = {
    raw: Flags.boolean({
      description: 'Print a string output as is, without quotes (for scripts). With NAME, --raw and --json print the value even when it is sensitive.',
      default: false,
    }),
    dir: Flags.directory({ description: 'Configuration directory.', default: '.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Output);
    this.json = flags.json;
    const state = await new LocalBackend({ dir: flags.dir }).readState();
    const outputs = state?.outputs ?? {};
    if (args.name) {
      const o = outputs[args.name];
      if (!o) {
        this.report([
          {
            severity: 'error',
            code: 'E_NO_OUTPUT',
            summary: `No output named "${args.name}" in the state`,
            detail: Object.keys(outputs).length ? `Outputs: ${Object.keys(outputs).sort().join(', ')}.` : 'The state has no outputs: apply first.',
          },
        ]);
        this.exit(1);
      }
      // Asking for one output by name, with --raw or --json, is how scripts read secrets on purpose (as in Terraform).
      if (flags.raw) this.out(typeof o.value === 'string' ? o.value : JSON.stringify(o.value));
      else if (this.json) this.outJson(o.value);
      else this.out(formatValue(o.value as Value, o.sensitive));
      return;
    }
    if (this.json) this.outJson(outputsJson(state));
    else for (const [k, o] of Object.entries(outputs).sort()) this.out(`${k} = ${formatValue(o.value as Value, o.sensitive)}`);
  }
}
