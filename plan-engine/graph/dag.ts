// A generic directed graph of dependencies. As in Terraform, an edge goes from a
// dependent to what it depends on: `connect(container.web, network.front)` reads
// "container.web depends on network.front", so a walk visits network.front first.
// Vertices are values (addresses); a key function gives each its identity. Each key
// maps to a node holding Sets of neighbour nodes (not keys), so following an edge
// costs no string hashing and 100k vertices stay cheap.
import { IdHeap } from './id-heap.js';
import { toRows, type IndexedGraph } from './indexed-graph.js';

class Node<V> {
  readonly deps = new Set<Node<V>>();
  readonly dependents = new Set<Node<V>>();
  /** Scratch slot for indexed(): the node's id in the snapshot being built. */
  id = -1;
  constructor(
    readonly key: string,
    readonly value: V,
  ) {}
}

export class Graph<V> {
  private readonly nodes = new Map<string, Node<V>>();
  private edgeTotal = 0;

  constructor(readonly keyOf: (v: V) => string) {}

  get size(): number {
    return this.nodes.size;
  }

  get edgeCount(): number {
    return this.edgeTotal;
  }

  /** Adds a vertex; adding a key that is already present keeps the stored vertex and returns it. */
  add(v: V): V {
    return this.nodeFor(v).value;
  }

  has(v: V): boolean {
    return this.nodes.has(this.keyOf(v));
  }

  hasKey(key: string): boolean {
    return this.nodes.has(key);
  }

  get(key: string): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Records that `from` depends on `to`, adding either vertex if missing. Idempotent. */
  connect(from: V, to: V): void {
    this.link(this.nodeFor(from), this.nodeFor(to));
  }

  /** Removes the edge `from -> to`; returns whether it existed. */
  disconnect(from: V, to: V): boolean {
    const f = this.nodes.get(this.keyOf(from));
    const t = this.nodes.get(this.keyOf(to));
    return f !== undefined && t !== undefined && this.unlink(f, t);
  }

  hasEdge(from: V, to: V): boolean {
    const t = this.nodes.get(this.keyOf(to));
    return t !== undefined && (this.nodes.get(this.keyOf(from))?.deps.has(t) ?? false);
  }

  /** What `v` depends on directly, in the order the edges were added. */
  dependencies(v: V): V[] {
    return valuesOf(this.require(v).deps);
  }

  /** What depends on `v` directly, in the order the edges were added. */
  dependents(v: V): V[] {
    return valuesOf(this.require(v).dependents);
  }

  /** All vertices, in the order they were added. */
  vertices(): V[] {
    return valuesOf(this.nodes.values());
  }

  keys(): IterableIterator<string> {
    return this.nodes.keys();
  }

  /** All edges as `[dependent, dependency]` pairs. */
  edges(): Array<[from: V, to: V]> {
    const result: Array<[V, V]> = [];
    for (const f of this.nodes.values()) {
      for (const t of f.deps) result.push([f.value, t.value]);
    }
    return result;
  }

  /** Removes a vertex and its edges; returns whether it was present. */
  removeVertex(v: V): boolean {
    const node = this.nodes.get(this.keyOf(v));
    if (node === undefined) return false;
    for (const t of [...node.deps]) this.unlink(node, t);
    for (const f of [...node.dependents]) this.unlink(f, node);
    this.nodes.delete(node.key);
    return true;
  }

  /** The given vertices plus everything they depend on, directly or not (what `--target` keeps). */
  transitiveDependencies(vs: Iterable<V>): V[] {
    return valuesOf(this.closure(vs, (n) => n.deps));
  }

  /** The given vertices plus everything that depends on them, directly or not. */
  transitiveDependents(vs: Iterable<V>): V[] {
    return valuesOf(this.closure(vs, (n) => n.dependents));
  }

  /** A new graph with every edge reversed: the order in which to destroy. */
  reverse(): Graph<V> {
    const r = new Graph<V>(this.keyOf);
    for (const n of this.nodes.values()) r.nodes.set(n.key, new Node(n.key, n.value));
    for (const f of this.nodes.values()) {
      const rf = r.nodes.get(f.key)!;
      for (const t of f.deps) r.link(r.nodes.get(t.key)!, rf);
    }
    return r;
  }

