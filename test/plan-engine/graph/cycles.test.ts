import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, cyclePath, describeCycle, findCycles } from '../../../plan-engine/graph/index.js';
import { randomDag } from './random-dag.js';

function graphOf(...edges: string[]): Graph<string> {
  const g = new Graph<string>((s) => s);
  for (const e of edges) {
    const [from, to] = e.split('>');
    if (to === undefined) g.add(from!);
    else g.connect(from!, to);
  }
  return g;
}

describe('findCycles', () => {
  test('an acyclic graph has none', () => {
    assert.deepEqual(findCycles(graphOf('a>b', 'b>c', 'a>c', 'd')), []);
    assert.deepEqual(findCycles(randomDag(5_000, 3, 11)), []);
  });

  test('a 2-cycle', () => {
    const g = graphOf('network.b>network.a', 'network.a>network.b', 'container.web>network.a');
    const cycles = findCycles(g);
    assert.deepEqual(cycles, [['network.a', 'network.b']]);
    assert.equal(describeCycle(g, cycles[0]!), 'network.a -> network.b -> network.a');
  });

  test('a 3-cycle comes out in loop order from its smallest member', () => {
    const g = graphOf('c>a', 'b>c', 'a>b', 'd>a');
    const cycles = findCycles(g);
    assert.deepEqual(cycles, [['a', 'b', 'c']]);
    assert.deepEqual(cyclePath(g, cycles[0]!), ['a', 'b', 'c', 'a']);
    assert.equal(
      describeCycle(g, cycles[0]!, (v) => v.toUpperCase()),
      'A -> B -> C -> A',
    );
  });

  test('a self loop', () => {
    const g = graphOf('a>a', 'b>a');
    const cycles = findCycles(g);
    assert.deepEqual(cycles, [['a']]);
    assert.equal(describeCycle(g, cycles[0]!), 'a -> a');
  });

  test('several components, each named in full, sorted by first member', () => {
    const g = graphOf('x>y', 'y>x', 'b>c', 'c>d', 'd>b', 'q>q', 'd>x', 'free>b');
    assert.deepEqual(findCycles(g), [['b', 'c', 'd'], ['q'], ['x', 'y']]);
  });

  test('a tangled component: every member named, the path follows real edges', () => {
    // a <-> b, a <-> c: no single loop goes through all three.
    const g = graphOf('a>b', 'b>a', 'a>c', 'c>a');
    const cycles = findCycles(g);
    assert.equal(cycles.length, 1);
    assert.deepEqual([...cycles[0]!].sort(), ['a', 'b', 'c']);
    const path = cyclePath(g, cycles[0]!);
    assert.equal(path[0], path[path.length - 1]);
    for (let i = 1; i < path.length; i++) assert.ok(g.hasEdge(path[i - 1]!, path[i]!), `${path[i - 1]} -> ${path[i]}`);
    assert.deepEqual(new Set(path), new Set(['a', 'b', 'c']));
  });

  test('a 100k-vertex cycle without stack overflow', () => {
    const g = new Graph<string>((s) => s);
    const n = 100_000;
    const name = (i: number): string => `r${String(i).padStart(6, '0')}`;
    for (let i = 0; i < n; i++) g.connect(name(i), name((i + 1) % n));
    const cycles = findCycles(g);
    assert.equal(cycles.length, 1);
    const cycle = cycles[0]!;
    assert.equal(cycle.length, n);
    for (let i = 0; i < n; i++) assert.equal(cycle[i], name(i));
    assert.equal(cyclePath(g, cycle).length, n + 1);
  });

  test('a 100k-vertex chain with one short cycle at its far end', () => {
    const g = new Graph<string>((s) => s);
    for (let i = 1; i < 100_000; i++) g.connect(`n${i - 1}`, `n${i}`);
    g.connect('n99999', 'n99998');
    assert.deepEqual(findCycles(g), [['n99998', 'n99999']]);
  });
});
