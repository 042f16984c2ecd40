// A bounded parallel walk: each vertex is visited once all its dependencies have
// succeeded; up to `concurrency` visits run at once. A failure skips everything that
// depends on it, transitively, while unrelated branches go on (Terraform's walk).
//
// Scheduling is one loop (`pump`) over a heap of ready vertices: a synchronous visit
// completes inside the loop, an asynchronous one re-enters the loop when it settles.
// No recursion and one promise per visit at most, so 100k fast visits are cheap.
//
// Vertex lifecycle:  WAITING --(all deps ok)--> READY --(slot free)--> RUNNING --> OK | FAILED
//                    WAITING --(a dep failed or the walk was aborted)--> SKIPPED
import type { Graph } from './dag.js';
import { IdHeap } from './id-heap.js';
import type { IndexedGraph } from './indexed-graph.js';

export type VisitOutcome = 'ok' | 'failed';

export interface WalkOptions<V> {
  /** How many visits may run at once (an integer >= 1, or Infinity). */
  readonly concurrency: number;
  /**
   * Does the work for one vertex. Returning 'failed' or throwing skips its dependents.
   * `signal` is the walk's abort signal (never aborted when none was given), for visits
   * that can stop early. (An async visit with a single `return 'ok'` needs a
   * `: Promise<VisitOutcome>` annotation: TypeScript widens a lone literal returned
   * through a Promise-or-value union, microsoft/TypeScript#30185.)
   */
  readonly visit: (v: V, signal: AbortSignal) => Promise<VisitOutcome> | VisitOutcome;
  /**
   * Told about each skipped vertex: `because` is the failed vertex that caused it
   * (the original failure, also for indirect dependents), or undefined when the walk
   * was aborted before the vertex could start.
   */
  readonly onSkip?: (v: V, because: V | undefined) => void;
  /** Puts vertices in groups (for example their host) to bound visits per group. Needs groupConcurrency. */
  readonly groupOf?: (v: V) => string;
  /** How many visits of one group may run at once. Needs groupOf. */
  readonly groupConcurrency?: number;
  /** How many groups may have visits running at once (hosts worked on at a time). Needs groupOf. */
  readonly maxActiveGroups?: number;
  /** Stops starting new visits; running ones finish, the rest are reported as skipped. */
  readonly signal?: AbortSignal;
}

export interface WalkResult<V> {
  /** In order of completion. */
  readonly succeeded: V[];
  /** In order of completion. */
  readonly failed: V[];
  /** In the order they were skipped. */
  readonly skipped: V[];
  /** By vertex key: what a visit threw (or a TypeError for a result other than 'ok'/'failed'). */
  readonly errors: Map<string, unknown>;
  /** Whether the signal stopped the walk before every vertex was visited or skipped. */
  readonly aborted: boolean;
}

/** Visits every vertex of an acyclic graph after its dependencies. Rejects (a bug) on a cyclic graph or bad options. */
export function walk<V>(g: Graph<V>, options: WalkOptions<V>): Promise<WalkResult<V>> {
  return new Promise((resolve, reject) => {
    checkLimit('concurrency', options.concurrency);
    if ((options.groupOf === undefined) !== (options.groupConcurrency === undefined)) {
      throw new TypeError('walk: groupOf and groupConcurrency go together');
    }
    if (options.groupConcurrency !== undefined) checkLimit('groupConcurrency', options.groupConcurrency);
    if (options.maxActiveGroups !== undefined) {
      if (options.groupOf === undefined) throw new TypeError('walk: maxActiveGroups needs groupOf');
      checkLimit('maxActiveGroups', options.maxActiveGroups);
    }
    new Walker(g.indexed(), options, resolve, reject).start();
  });
}

function checkLimit(name: string, n: number): void {
  if (!(n === Infinity || (Number.isInteger(n) && n >= 1))) {
    throw new RangeError(`walk: ${name} must be an integer >= 1 or Infinity, got ${n}`);
  }
}

const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const OK = 3;
const FAILED = 4;
const SKIPPED = 5;

/** What a visit threw, told apart from anything a buggy visit might return. */
class Thrown {
  constructor(readonly error: unknown) {}
}

