import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

import { cloneState, findResource, moveResource, type State } from '../../../state/model.js';
import type { Diagnostic } from '../../../plan-engine/diagnostics.js';
import type { ResourceInstanceAddr } from '../../../plan-engine/addresses.js';
import { isDiagnostic, noMatch, parseAddressArg, selectInstances } from '../../state-selection.js';
import { dryRunFlag, serialLine, StateSurgery, surgeryFlags } from '../../state-surgery.js';
import { JSON_FORMAT_VERSION } from '../../views/json-format.js';

/** Which instance goes where, as moveResource decides it: one instance, or every keyed instance of a resource. */
function renames(state: State, from: ResourceInstanceAddr, to: ResourceInstanceAddr): { from: string; to: string }[] {
  if (findResource(state, from)) return [{ from: from.key, to: to.key }];
  return selectInstances(state, from).map((r) => ({ from: r.address, to: to.resource.instance(r.index).key }));
}

export default class StateMv extends BaseCommand {
  static override summary = 'Rename resource instances in the state, without touching the objects on the hosts.';
  static override description =
    'SRC and DST are instance addresses (network.a[0] -> network.b[1]) or resource addresses (network.a -> network.b moves every instance, keys kept). A timestamped backup of the state is written first.';
  static override args = {
    source: Args.string({ description: 'Address in the state now.', required: true }),
    destination: Args.string({ description: 'The new address.', required: true }),
  };
  static override flags = { ...surgeryFlags, ...dryRunFlag };
  static override examples = [
    '<%= config.bin %> state mv network.front network.public',
    "<%= config.bin %> state mv 'tsinfra_data.x[0]' 'tsinfra_data.x[\"a\"]'",
  ];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(StateMv);
    this.json = flags.json;
    const problems: Diagnostic[] = [];
    const from = parseAddressArg(args.source);
    const to = parseAddressArg(args.destination);
    for (const a of [from, to]) if (isDiagnostic(a)) problems.push(a);
    if (isDiagnostic(from) || isDiagnostic(to)) {
      this.report(problems);
      this.exit(1);
    }
    const dryRun = flags['dry-run'];
    // A dry run writes nothing, so it needs no lock.
    const surgery = await StateSurgery.begin(flags.dir, { operation: 'state mv', lock: flags.lock && !dryRun });
    try {
      const stored = surgery.stored;
      if (!stored || selectInstances(stored, from).length === 0) {
        this.report([noMatch(stored, args.source)]);
        this.exit(1);
      }
      const next = cloneState(stored);
      const moves = renames(stored, from, to);
      const ds = moveResource(next, from, to);
      if (ds.length) {
        this.report(ds);
        this.exit(1);
      }
      if (dryRun) {
        if (this.json) this.outJson({ format_version: JSON_FORMAT_VERSION, dry_run: true, moved: moves });
        else this.out([...moves.map((m) => `Would move ${m.from} to ${m.to}`), 'Dry run: the state was not changed.'].join('\n'));
        return;
      }
      const done = await surgery.commit(next);
      if (this.json) {
        this.outJson({ format_version: JSON_FORMAT_VERSION, dry_run: false, moved: moves, backup: done.backupPath ?? null, serial: done.serial });
        return;
      }
      this.out(
        [
          `Backup of the previous state: ${done.backupPath}`,
          ...moves.map((m) => `Moved ${m.from} to ${m.to}`),
          `Successfully moved ${moves.length} resource instance${moves.length === 1 ? '' : 's'}. ${serialLine(done)}`,
        ].join('\n'),
      );
    } finally {
      await surgery.close();
    }
  }
}
