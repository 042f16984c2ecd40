import { Flags } from '@oclif/core';
import { BaseCommand, varFlags } from '../base-command.js';
import { collectStats } from '../container-stats.js';
import { openContainers } from '../container-target.js';
import { renderStats, statsJson } from '../views/container-view.js';

/** The human table's CPU % is measured over this interval. */
const SAMPLE_MS = 1000;

export default class Stats extends BaseCommand {
  static override summary = 'Show CPU, memory, process and block I/O figures of containers.';
  static override description = `Without ADDRESS: every container in the state. The table's CPU % is the use over a ${SAMPLE_MS / 1000}-second sample (100% = one CPU busy) and CPU TIME the total since the container started; --json takes one sample at once and gives the raw counters (cpu_usage_ns, bytes).`;
  static override strict = false;
  static override args = {};
  static override usage = 'stats [ADDRESS...] [--json] [--dir DIR]';
  static override flags = {
    ...varFlags,
    dir: Flags.directory({ description: 'Configuration directory.', default: '.' }),
  };
  static override examples = ['<%= config.bin %> stats', '<%= config.bin %> stats container.web container.db --json'];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Stats);
    this.json = flags.json;
    const opened = await openContainers(flags.dir, this.varArgs(), argv as string[]);
    this.sources = opened.sources;
    if (opened.diagnostics.length) {
      this.report(opened.diagnostics);
      this.exit(1);
    }
    if (!opened.sessions) {
      if (this.json) this.outJson(statsJson([]));
      else this.out(renderStats([], this.style));
      return;
    }
    let rows;
    try {
      rows = await collectStats(opened.sessions, opened.targets, this.json ? 0 : SAMPLE_MS);
    } finally {
      await opened.sessions.close();
    }
    if (this.json) this.outJson(statsJson(rows));
    else this.out(renderStats(rows, this.style));
    // One diagnostic per host that could not be asked (its rows say "unreachable").
    const failed = new Map(rows.filter((r) => r.error).map((r) => [r.host, r.error!]));
    if (failed.size) {
      this.report(
        [...failed].map(([host, e]) => ({
          severity: 'error' as const,
          code: e.code,
          summary: `Cannot read container stats on ${host}: ${e.message}`,
          address: host,
        })),
      );
      this.exit(1);
    }
  }
}