/** Per-group limits: which group each vertex is in, how many run, who waits for a slot. */
interface Groups {
  readonly of: Int32Array;
  readonly running: Int32Array;
  readonly waiting: IdHeap[];
  readonly limit: number;
  /** Groups with a visit running now, and how many may be. */
  active: number;
  readonly maxActive: number;
  /** Ready vertices of idle groups, waiting for a group to finish its visits. */
  readonly parked: IdHeap;
}

class Walker<V> {
  private readonly state: Uint8Array;
  /** Dependencies not yet succeeded, per vertex. */
  private readonly remaining: Int32Array;
  private readonly ready = new IdHeap();
  private readonly groups: Groups | undefined;
  private readonly signal: AbortSignal;
  private running = 0;
  private settled = false;
  private readonly result: WalkResult<V> = {
    succeeded: [],
    failed: [],
    skipped: [],
    errors: new Map(),
    aborted: false,
  };

  constructor(
    private readonly ix: IndexedGraph<V>,
    private readonly options: WalkOptions<V>,
    private readonly resolve: (r: WalkResult<V>) => void,
    private readonly reject: (e: unknown) => void,
  ) {
    const n = ix.vertices.length;
    this.state = new Uint8Array(n);
    this.remaining = new Int32Array(n);
    this.signal = options.signal ?? new AbortController().signal;
    this.groups = this.makeGroups();
  }

  start(): void {
    assertAcyclic(this.ix);
    const n = this.ix.vertices.length;
    for (let i = 0; i < n; i++) {
      this.remaining[i] = this.ix.depStart[i + 1]! - this.ix.depStart[i]!;
      if (this.remaining[i] === 0) this.makeReady(i);
    }
    this.pump();
  }

