// An unknown command is a usage error: exit 1 (oclif's default, 2, means "changes
// present" to --detailed-exitcode users), with the closest command suggested.
import type { Hook } from '@oclif/core';
import { suggest } from '../../plan-engine/diagnostics.js';

const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = opts.config.commandIDs.map((id) => id.replaceAll(':', ' '));
  const s = suggest(opts.id.replaceAll(':', ' '), ids);
  process.stderr.write(`Error: unknown command "${opts.id.replaceAll(':', ' ')}".${s ? ` Did you mean "${s}"?` : ''} See tsinfra --help.\n`);
  process.exit(1);
};

export default hook;
