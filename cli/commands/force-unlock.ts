import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { LocalBackend } from '../../state/local-backend.js';

export default class ForceUnlock extends BaseCommand {
  static override summary = 'Release a stale state lock left by a run that died.';
  static override args = { id: Args.string({ description: 'The lock id shown in the "state is locked" error.', required: true }) };
  static override flags = { dir: Flags.directory({ description: 'Configuration directory.', default: '.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ForceUnlock);
    await new LocalBackend({ dir: flags.dir }).forceUnlock(args.id);
    this.out('The state lock has been released.');
  }
}
