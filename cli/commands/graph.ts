import { Args } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { openWorkspace } from '../../plan-engine/workspace.js';
import { Diagnostics, hasErrors } from '../../plan-engine/diagnostics.js';
import { buildConfigGraph, nodeKind } from '../../plan-engine/plan/config-graph.js';
import { toDot } from '../../plan-engine/graph/index.js';
import { makePlan } from '../../plan-engine/plan/planner.js';

export default class GraphCommand extends BaseCommand {
  static override summary = 'Print the dependency graph of the configuration in Graphviz DOT.';
  static override args = { dir: Args.directory({ description: 'Configuration directory.', default: '.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GraphCommand);
    this.json = flags.json;
    const ws = await openWorkspace(args.dir, []);
    this.sources = ws.sources;
    const diags = new Diagnostics().append(ws.diagnostics);
    const g = ws.config ? buildConfigGraph(ws.config, diags) : undefined;
    // A graph of a configuration with dangling references would silently miss edges: validate first.
    if (ws.config && !hasErrors(diags.items)) {
      const checked = await makePlan(
        ws.config,
        null,
        { mode: 'normal', refresh: false, targets: [], replace: [], inputs: ws.inputs, validateOnly: true },
        undefined,
      );
      diags.append(checked.diagnostics.filter((d) => d.severity === 'error'));
    }
    if (hasErrors(diags.items) || !g) {
      this.report(diags.items);
      this.exit(1);
    }
    const shapes: Record<string, string> = { var: 'note', local: 'note', host: 'box3d', resource: 'box', output: 'note' };
    if (this.json) {
      this.outJson({
        format_version: '1.0',
        nodes: [...g.vertices()].sort().map((v) => ({ id: v, kind: nodeKind(v) })),
        edges: [...g.vertices()].sort().flatMap((v) => [...g.dependencies(v)].sort().map((d) => ({ from: v, to: d }))),
      });
      return;
    }
    this.out(toDot(g, { label: (v) => v, attrs: (v) => ({ shape: shapes[nodeKind(v)] ?? 'box' }) }));
  }
}
