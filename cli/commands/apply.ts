import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';
import { planFlags, planRequest } from '../plan-flags.js';
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
    const { args, flags } = await this.parse(Apply);
    this.json = flags.json;
    // With a saved plan, everything that shapes a plan was decided when it was made.
    const planShaping = [
      flags.var?.length ? '--var' : '',
      flags['var-file']?.length ? '--var-file' : '',
      flags.target?.length ? '--target' : '',
      flags.replace?.length ? '--replace' : '',
      flags.destroy ? '--destroy' : '',
      flags['refresh-only'] ? '--refresh-only' : '',
      flags.refresh ? '' : '--refresh=false',
    ].filter(Boolean);
    const code = await applyFlow({
      target: args.target,
      planShaping,
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
