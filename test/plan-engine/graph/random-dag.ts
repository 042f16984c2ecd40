// Seeded random acyclic graphs for the graph tests: reproducible, no Math.random.
import { Graph } from '../../../plan-engine/graph/index.js';

/** A small deterministic PRNG (xorshift32); returns floats in [0, 1). */
export function seeded(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** `n` string vertices `v0..`; each may depend on up to `maxDeps` earlier ones, so the graph is acyclic. */
export function randomDag(n: number, maxDeps: number, seed: number): Graph<string> {
  const rnd = seeded(seed);
  const g = new Graph<string>((s) => s);
  for (let i = 0; i < n; i++) {
    const v = `v${i}`;
    g.add(v);
    const deps = i === 0 ? 0 : Math.floor(rnd() * (maxDeps + 1));
    for (let d = 0; d < deps; d++) g.connect(v, `v${Math.floor(rnd() * i)}`);
  }
  return g;
}
