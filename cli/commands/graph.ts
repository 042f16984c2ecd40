import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { openWorkspace } from '../../plan-engine/workspace.js';
import { Diagnostics, hasErrors } from '../../plan-engine/diagnostics.js';
import { buildConfigGraph, nodeKind } from '../../plan-engine/plan/config-graph.js';
import { toDot } from '../../plan-engine/graph/index.js';

export default class GraphCommand extends BaseCommand {
  static override summary = 'Print the dependency graph of the configuration in Graphviz DOT.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };

  async run(): Promise<void> {
    const { args } = await this.parse(GraphCommand);
    const ws = await openWorkspace(args.dir, []);
    this.sources = ws.sources;
    const diags = new Diagnostics().append(ws.diagnostics);
    const g = ws.config ? buildConfigGraph(ws.config, diags) : undefined;
    if (hasErrors(diags.items) || !g) {
      this.report(diags.items);
      this.exit(1);
    }
    const shapes: Record<string, string> = { var: 'note', local: 'note', host: 'box3d', resource: 'box', output: 'note' };
    this.out(toDot(g, { label: (v) => v, attrs: (v) => ({ shape: shapes[nodeKind(v)] ?? 'box' }) }));
  }
}
