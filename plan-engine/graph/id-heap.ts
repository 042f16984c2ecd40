// A binary min-heap of vertex ids. Ids of an IndexedGraph are numbered in key order,
// so "smallest id first" is "smallest key first": the tie-break that makes
// topological orders and sequential walks deterministic.

export class IdHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(id: number): void {
    const a = this.items;
    let i = a.length;
    a.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= id) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = id;
  }

  /** Removes and returns the smallest id, or -1 when empty. */
  pop(): number {
    const a = this.items;
    if (a.length === 0) return -1;
    const top = a[0]!;
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
