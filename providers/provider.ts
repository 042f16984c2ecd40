// The uniform interface every resource type implements. A provider describes the
// type's configuration (a zod schema), which attribute changes can be applied in place
// (everything else forces replacement), what it computes itself, and how its
// operations map to agent requests. The engine never special-cases a type.
import type { z } from 'zod';
import type { AttrPath, ValueObject } from '../plan-engine/values.js';
import type { AgentSession } from '../transport/types.js';
import type { HostStorage, StorageObject } from './storage-model.js';

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
  /**
   * The host's storage (LVM groups, volumes, block devices) as refresh saw it, plus what
   * this plan has planned there so far. Given to types with `storage` hooks when the plan
   * refreshes; absent for validate, --refresh=false and the re-plan during apply.
   */
  readonly storage?: HostStorage;
  /**
   * During apply, when a change planned with unknown values is planned again: the state
   * planned at plan time. What only the plan could resolve (an LV size of "50%VG") is
   * kept from it.
   */
  readonly planned?: ValueObject;
}

/** The storage side of a type (LVM): what its objects take from a host's storage. */
export interface StorageHooks {
  /**
   * The object a planned or recorded state describes, for the plan-wide checks;
   * undefined when it uses no LVM storage. `storage`: the host's, when the plan has it.
   */
  describe(state: ValueObject, storage: HostStorage | undefined): StorageObject | undefined;
  /**
   * Attributes whose presence makes a resource of this type use LVM (a volume's
   * `thin_pool`); absent: every resource of the type does. Decides which hosts the plan
   * reads the storage inventory of.
   */
  readonly when?: readonly string[];
}

/** The agent session of any host of the run, by address (`host.h1`): opened on first use. */
export type HostSessions = (host: string) => Promise<AgentSession>;

/**
 * A type whose objects span several hosts (an overlay network has a part on each member).
 * Its resources have no `host`; the engine records them under MULTI_HOST and hands the
 * provider the sessions of every host, for refresh and apply alike.
 */
export interface MultiHostHooks {
  /** What the hosts have now (the parts still there), or null when no host has any. */
  read(state: ValueObject, sessions: HostSessions): Promise<ValueObject | null>;
  apply(req: ApplyRequest, sessions: HostSessions): Promise<ValueObject | null>;
}

/** The host a multi-host resource is recorded under. */
export const MULTI_HOST = 'host.*';

/** A resource instance as the apply left it, for reconcile hooks. */
export interface AppliedResource {
  readonly address: string;
  readonly type: string;
  readonly name: string;
  readonly host: string;
  readonly attributes: ValueObject;
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
  /**
   * Computed attributes that follow what happens on the host (a group's free space, a
   * pool's usage): refresh records their new values silently, and they are never drift
   * nor a change.
   */
  readonly observed?: readonly string[];
  /**
   * Nested attribute paths (`filesystem.type`) whose change forces replacement although
   * their top-level attribute updates in place. A path appearing or disappearing (a
   * nested block added or removed) is a change of it.
   */
  readonly replaceOnChange?: readonly string[];
  /** Storage types: the plan reads the host's storage inventory for them and checks capacity. */
  readonly storage?: StorageHooks;
  /** Types whose objects span several hosts (see MultiHostHooks). */
  readonly multiHost?: MultiHostHooks;
  /**
   * After every apply, for each recorded object of the type: brings what depends on other
   * objects' applied values up to date on the hosts (the names an overlay's members
   * resolve, which come from containers applied after it). Idempotent.
   */
  reconcile?(own: AppliedResource, all: readonly AppliedResource[], sessions: HostSessions): Promise<void>;

  /** Checks beyond the schema (a gateway inside its subnet, ...). */
  check?(config: ValueObject, ctx: PlanContext): PathDiagnostic[];
  /**
   * Checks of an in-place update that need the recorded state (a shrink refused): errors
   * stop the plan, reported at the attribute's line. Not called for creates and
   * replacements.
   */
  checkChange?(prior: ValueObject, planned: ValueObject, ctx: PlanContext): PathDiagnostic[];
  /** The planned new state: the normalised config plus computed attributes (kept from prior, derived, or unknown). */
  plan(config: ValueObject, prior: ValueObject | null, ctx: PlanContext): ValueObject;
  apply(req: ApplyRequest, session: AgentSession | undefined): Promise<ValueObject | null>;
  /** Short notes the plan shows after attribute values of a state, by attribute path (`size`: `2.0 GiB` for "50%VG"). */
  valueNotes?(state: ValueObject): Readonly<Record<string, string>>;
  /** Told, as an apply starts, how many objects of this type it will create on a host (containers start their inits ahead). */
  prepareCreates?(count: number, session: AgentSession): Promise<void>;
}
