// A read-only snapshot of a Graph with vertices numbered 0..n-1 in key order and the
// adjacency in flat arrays (compressed sparse rows). The hot loops of cycle search,
// topological sorting and walks index typed arrays instead of hashing strings, and
// key-ordered ids give them a deterministic order for free. Built by Graph.indexed().

export interface IndexedGraph<V> {
  /** Vertices by id; ids follow the order of their keys. */
  readonly vertices: readonly V[];
  readonly keys: readonly string[];
  /** Dependencies of `i` are `depList[depStart[i] .. depStart[i + 1])`, ascending. */
  readonly depStart: Int32Array;
  readonly depList: Int32Array;
  /** Dependents of `i` are `dependentList[dependentStart[i] .. dependentStart[i + 1])`, ascending. */
  readonly dependentStart: Int32Array;
  readonly dependentList: Int32Array;
}

/** Rows of neighbour ids, one row per vertex id, each sorted ascending. */
export function toRows<N>(rows: readonly N[], neighbours: (row: N) => ReadonlySet<N>, idOf: (n: N) => number): { start: Int32Array; list: Int32Array } {
  const n = rows.length;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i]! + neighbours(rows[i]!).size;
  const list = new Int32Array(start[n]!);
  for (let i = 0; i < n; i++) {
    let p = start[i]!;
    for (const x of neighbours(rows[i]!)) list[p++] = idOf(x);
    sortRange(list, start[i]!, p);
  }
  return { start, list };
}

/** Sorts `a[from..to)` ascending; most rows are short, where insertion sort beats a subarray view. */
function sortRange(a: Int32Array, from: number, to: number): void {
  if (to - from > 16) {
    a.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= from && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}