  private makeGroups(): Groups | undefined {
    const { groupOf, groupConcurrency } = this.options;
    if (groupOf === undefined || groupConcurrency === undefined) return undefined;
    const n = this.ix.vertices.length;
    const ids = new Map<string, number>();
    const of = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const name = groupOf(this.ix.vertices[i]!);
      let id = ids.get(name);
      if (id === undefined) {
        id = ids.size;
        ids.set(name, id);
      }
      of[i] = id;
    }
    const waiting = Array.from({ length: ids.size }, () => new IdHeap());
    return {
      of,
      running: new Int32Array(ids.size),
      waiting,
      limit: groupConcurrency,
      active: 0,
      maxActive: this.options.maxActiveGroups ?? Infinity,
      parked: new IdHeap(),
    };
  }

  /** Starts what can start; finishes the walk once nothing runs and nothing more can start. */
  private pump(): void {
    if (this.settled) return;
    try {
      while (this.running < this.options.concurrency && !this.signal.aborted) {
        const id = this.nextRunnable();
        if (id < 0) break;
        this.launch(id);
      }
      if (this.running === 0) this.finish();
    } catch (e) {
      // A bug in a callback (onSkip, groupOf): fail the walk rather than hang it.
      this.settled = true;
      this.reject(e);
    }
  }

  /** The smallest ready vertex whose group has a free slot, or -1. */
  private nextRunnable(): number {
    for (let id = this.ready.pop(); id >= 0; id = this.ready.pop()) {
      const gr = this.groups;
      if (gr === undefined) return id;
      const group = gr.of[id]!;
      if (gr.running[group]! >= gr.limit) {
        gr.waiting[group]!.push(id); // back in `ready` when a visit of its group ends
      } else if (gr.running[group] === 0 && gr.active >= gr.maxActive) {
        gr.parked.push(id); // back in `ready` when some group goes idle
      } else {
        return id;
      }
    }
    return -1;
  }

  private launch(id: number): void {
    this.state[id] = RUNNING;
    this.running++;
    const gr = this.groups;
    if (gr !== undefined && gr.running[gr.of[id]!]!++ === 0) gr.active++;
    let outcome: Promise<VisitOutcome> | VisitOutcome;
    try {
      outcome = this.options.visit(this.ix.vertices[id]!, this.signal);
    } catch (e) {
      this.complete(id, new Thrown(e));
      return;
    }
    if (!isThenable(outcome)) {
      this.complete(id, outcome);
      return;
    }
    // Promise.resolve: a hand-made thenable could call back synchronously and re-enter pump.
    Promise.resolve(outcome).then(
      (o) => this.settle(id, o),
      (e: unknown) => this.settle(id, new Thrown(e)),
    );
  }

  /** Completion of an asynchronous visit: record it and schedule more. */
  private settle(id: number, outcome: VisitOutcome | Thrown): void {
    if (this.settled) return;
    try {
      this.complete(id, outcome);
    } catch (e) {
      this.settled = true;
      this.reject(e);
      return;
    }
    this.pump();
  }

  private complete(id: number, outcome: VisitOutcome | Thrown): void {
    this.running--;
    const gr = this.groups;
    if (gr !== undefined) {
      const group = gr.of[id]!;
      gr.running[group]!--;
      const next = gr.waiting[group]!.pop();
      if (next >= 0) this.ready.push(next);
      if (gr.running[group] === 0) {
        gr.active--;
        for (let p = gr.parked.pop(); p >= 0; p = gr.parked.pop()) this.ready.push(p);
      }
    }
    const v = this.ix.vertices[id]!;
    if (outcome === 'ok') {
      this.state[id] = OK;
      this.result.succeeded.push(v);
      const { dependentStart, dependentList } = this.ix;
      for (let p = dependentStart[id]!; p < dependentStart[id + 1]!; p++) {
        const d = dependentList[p]!;
        if (--this.remaining[d] === 0 && this.state[d] === WAITING) this.makeReady(d);
      }
      return;
    }
    this.state[id] = FAILED;
    this.result.failed.push(v);
    if (outcome instanceof Thrown) this.result.errors.set(this.ix.keys[id]!, outcome.error);
    else if (outcome !== 'failed') {
      this.result.errors.set(this.ix.keys[id]!, new TypeError(`visit returned ${String(outcome)}, not 'ok' or 'failed'`));
    }
    this.skipDependentsOf(id);
  }

  private makeReady(id: number): void {
    this.state[id] = READY;
    this.ready.push(id);
  }

  /** Skips every vertex that depends on `failed`, directly or not. */
  private skipDependentsOf(failed: number): void {
    const because = this.ix.vertices[failed]!;
    const { dependentStart, dependentList } = this.ix;
    const stack = [failed];
    while (stack.length > 0) {
      const v = stack.pop()!;
      for (let p = dependentStart[v]!; p < dependentStart[v + 1]!; p++) {
        const d = dependentList[p]!;
        // A dependent of a failed vertex cannot be ready or running yet; one already
        // skipped (by another failure) has had its own dependents skipped too.
        if (this.state[d] !== WAITING) continue;
        this.skip(d, because);
        stack.push(d);
      }
    }
  }

  private skip(id: number, because: V | undefined): void {
    this.state[id] = SKIPPED;
    const v = this.ix.vertices[id]!;
    this.result.skipped.push(v);
    this.options.onSkip?.(v, because);
  }

  private finish(): void {
    if (this.settled) return;
    const n = this.ix.vertices.length;
    let aborted = false;
    for (let i = 0; i < n; i++) {
      const s = this.state[i];
      if (s !== WAITING && s !== READY) continue;
      if (!this.signal.aborted) {
        throw new Error(`walk: ${this.ix.keys[i]} can never run: the graph has a cycle (check with findCycles first)`);
      }
      aborted = true;
      this.skip(i, undefined);
    }
    this.settled = true;
    this.resolve({ ...this.result, aborted });
  }
}

/** Kahn's count: a vertex on a cycle would never become ready, so refuse before visiting anything. */
function assertAcyclic(ix: IndexedGraph<unknown>): void {
  const n = ix.vertices.length;
  const remaining = new Int32Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    remaining[i] = ix.depStart[i + 1]! - ix.depStart[i]!;
    if (remaining[i] === 0) queue[tail++] = i;
  }
  for (let head = 0; head < tail; head++) {
    const v = queue[head]!;
    for (let p = ix.dependentStart[v]!; p < ix.dependentStart[v + 1]!; p++) {
      const d = ix.dependentList[p]!;
      if (--remaining[d] === 0) queue[tail++] = d;
    }
  }
  if (tail !== n) throw new Error('walk: the graph has a cycle (check with findCycles first)');
}

function isThenable<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}
