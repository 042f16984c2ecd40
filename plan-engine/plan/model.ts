// A plan: one Change per resource instance, the outputs' new values, and what it was
// made against (state lineage and serial, configuration hash) so that a saved plan is
// applied exactly or refused.
import type { Diagnostic } from '../diagnostics.js';
import type { Value, ValueObject } from '../values.js';
import type { Action, Reason } from './action.js';
import type { State } from '../../state/model.js';

export interface Change {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly index?: number | string;
  /** The host the object lives on (`host.local`). */
  readonly host: string;
  readonly action: Action;
  readonly reason?: Reason;
  /** Prior state after refresh (null when creating). */
  readonly before: ValueObject | null;
  /** Planned state, possibly holding unknowns (null when deleting). */
  readonly after: ValueObject | null;
  /** Top-level attributes whose change forces the replacement. */
  readonly replacePaths: readonly string[];
  /** Attribute paths never to print. */
  readonly sensitivePaths: readonly string[];
  /** Instances this one depends on (from references and depends_on). */
  readonly dependencies: readonly string[];
  /** Instances the recorded object depended on when last applied (orders deletes). */
  readonly priorDependencies?: readonly string[];
  readonly createBeforeDestroy: boolean;
  /** Set when a moved block re-addressed the object. */
  readonly movedFrom?: string;
}

export interface OutputChange {
  readonly name: string;
  readonly action: 'no-op' | 'create' | 'update' | 'delete';
  readonly before: Value | undefined;
  readonly after: Value | undefined;
  readonly sensitive: boolean;
}

/** A change made outside tsinfra, found by refresh. */
export interface Drift {
  readonly address: string;
  readonly kind: 'deleted' | 'changed';
  readonly before: ValueObject;
  readonly after: ValueObject | null;
  readonly sensitivePaths: readonly string[];
}

export type PlanMode = 'normal' | 'destroy' | 'refresh-only';

export interface Plan {
  readonly mode: PlanMode;
  readonly changes: readonly Change[];
  readonly outputs: readonly OutputChange[];
  readonly drift: readonly Drift[];
  /** The state after refresh and moved blocks: what apply starts from. */
  readonly priorState: State;
  /** Lineage and serial of the stored state the plan was made against. */
  readonly stateLineage: string;
  readonly stateSerial: number;
  readonly configHash: string;
  /** The configuration directory (absolute): `apply FILE` loads it again and checks the hash. */
  readonly configDir: string;
  readonly variables: Readonly<Record<string, Value>>;
  readonly sensitiveVariables: readonly string[];
  readonly targets: readonly string[];
  readonly replace: readonly string[];
  readonly diagnostics: readonly Diagnostic[];
}

export function countChanges(changes: readonly Change[]): { add: number; change: number; destroy: number } {
  let add = 0;
  let change = 0;
  let destroy = 0;
  for (const c of changes) {
    if (c.action === 'create') add++;
    else if (c.action === 'update') change++;
    else if (c.action === 'delete') destroy++;
    else if (c.action === 'delete-then-create' || c.action === 'create-then-delete') {
      add++;
      destroy++;
    }
  }
  return { add, change, destroy };
}

export function hasChanges(plan: Plan): boolean {
  return (
    plan.changes.some((c) => c.action !== 'no-op' || c.movedFrom !== undefined) ||
    plan.outputs.some((o) => o.action !== 'no-op') ||
    (plan.mode === 'refresh-only' && plan.drift.length > 0)
  );
}
