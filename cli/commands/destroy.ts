import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';
import { planFlags, planRequest } from '../plan-flags.js';
import { applyFlow } from '../apply-flow.js';

export default class Destroy extends BaseCommand {
  static override summary = 'Destroy every object tsinfra manages in this configuration.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };
  static override flags = {
    ...varFlags,
    target: planFlags.target,
    refresh: planFlags.refresh,
    parallelism: planFlags.parallelism,
    lock: planFlags.lock,
    'auto-approve': Flags.boolean({ description: 'Destroy without asking for confirmation.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Destroy);
    this.json = flags.json;
    const code = await applyFlow({
      target: args.dir,
      planShaping: [],
      vars: this.varArgs(),
      request: planRequest({ ...flags, 'refresh-only': false }, true),
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
