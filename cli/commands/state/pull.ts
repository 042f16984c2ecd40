import { Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { BaseCommand } from '../../base-command.js';
import { LocalBackend } from '../../../state/local-backend.js';

export default class StatePull extends BaseCommand {
  static override summary = 'Print the state file exactly as stored.';
  static override description =
    'For backups and repairs (edit, then tsinfra state push). The output is the raw file: sensitive values are in it, in clear unless the state is encrypted with TSINFRA_STATE_KEY. Treat it as a secret.';
  static override flags = {
    dir: Flags.directory({ description: 'Configuration directory; the state is DIR/.tsinfra/state.json.', default: '.' }),
  };
  static override examples = ['<%= config.bin %> state pull > state-copy.json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(StatePull);
    this.json = flags.json;
    const backend = new LocalBackend({ dir: flags.dir });
    let text: string;
    try {
      text = await readFile(backend.statePath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Like Terraform: no state, no output (and exit 0), so scripts can tell by the empty output.
      process.stderr.write(`No state at ${backend.statePath}.\n`);
      return;
    }
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}
