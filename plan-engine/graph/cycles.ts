// Cycle detection: Tarjan's strongly connected components, run with an explicit
// stack so that a 100k-vertex chain cannot overflow the call stack. Every component
// of two or more vertices, and every vertex with an edge to itself, is a cycle.
import type { Graph } from './dag.js';
import type { IndexedGraph } from './indexed-graph.js';

/**
 * The cycles of `g`, one per strongly connected component. Each lists all members of
 * its component, starting from the smallest key and following edges (a depth-first
 * preorder that takes the smallest key first), so a simple cycle comes out in loop
 * order: `[a, b, c]` for `a -> b -> c -> a`. Cycles are sorted by their first member.
 */
export function findCycles<V>(g: Graph<V>): V[][] {
  const ix = g.indexed();
  return stronglyConnected(ix)
    .map((members) => orderAlongEdges(ix, members))
    .sort((a, b) => a[0]! - b[0]!)
    .map((ids) => ids.map((id) => ix.vertices[id]!));
}

/**
 * A closed path through every member of a cycle found by findCycles, each step an edge:
 * `[a, b, c, a]` for a simple cycle; in a tangled component some vertices repeat
 * (`[a, b, a, c, a]`). For error messages: gaps are filled by breadth-first search,
 * which is quadratic in the size of a tangled component.
 */
export function cyclePath<V>(g: Graph<V>, cycle: readonly V[]): V[] {
  if (cycle.length === 0) return [];
  const members = new Set(cycle.map(g.keyOf));
  const path: V[] = [cycle[0]!];
  for (let i = 0; i < cycle.length; i++) {
    const from = cycle[i]!;
    const to = cycle[(i + 1) % cycle.length]!;
    if (g.hasEdge(from, to)) {
      path.push(to);
      continue;
    }
    const between = shortestPath(g, from, to, members);
    if (between === undefined) {
      throw new Error(`cyclePath: ${g.keyOf(to)} is not reachable from ${g.keyOf(from)} within the cycle`);
    }
    path.push(...between);
  }
  return path;
}

/** `a -> b -> c -> a`: a cycle as one line for a diagnostic. */
export function describeCycle<V>(g: Graph<V>, cycle: readonly V[], label: (v: V) => string = g.keyOf): string {
  return cyclePath(g, cycle).map(label).join(' -> ');
}

/** Components that form cycles, as vertex ids. */
function stronglyConnected(ix: IndexedGraph<unknown>): number[][] {
  const { depStart, depList } = ix;
  const n = ix.vertices.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const components = new Int32Array(n); // Tarjan's stack of visited, unassigned vertices
  let componentsTop = 0;
  const calls = new Int32Array(n); // the simulated recursion: vertices being explored
  const nextEdge = new Int32Array(n); // per vertex, where its exploration resumes
  let counter = 0;
  let top = 0;
  const cycles: number[][] = [];
  const enter = (v: number): void => {
    index[v] = low[v] = counter++;
    nextEdge[v] = depStart[v]!;
    components[componentsTop++] = v;
    onStack[v] = 1;
    calls[top++] = v;
  };

  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    enter(root);
    while (top > 0) {
      const v = calls[top - 1]!;
      if (nextEdge[v]! < depStart[v + 1]!) {
        const w = depList[nextEdge[v]++]!;
        if (index[w] === -1) enter(w);
        else if (onStack[w] && index[w]! < low[v]!) low[v] = index[w]!;
        continue;
      }
      top--;
      if (top > 0) {
        const parent = calls[top - 1]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
      if (low[v] !== index[v]) continue;
      const members: number[] = [];
      let w: number;
      do {
        w = components[--componentsTop]!;
        onStack[w] = 0;
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || hasSelfLoop(ix, v)) cycles.push(members);
    }
  }
  return cycles;
}

function hasSelfLoop(ix: IndexedGraph<unknown>, v: number): boolean {
  for (let p = ix.depStart[v]!; p < ix.depStart[v + 1]!; p++) if (ix.depList[p] === v) return true;
  return false;
}

/** Depth-first preorder of a component from its smallest id, smallest successor first. */
function orderAlongEdges(ix: IndexedGraph<unknown>, members: readonly number[]): number[] {
  const inComponent = new Set(members);
  let start = members[0]!;
  for (const m of members) if (m < start) start = m;
  const order: number[] = [start];
  const visited = new Set([start]);
  // Explicit stack of [vertex, next edge position]: components can be 100k long.
  const stack: Array<[number, number]> = [[start, ix.depStart[start]!]];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const [v, p] = frame;
    if (p >= ix.depStart[v + 1]!) {
      stack.pop();
      continue;
    }
    frame[1] = p + 1;
    const w = ix.depList[p]!;
    if (!inComponent.has(w) || visited.has(w)) continue;
    visited.add(w);
    order.push(w);
    stack.push([w, ix.depStart[w]!]);
  }
  return order;
}

/** The vertices after `from` up to and including `to`, through vertices whose keys are in `within`. */
function shortestPath<V>(g: Graph<V>, from: V, to: V, within: ReadonlySet<string>): V[] | undefined {
  const target = g.keyOf(to);
  const cameFrom = new Map<string, V>([[g.keyOf(from), from]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of g.dependencies(v)) {
      const k = g.keyOf(w);
      if (!within.has(k) || cameFrom.has(k)) continue;
      cameFrom.set(k, v);
      if (k === target) {
        const path = [w];
        for (let x = v; x !== from; x = cameFrom.get(g.keyOf(x))!) path.push(x);
        return path.reverse();
      }
      queue.push(w);
    }
  }
  return undefined;
}