  /** A new graph of the vertices with these keys and the edges between them. */
  subgraph(keys: Iterable<string>): Graph<V> {
    const s = new Graph<V>(this.keyOf);
    for (const k of keys) {
      const n = this.nodes.get(k);
      if (n === undefined) throw new Error(`subgraph: no vertex with key ${k}`);
      if (!s.nodes.has(k)) s.nodes.set(k, new Node(k, n.value));
    }
    for (const sf of s.nodes.values()) {
      for (const t of this.nodes.get(sf.key)!.deps) {
        const st = s.nodes.get(t.key);
        if (st !== undefined) s.link(sf, st);
      }
    }
    return s;
  }

  /**
   * Every vertex after everything it depends on; among vertices ready at the same time,
   * the smallest key first, so the order does not depend on insertion order.
   * Throws on a cyclic graph: validate with findCycles first.
   */
  topologicalOrder(): V[] {
    const ix = this.indexed();
    const n = ix.vertices.length;
    const remaining = new Int32Array(n);
    const ready = new IdHeap();
    for (let i = 0; i < n; i++) {
      remaining[i] = ix.depStart[i + 1]! - ix.depStart[i]!;
      if (remaining[i] === 0) ready.push(i);
    }
    const order: V[] = [];
    for (let id = ready.pop(); id >= 0; id = ready.pop()) {
      order.push(ix.vertices[id]!);
      for (let p = ix.dependentStart[id]!; p < ix.dependentStart[id + 1]!; p++) {
        const d = ix.dependentList[p]!;
        if (--remaining[d] === 0) ready.push(d);
      }
    }
    if (order.length !== n) throw new Error('topologicalOrder: the graph has a cycle (check with findCycles first)');
    return order;
  }

  /**
   * A new graph without the edges implied by others (drops `a -> c` when `a -> b -> c`),
   * for readable `graph` output. Meant for acyclic graphs; costs O(V * (V + E)) in the
   * worst case, so keep it off the plan/apply path.
   */
  transitiveReduction(): Graph<V> {
    const r = this.subgraph(this.nodes.keys());
    const implied = new Set<Node<V>>();
    const stack: Node<V>[] = [];
    for (const u of r.nodes.values()) {
      // Everything reachable from u through two edges or more is implied.
      implied.clear();
      for (const d of u.deps) for (const w of d.deps) stack.push(w);
      while (stack.length > 0) {
        const w = stack.pop()!;
        if (implied.has(w)) continue;
        implied.add(w);
        for (const x of w.deps) if (!implied.has(x)) stack.push(x);
      }
      for (const d of [...u.deps]) if (d !== u && implied.has(d)) r.unlink(u, d);
    }
    return r;
  }

  /**
   * A snapshot numbered in key order, for the algorithms of this folder (cycles, walk,
   * dot). Not for general use: it goes stale as soon as the graph changes.
   */
  indexed(): IndexedGraph<V> {
    const nodes = [...this.nodes.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (let i = 0; i < nodes.length; i++) nodes[i]!.id = i;
    const idOf = (n: Node<V>): number => n.id;
    const deps = toRows(nodes, (n) => n.deps, idOf);
    const dependents = toRows(nodes, (n) => n.dependents, idOf);
    return {
      vertices: nodes.map((n) => n.value),
      keys: nodes.map((n) => n.key),
      depStart: deps.start,
      depList: deps.list,
      dependentStart: dependents.start,
      dependentList: dependents.list,
    };
  }

  private nodeFor(v: V): Node<V> {
    const key = this.keyOf(v);
    let node = this.nodes.get(key);
    if (node === undefined) {
      node = new Node(key, v);
      this.nodes.set(key, node);
    }
    return node;
  }

  private require(v: V): Node<V> {
    const key = this.keyOf(v);
    const node = this.nodes.get(key);
    if (node === undefined) throw new Error(`no vertex with key ${key} in the graph`);
    return node;
  }

  private link(f: Node<V>, t: Node<V>): void {
    if (f.deps.has(t)) return;
    f.deps.add(t);
    t.dependents.add(f);
    this.edgeTotal++;
  }

  private unlink(f: Node<V>, t: Node<V>): boolean {
    if (!f.deps.delete(t)) return false;
    t.dependents.delete(f);
    this.edgeTotal--;
    return true;
  }

  private closure(vs: Iterable<V>, next: (n: Node<V>) => ReadonlySet<Node<V>>): Node<V>[] {
    const seen = new Set<Node<V>>();
    for (const v of vs) seen.add(this.require(v));
    // A Set iterates in insertion order, including what is added while iterating: a BFS queue.
    for (const n of seen) for (const m of next(n)) seen.add(m);
    return [...seen];
  }
}

function valuesOf<V>(nodes: Iterable<Node<V>>): V[] {
  const result: V[] = [];
  for (const n of nodes) result.push(n.value);
  return result;
}
