import { Args, Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../../base-command.js';
import { gatherHostFacts } from '../../host-facts.js';
import { factsJson, renderFacts } from '../../views/facts-view.js';

export default class HostsFacts extends BaseCommand {
  static override summary = 'Show what each host has: kernel, architecture, cgroups, LVM, interfaces, agent and Node versions.';
  static override description =
    'Connects to every host the configuration declares (host blocks with their variables, for_each and count), the way plan and apply do, and asks its agent. Nothing changes on the hosts and the state is not read or locked. A host that cannot be reached is reported with its error while the others still print; the exit code is then 1.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };
  static override flags = {
    ...varFlags,
    parallelism: Flags.integer({ description: 'How many hosts to ask at once.', default: 10, min: 1 }),
  };
  static override examples = ['<%= config.bin %> hosts facts', '<%= config.bin %> hosts facts infra --json --parallelism 50'];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(HostsFacts);
    this.json = flags.json;
    const r = await gatherHostFacts(args.dir, this.varArgs(), flags.parallelism);
    this.sources = r.sources;
    this.report(r.diagnostics);
    if (r.diagnostics.some((d) => d.severity === 'error')) this.exit(1);
    if (this.json) this.outJson(factsJson(r.rows));
    else this.out(renderFacts(r.rows, this.style));
    const failed = r.rows.filter((row) => row.error);
    if (failed.length) {
      this.report(
        failed.map((row) => ({
          severity: 'error' as const,
          code: row.error!.code,
          summary: `Cannot read the facts of ${row.host}`,
          detail: row.error!.message,
          address: row.host,
        })),
      );
      this.exit(1);
    }
  }
}
