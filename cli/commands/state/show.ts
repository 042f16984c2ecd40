import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { LocalBackend } from '../../../state/local-backend.js';
import { selectOne } from '../../state-selection.js';
import { JSON_FORMAT_VERSION, stateJson } from '../../views/json-format.js';
import { renderResource } from '../../views/state-view.js';

export default class StateShow extends BaseCommand {
  static override summary = 'Show one resource instance from the state; sensitive values stay hidden.';
  static override args = { address: Args.string({ description: 'The instance address, such as network.front or network.front[0].', required: true }) };
  static override flags = {
    dir: Flags.directory({ description: 'Configuration directory; the state is DIR/.tsinfra/state.json.', default: '.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(StateShow);
    this.json = flags.json;
    const state = await new LocalBackend({ dir: flags.dir }).readState();
    const r = selectOne(state, args.address);
    if ('severity' in r) {
      this.report([r]);
      this.exit(1);
    }
    if (this.json) {
      // The same redacted form as one entry of `tsinfra show --json`.
      const [resource] = stateJson(state && { ...state, resources: [r] })['resources'] as unknown[];
      this.outJson({ format_version: JSON_FORMAT_VERSION, resource });
      return;
    }
    this.out(renderResource(r, this.style));
  }
}
