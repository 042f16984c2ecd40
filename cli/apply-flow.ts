// The flow shared by `apply` and `destroy`: plan (or load a saved plan), show it, ask
// for approval on a terminal, apply with progress lines, print the summary and outputs.
import { createInterface } from 'node:readline/promises';
import { stat } from 'node:fs/promises';
import { hasChanges, type Plan } from '../plan-engine/plan/model.js';
import { readPlanFile } from '../plan-engine/plan/plan-file.js';
import { Run, type PlanRequest } from '../plan-engine/run.js';
import { openWorkspace } from '../plan-engine/workspace.js';
import type { InputValue, VarArg } from '../plan-engine/variables.js';
import { hasErrors, type Diagnostic } from '../plan-engine/diagnostics.js';
import { humanApplyView, jsonApplyView } from './views/apply-view.js';
import type { Style } from './views/style.js';

export interface ApplyFlowOptions {
  readonly target: string; // DIR or saved plan FILE
  /** Flags given that shape a plan: refused with a saved plan, which is applied exactly. */
  readonly planShaping: readonly string[];
  readonly vars: readonly VarArg[];
  readonly request: PlanRequest;
  readonly autoApprove: boolean;
  readonly parallelism: number;
  readonly lock: boolean;
  readonly json: boolean;
  readonly style: Style;
  readonly report: (ds: readonly Diagnostic[]) => void;
  readonly setSources: (s: ReadonlyMap<string, string>) => void;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Asks on the terminal; undefined when the user pressed Ctrl-C or Ctrl-D. */
async function ask(question: string): Promise<string | undefined> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await new Promise<string | undefined>((resolve) => {
      rl.on('SIGINT', () => resolve(undefined));
      rl.on('close', () => resolve(undefined));
      rl.question(question).then(resolve, () => resolve(undefined));
    });
  } finally {
    rl.close();
  }
}

/** Returns the exit code. */
export async function applyFlow(o: ApplyFlowOptions): Promise<number> {
  const write = (line: string): void => void process.stdout.write(line + '\n');
  const view = o.json ? jsonApplyView(write) : humanApplyView(write, o.style);
  let saved: Plan | undefined;
  let dir = o.target;
  if (await isFile(o.target)) {
    if (o.planShaping.length) {
      o.report([
        {
          severity: 'error',
          code: 'E_SAVED_PLAN_FLAGS',
          summary: `${o.planShaping.join(', ')} cannot be used with a saved plan`,
          detail: `A saved plan is applied exactly as it was made. Give these options to \`tsinfra plan --out\` instead.`,
        },
      ]);
      return 1;
    }
    saved = await readPlanFile(o.target);
    dir = saved.configDir;
  }
  const ws = await openWorkspace(dir, saved ? [] : o.vars);
  o.setSources(ws.sources);
  if (hasErrors(ws.diagnostics)) {
    o.report(ws.diagnostics);
    return 1;
  }
  const destroy = (saved?.mode ?? o.request.mode) === 'destroy';
  const run = await Run.begin(ws, { operation: destroy ? 'destroy' : 'apply', lock: o.lock, parallelism: o.parallelism });
  const ac = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('\nInterrupt received: finishing the operations in progress, starting no new ones...\n');
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let inputs: ReadonlyMap<string, InputValue> | undefined;
    if (saved) {
      const stale = run.checkSavedPlan(saved);
      if (stale.length) {
        o.report(stale);
        return 1;
      }
      inputs = new Map(Object.entries(saved.variables).map(([k, v]) => [k, { raw: v, fromString: false, source: 'the saved plan' }]));
    }
    // A saved plan is applied exactly; planning again (without refresh) only rebuilds the evaluation context.
    // One host that cannot be reached does not stop the others; the run still fails.
    const planned = await run.plan(
      saved ? { mode: saved.mode, refresh: false, targets: saved.targets, replace: saved.replace } : { ...o.request, tolerateUnreachableHosts: true },
      inputs,
    );
    o.report(planned.diagnostics);
    if (hasErrors(planned.diagnostics) || !planned.plan) return 1;
    const unreachableFailure = (): number => {
      if (!planned.unreachableHosts?.size) return 0;
      o.report(
        [...planned.unreachableHosts].map(([host, e]) => ({
          severity: 'error' as const,
          code: e.code,
          summary: `${host} could not be reached: nothing was done there`,
          detail: e.message,
          address: host,
        })),
      );
      return 1;
    };
    const plan: Plan = saved ?? planned.plan;
    if (!saved) {
      view.plan(plan);
      if (!hasChanges(plan)) return unreachableFailure();
      if (!o.autoApprove) {
        if (!process.stdin.isTTY || o.json) {
          o.report([
            {
              severity: 'error',
              code: 'E_APPROVAL_REQUIRED',
              summary: o.json
                ? `${destroy ? 'destroy' : 'apply'} --json needs --auto-approve or a saved plan`
                : `${destroy ? 'destroy' : 'apply'} needs approval, and there is no terminal to ask on`,
              detail: 'Run it with --auto-approve, or save a plan with `tsinfra plan --out FILE` and apply that file.',
            },
          ]);
          return 1;
        }
        const answer = await ask(
          `\n${o.style.bold(destroy ? 'Do you really want to destroy all resources?' : 'Do you want to perform these actions?')}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `,
        );
        if (answer?.trim() !== 'yes') {
          view.cancelled(destroy);
          return 1;
        }
        write('');
      }
    }
    const hosts = new Set(plan.changes.map((c) => c.host));
    const result = await run.apply(plan, planned.context, view.hooks(hosts.size > 1), ac.signal);
    o.report(result.diagnostics);
    view.done(result, destroy);
    const unreachable = unreachableFailure();
    return result.summary.failed > 0 || hasErrors(result.diagnostics) || unreachable ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await run.close();
  }
}
