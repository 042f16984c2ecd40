// What apply and destroy show: the plan, progress of each operation, the summary and
// the outputs. Two implementations: lines for people, and JSON lines (one event per
// line, see docs/json-format.md) for pipelines.
import type { ApplyHooks, ApplyResult, ApplySummary, Operation } from '../../plan-engine/apply/apply.js';
import type { Change, Plan } from '../../plan-engine/plan/model.js';
import type { Value } from '../../plan-engine/values.js';
import type { State } from '../../state/model.js';
import { outputsJson, planJson } from './json-format.js';
import { formatValue, renderPlan } from './plan-view.js';
import type { Style } from './style.js';
import { hostSummaryJson, renderHostSummary, summarizeByHost, wantsHostSummary } from './host-summary.js';

export interface ApplyView {
  plan(plan: Plan): void;
  cancelled(destroy: boolean): void;
  hooks(multiHost: boolean): ApplyHooks;
  done(result: ApplyResult, destroy: boolean): void;
}

const VERB: Record<Operation, [string, string, string]> = {
  create: ['Creating...', 'Creation complete', 'Creation'],
  update: ['Modifying...', 'Modifications complete', 'Modification'],
  delete: ['Destroying...', 'Destruction complete', 'Destruction'],
};

export function humanApplyView(write: (line: string) => void, style: Style): ApplyView {
  return {
    plan: (plan) => write(renderPlan(plan, style)),
    cancelled: (destroy) => write(`\n${destroy ? 'Destroy' : 'Apply'} cancelled.`),
    hooks: (multiHost) => {
      const prefix = (c: Change): string => style.bold(`${multiHost ? `${c.host}: ` : ''}${c.address}:`);
      return {
        start: (c, op) => write(`${prefix(c)} ${VERB[op][0]}`),
        complete: (c, op, s, id) =>
          write(`${prefix(c)} ${VERB[op][1]} after ${s < 10 ? s.toFixed(1) : Math.round(s)}s${id && op !== 'delete' ? ` [id=${id}]` : ''}`),
        failed: (c, op, d) => write(`${prefix(c)} ${style.red(`${VERB[op][2]} failed:`)} ${d.detail ?? d.summary}`),
        skipped: (c, _op, because) => write(`${prefix(c)} ${style.yellow('Skipped')} because ${because} failed`),
      };
    },
    done: (result, destroy) => {
      const hosts = summarizeByHost(result.outcomes);
      if (wantsHostSummary(hosts)) write('\n' + renderHostSummary(hosts, destroy, style));
      write('\n' + summaryLine(result.summary, destroy, style));
      const outputs = Object.entries(result.state.outputs).sort(([a], [b]) => (a < b ? -1 : 1));
      if (outputs.length && !destroy) {
        write('\nOutputs:\n');
        for (const [k, v] of outputs) write(`${k} = ${formatValue(v.value as Value, v.sensitive)}`);
      }
    },
  };
}

export function jsonApplyView(write: (line: string) => void): ApplyView {
  const event = (type: string, body: Record<string, unknown>): void => write(JSON.stringify({ type, ...body }));
  return {
    plan: (plan) => event('planned', { plan: planJson(plan) }),
    cancelled: () => event('cancelled', {}),
    hooks: () => ({
      start: (c, op) => event('apply_start', { address: c.address, host: c.host, operation: op }),
      complete: (c, op, s, id) => event('apply_complete', { address: c.address, host: c.host, operation: op, seconds: s, id: id ?? null }),
      failed: (c, op, d) => event('apply_errored', { address: c.address, host: c.host, operation: op, code: d.code, message: d.detail ?? d.summary }),
      skipped: (c, op, because) => event('apply_skipped', { address: c.address, host: c.host, operation: op, because }),
    }),
    done: (result) => {
      event('change_summary', { ...result.summary, hosts: hostSummaryJson(summarizeByHost(result.outcomes)) });
      event('outputs', { outputs: outputsJson(result.state as State) });
    },
  };
}

export function summaryLine(s: ApplySummary, destroy: boolean, style: Style): string {
  const ok = s.failed === 0;
  const head = ok
    ? style.green(style.bold(destroy ? 'Destroy complete!' : 'Apply complete!'))
    : style.red(style.bold(destroy ? 'Destroy failed.' : 'Apply failed.'));
  const counts = destroy ? `Resources: ${s.destroyed} destroyed.` : `Resources: ${s.added} added, ${s.changed} changed, ${s.destroyed} destroyed.`;
  const extra = ok ? '' : ` ${s.failed} failed, ${s.skipped} skipped.`;
  return `${head} ${counts}${extra}`;
}
