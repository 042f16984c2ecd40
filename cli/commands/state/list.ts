import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';
import { LocalBackend } from '../../../state/local-backend.js';
import type { Diagnostic } from '../../../plan-engine/diagnostics.js';
import type { ResourceInstanceState } from '../../../state/model.js';
import { isDiagnostic, noMatch, parseAddressArg, selectInstances } from '../../state-selection.js';
import { JSON_FORMAT_VERSION } from '../../views/json-format.js';

export default class StateList extends BaseCommand {
  static override summary = 'List the resource instances in the state.';
  static override description =
    'With addresses, only the instances they select: a resource address (network.front) selects all its instances, an instance address (network.front[0]) that one.';
  static override strict = false;
  static override args = { address: Args.string({ description: 'Resource or instance addresses to filter by (any number).' }) };
  static override flags = {
    dir: Flags.directory({ description: 'Configuration directory; the state is DIR/.tsinfra/state.json.', default: '.' }),
    id: Flags.string({ description: 'Only instances whose id attribute is ID.' }),
  };
  static override examples = ['<%= config.bin %> state list', '<%= config.bin %> state list network.front tsinfra_data.seed[0]'];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(StateList);
    this.json = flags.json;
    const state = await new LocalBackend({ dir: flags.dir }).readState();
    let selected: ResourceInstanceState[] = state?.resources ?? [];
    const filters = argv as string[];
    if (filters.length) {
      const problems: Diagnostic[] = [];
      const keep = new Set<string>();
      for (const f of filters) {
        const addr = parseAddressArg(f);
        if (isDiagnostic(addr)) {
          problems.push(addr);
          continue;
        }
        const found = selectInstances(state, addr);
        if (!found.length) problems.push(noMatch(state, f));
        for (const r of found) keep.add(r.address);
      }
      if (problems.length) {
        this.report(problems);
        this.exit(1);
      }
      selected = selected.filter((r) => keep.has(r.address));
    }
    if (flags.id !== undefined) selected = selected.filter((r) => r.attributes['id'] === flags.id);
    if (this.json) {
      this.outJson({
        format_version: JSON_FORMAT_VERSION,
        resources: selected.map((r) => ({ address: r.address, type: r.type, name: r.name, index: r.index ?? null, host: r.host, status: r.status })),
      });
      return;
    }
    if (selected.length) this.out(selected.map((r) => r.address).join('\n'));
  }
}
