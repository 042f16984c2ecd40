import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';
import { normalizeArgv, planFlags, planRequest } from '../plan-flags.js';
import { applyFlow } from '../apply-flow.js';

export default class Apply extends BaseCommand {
  static override summary = 'Make the hosts match the configuration (or apply a saved plan file exactly).';
  static override args = { target: Args.string({ description: 'Configuration directory, or a plan file saved with plan --out.', default: '.' }) };
  static override flags = {
    ...varFlags,
    ...planFlags,
    'auto-approve': Flags.boolean({ description: 'Apply without asking for confirmation.', default: false }),
    destroy: Flags.boolean({ description: 'Destroy every managed object (same as tsinfra destroy).', default: false }),
  };

  async run(): Promise<void> {
    this.argv = normalizeArgv(this.argv);
    const { args, flags } = await this.parse(Apply);
    this.json = flags.json;
    const code = await applyFlow({
      target: args.target,
      vars: this.varArgs(),
      request: planRequest(flags, flags.destroy),
      autoApprove: flags['auto-approve'],
      parallelism: flags.parallelism,
      lock: flags.lock,
      json: flags.json,
      style: this.style,
      report: (ds) => this.report(ds),
      setSources: (s) => (this.sources = s),
    });
    this.exit(code);
  }
}
