// One run against a workspace: takes the state lock, opens host sessions on demand,
// plans, applies, and releases everything at the end. The CLI's plan, apply and
// destroy commands are thin layers over this.
import { Diagnostics, type Diagnostic } from './diagnostics.js';
import type { Backend, LockHandle } from '../state/backend.js';
import { StateWriter } from '../state/state-writer.js';
import type { State } from '../state/model.js';
import { HostSessionPool } from '../transport/session-pool.js';
import { applyPlan, type ApplyHooks, type ApplyResult } from './apply/apply.js';
import type { EvalContext } from './plan/eval-context.js';
import type { Plan, PlanMode } from './plan/model.js';
import { makePlan, type PlanResult } from './plan/planner.js';
import { TSINFRA_VERSION } from './version.js';
import type { Workspace } from './workspace.js';
import type { InputValue } from './variables.js';

export interface RunOptions {
  readonly operation: string;
  readonly lock: boolean;
  readonly parallelism: number;
}

export interface PlanRequest {
  readonly mode: PlanMode;
  readonly refresh: boolean;
  readonly targets: readonly string[];
  readonly replace: readonly string[];
  /** apply/destroy: an unreachable host does not stop the plan for the others. */
  readonly tolerateUnreachableHosts?: boolean;
}

export class Run {
  private constructor(
    readonly workspace: Workspace,
    private readonly backend: Backend,
    private readonly lock: LockHandle | undefined,
    readonly stored: State | null,
    readonly sessions: HostSessionPool,
  ) {}

  /** Locks the state (unless told not to) and reads it. */
  static async begin(ws: Workspace, opts: RunOptions): Promise<Run> {
    if (!ws.backend) throw new Error('bug: workspace without backend');
    const lock = opts.lock ? await ws.backend.lock({ operation: opts.operation, version: TSINFRA_VERSION }) : undefined;
    try {
      const stored = await ws.backend.readState();
      return new Run(ws, ws.backend, lock, stored, new HostSessionPool(opts.parallelism));
    } catch (e) {
      await lock?.unlock();
      throw e;
    }
  }

  async plan(req: PlanRequest, inputs: ReadonlyMap<string, InputValue> = this.workspace.inputs): Promise<PlanResult> {
    if (!this.workspace.config) throw new Error('bug: plan without configuration');
    return makePlan(this.workspace.config, this.stored, { ...req, inputs }, this.sessions);
  }

  /** Checks that a saved plan still fits: same state lineage and serial, same configuration. */
  checkSavedPlan(plan: Plan): Diagnostic[] {
    const d = new Diagnostics();
    const lineage = this.stored?.lineage ?? plan.stateLineage;
    const serial = this.stored?.serial ?? 0;
    if (lineage !== plan.stateLineage || serial !== plan.stateSerial) {
      d.error('E_PLAN_STALE', 'Saved plan is stale: the state changed since it was made', {
        detail: `The plan was made against state serial ${plan.stateSerial} (lineage ${plan.stateLineage}); the state is now at serial ${serial} (lineage ${lineage}). Make a new plan.`,
      });
    }
    if (this.workspace.config && this.workspace.config.hash !== plan.configHash) {
      d.error('E_PLAN_CONFIG_CHANGED', 'Saved plan does not match the configuration', {
        detail: `The configuration in ${this.workspace.dir} changed since the plan was made. Make a new plan.`,
      });
    }
    return d.items;
  }

  async apply(plan: Plan, context: EvalContext | undefined, hooks: ApplyHooks, signal?: AbortSignal): Promise<ApplyResult> {
    const writer = new StateWriter(this.backend, this.stored);
    return applyPlan(
      plan,
      this.workspace.config,
      context,
      writer,
      this.sessions,
      { parallelism: this.sessions.parallelism, ...(signal ? { signal } : {}) },
      hooks,
    );
  }

  async close(): Promise<void> {
    await this.sessions.close();
    await this.lock?.unlock();
  }
}
