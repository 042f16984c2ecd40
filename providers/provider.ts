// The uniform interface every resource type implements. A provider describes the
// type's configuration (a zod schema), which attribute changes can be applied in place
// (everything else forces replacement), what it computes itself, and how its
// operations map to agent requests. The engine never special-cases a type.
import type { z } from 'zod';
import type { AttrPath, ValueObject } from '../plan-engine/values.js';
import type { AgentSession } from '../transport/types.js';

export type NestedBlockMode = 'single' | 'list';

export interface PathDiagnostic {
  readonly code: string;
  readonly summary: string;
  readonly detail?: string;
  readonly path: AttrPath;
  readonly severity?: 'error' | 'warning';
}

export interface PlanContext {
  /** `network.front[0]` */
  readonly address: string;
  readonly name: string;
  readonly instanceKey: number | string | undefined;
  /** `host.local` */
  readonly host: string;
  /** The evaluated attributes of that host block (`allow_privileged`, ...). */
  readonly hostSettings?: Readonly<Record<string, unknown>>;
}

export interface ApplyRequest {
  readonly action: 'create' | 'update' | 'delete';
  readonly address: string;
  readonly prior: ValueObject | null;
  readonly planned: ValueObject | null;
}

export interface ResourceProvider {
  readonly type: string;
  /** Nested block types and whether they appear once or repeat. */
  readonly nestedBlocks: Readonly<Record<string, NestedBlockMode>>;
  /** Validates and normalises the evaluated configuration (unknown values are skipped). */
  readonly schema: z.ZodType;
  /** Top-level attributes that change in place; any other change forces replacement. */
  readonly updatable: readonly string[];
  /** Attributes the provider computes (shown as known after apply when not known at plan time). */
  readonly computed: readonly string[];
  /** Attributes never to be printed. */
  readonly sensitive: readonly string[];
  /** Computed attributes that are sensitive when the configuration attribute they derive from is (`output` from `input`). */
  readonly derivedSensitive?: Readonly<Record<string, string>>;
  /** Whether apply/read need the host's agent (false for engine-only types). */
  readonly usesAgent: boolean;

  /** Checks beyond the schema (a gateway inside its subnet, ...). */
  check?(config: ValueObject, ctx: PlanContext): PathDiagnostic[];
  /** The planned new state: the normalised config plus computed attributes (kept from prior, derived, or unknown). */
  plan(config: ValueObject, prior: ValueObject | null, ctx: PlanContext): ValueObject;
  apply(req: ApplyRequest, session: AgentSession | undefined): Promise<ValueObject | null>;
  /** Told, as an apply starts, how many objects of this type it will create on a host (containers start their inits ahead). */
  prepareCreates?(count: number, session: AgentSession): Promise<void>;
}
