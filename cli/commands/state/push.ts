import { Args, Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { text as streamText } from 'node:stream/consumers';
import { BaseCommand } from '../../base-command.js';

import { DiagnosticError, hasErrors, type Diagnostic } from '../../../plan-engine/diagnostics.js';
import { parseStateFile } from '../../../state/statefile.js';
import { StateKey } from '../../../state/encryption.js';
import type { State } from '../../../state/model.js';
import { serialLine, StateSurgery, surgeryFlags } from '../../state-surgery.js';
import { JSON_FORMAT_VERSION } from '../../views/json-format.js';

/** Why pushing `next` over `stored` is refused without --force (empty: it is fine). */
function refusals(stored: State, next: State, file: string): Diagnostic[] {
  if (stored.lineage !== next.lineage) {
    return [
      {
        severity: 'error',
        code: 'E_STATE_PUSH_LINEAGE',
        summary: `${file} is another state: its lineage is ${next.lineage}, the stored state's is ${stored.lineage}`,
        detail: 'Pushing it would replace the record of other objects. If that is really what you want, add --force.',
      },
    ];
  }
  if (next.serial <= stored.serial) {
    return [
      {
        severity: 'error',
        code: 'E_STATE_PUSH_SERIAL',
        summary: `${file} has serial ${next.serial}, not newer than the stored state's serial ${stored.serial}`,
        detail:
          'The stored state has moved on since that file was taken (or it is the same state). Pull the current state and edit that, or add --force to overwrite it anyway.',
      },
    ];
  }
  return [];
}

export default class StatePush extends BaseCommand {
  static override summary = 'Replace the state with a state file (validated first).';
  static override description =
    'Refused when the file has another lineage or a serial not above the stored one, unless --force. A timestamped backup of the stored state is written first. FILE "-" reads standard input.';
  static override args = { file: Args.string({ description: 'A state file, as written by tsinfra state pull.', required: true }) };
  static override flags = {
    ...surgeryFlags,
    force: Flags.boolean({ description: 'Push even with another lineage or an older serial (also over an unreadable state).', default: false }),
  };
  static override examples = ['<%= config.bin %> state pull > s.json && $EDITOR s.json && <%= config.bin %> state push s.json'];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(StatePush);
    this.json = flags.json;
    const source = args.file === '-' ? 'standard input' : args.file;
    let text: string;
    try {
      text = args.file === '-' ? await streamText(process.stdin) : await readFile(args.file, 'utf8');
    } catch (e) {
      throw new DiagnosticError([{ severity: 'error', code: 'E_STATE_PUSH_READ', summary: `Cannot read ${source}`, detail: (e as Error).message }]);
    }
    const parsed = await parseStateFile(text, source, { key: StateKey.fromEnv() });
    if (hasErrors(parsed.diagnostics) || !parsed.value) {
      // The parser's advice is for the stored file ("restore it from its backup"); here the file is the user's.
      this.report(
        parsed.diagnostics.map((d) => ({
          ...d,
          detail: `${(d.detail ?? '').replace(/\nRestore it from [^]*$/, '')}\nNothing was pushed; the state is unchanged.`.trim(),
        })),
      );
      this.exit(1);
    }
    const next = parsed.value;
    const surgery = await StateSurgery.begin(flags.dir, { operation: 'state push', lock: flags.lock, allowUnreadable: flags.force });
    try {
      const stored = surgery.stored;
      if (surgery.unreadable.length) {
        const replacing = `With --force it is replaced by ${source}; a timestamped copy of the unreadable file is kept.`;
        this.report(surgery.unreadable.map((d) => ({ ...d, severity: 'warning' as const, detail: replacing })));
      }
      const refused = stored && !flags.force ? refusals(stored, next, source) : [];
      if (refused.length) {
        this.report(refused);
        this.exit(1);
      }
      const done = await surgery.commit(next);
      if (this.json) {
        this.outJson({
          format_version: JSON_FORMAT_VERSION,
          lineage: next.lineage,
          backup: done.backupPath ?? null,
          serial: done.serial,
          resources: next.resources.length,
        });
        return;
      }
      this.out(
        [
          done.backupPath ? `Backup of the previous state: ${done.backupPath}` : 'There was no previous state to back up.',
          `Pushed ${source}: ${next.resources.length} resource instance${next.resources.length === 1 ? '' : 's'}, ${Object.keys(next.outputs).length} output${Object.keys(next.outputs).length === 1 ? '' : 's'}. ${serialLine(done)}`,
        ].join('\n'),
      );
    } finally {
      await surgery.close();
    }
  }
}
