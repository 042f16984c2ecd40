import { Args } from '@oclif/core';
import { BaseCommand } from '../../base-command.js';

import { cloneState, removeResource } from '../../../state/model.js';
import type { Diagnostic } from '../../../plan-engine/diagnostics.js';
import { isDiagnostic, noMatch, parseAddressArg, selectInstances } from '../../state-selection.js';
import { dryRunFlag, serialLine, StateSurgery, surgeryFlags } from '../../state-surgery.js';
import { JSON_FORMAT_VERSION } from '../../views/json-format.js';

export default class StateRm extends BaseCommand {
  static override summary = 'Forget resource instances: remove them from the state without destroying them.';
  static override description =
    'The objects stay on their hosts, no longer managed by tsinfra (a plan then proposes to create them again while the configuration still declares them). A timestamped backup of the state is written first. Every address must select something, or nothing is removed.';
  static override strict = false;
  static override args = { address: Args.string({ description: 'Resource or instance addresses (one or more).', required: true }) };
  static override flags = { ...surgeryFlags, ...dryRunFlag };
  static override examples = ['<%= config.bin %> state rm network.front', "<%= config.bin %> state rm 'tsinfra_data.x[0]' tsinfra_data.y"];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(StateRm);
    this.json = flags.json;
    const dryRun = flags['dry-run'];
    const surgery = await StateSurgery.begin(flags.dir, { operation: 'state rm', lock: flags.lock && !dryRun });
    try {
      const stored = surgery.stored;
      const problems: Diagnostic[] = [];
      const removed: string[] = [];
      for (const arg of argv as string[]) {
        const addr = parseAddressArg(arg);
        if (isDiagnostic(addr)) {
          problems.push(addr);
          continue;
        }
        const found = selectInstances(stored, addr);
        if (!found.length) problems.push(noMatch(stored, arg));
        for (const r of found) if (!removed.includes(r.address)) removed.push(r.address);
      }
      if (problems.length || !stored) {
        this.report(problems);
        this.exit(1);
      }
      if (dryRun) {
        if (this.json) this.outJson({ format_version: JSON_FORMAT_VERSION, dry_run: true, removed });
        else this.out([...removed.map((a) => `Would remove ${a}`), 'Dry run: the state was not changed.'].join('\n'));
        return;
      }
      const next = cloneState(stored);
      for (const a of removed) removeResource(next, a);
      const done = await surgery.commit(next);
      if (this.json) {
        this.outJson({ format_version: JSON_FORMAT_VERSION, dry_run: false, removed, backup: done.backupPath ?? null, serial: done.serial });
        return;
      }
      this.out(
        [
          `Backup of the previous state: ${done.backupPath}`,
          ...removed.map((a) => `Removed ${a}`),
          `Successfully removed ${removed.length} resource instance${removed.length === 1 ? '' : 's'}. ${serialLine(done)}`,
          'The objects still exist on their hosts; tsinfra no longer manages them.',
        ].join('\n'),
      );
    } finally {
      await surgery.close();
    }
  }
}
