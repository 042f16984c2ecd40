import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceAddr, ResourceInstanceAddr } from '../../../plan-engine/addresses.js';
import { Graph } from '../../../plan-engine/graph/index.js';
import { randomDag } from './random-dag.js';

const strings = (): Graph<string> => new Graph<string>((s) => s);

/** Builds a string graph from `from>to` pairs. */
function graphOf(...edges: string[]): Graph<string> {
  const g = strings();
  for (const e of edges) {
    const [from, to] = e.split('>');
    if (to === undefined) g.add(from!);
    else g.connect(from!, to);
  }
  return g;
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('Graph', () => {
  test('vertices are identified by key, so equal addresses are one vertex', () => {
    const g = new Graph<ResourceInstanceAddr>((a) => a.key);
    const net = new ResourceAddr('network', 'front').instance(undefined);
    const web0 = new ResourceAddr('container', 'web').instance(0);
    g.connect(web0, net);
    g.connect(new ResourceAddr('container', 'web').instance(0), new ResourceAddr('network', 'front').instance(undefined));
    assert.equal(g.size, 2);
    assert.equal(g.edgeCount, 1);
    assert.equal(g.get('container.web[0]'), web0);
    assert.ok(g.has(new ResourceAddr('network', 'front').instance(undefined)));
    assert.deepEqual(g.dependencies(web0), [net]);
    assert.deepEqual(g.dependents(net), [web0]);
    assert.equal(g.add(new ResourceAddr('network', 'front').instance(undefined)), net, 'add keeps the first vertex');
  });

  test('connect, disconnect and removeVertex keep both directions in step', () => {
    const g = graphOf('a>b', 'a>c', 'b>c', 'd');
    assert.equal(g.edgeCount, 3);
    assert.ok(g.hasEdge('a', 'b'));
    assert.ok(!g.hasEdge('b', 'a'));
    assert.ok(g.disconnect('a', 'b'));
    assert.ok(!g.disconnect('a', 'b'));
    assert.deepEqual(g.dependents('b'), []);
    assert.ok(g.removeVertex('c'));
    assert.ok(!g.removeVertex('c'));
    assert.deepEqual(g.dependencies('a'), []);
    assert.deepEqual(g.dependencies('b'), []);
    assert.equal(g.edgeCount, 0);
    assert.deepEqual(g.vertices(), ['a', 'b', 'd']);
    assert.throws(() => g.dependencies('c'), /no vertex with key c/);
  });

  test('topological order puts dependencies first and breaks ties by key', () => {
    // Inserted in a scrambled order: the result must not depend on it.
    const g = graphOf('z', 'web>net', 'app>net', 'app>vol', 'net', 'vol', 'b');
    assert.deepEqual(g.topologicalOrder(), ['b', 'net', 'vol', 'app', 'web', 'z']);
    const h = graphOf('vol', 'b', 'net', 'z', 'app>vol', 'app>net', 'web>net');
    assert.deepEqual(h.topologicalOrder(), g.topologicalOrder());
  });

  test('topological order of a large random graph respects every edge', () => {
    const g = randomDag(20_000, 4, 7);
    const order = g.topologicalOrder();
    assert.equal(order.length, g.size);
    const position = new Map(order.map((v, i) => [v, i]));
    for (const [from, to] of g.edges()) assert.ok(position.get(to)! < position.get(from)!, `${to} before ${from}`);
  });

  test('topological order of a 100k chain', () => {
    const g = strings();
    for (let i = 1; i < 100_000; i++) g.connect(`n${i}`, `n${i - 1}`);
    const order = g.topologicalOrder();
    assert.equal(order[0], 'n0');
    assert.equal(order[99_999], 'n99999');
  });

  test('topological order refuses a cyclic graph', () => {
    assert.throws(() => graphOf('a>b', 'b>a').topologicalOrder(), /cycle/);
  });

  test('transitive dependencies: a target and everything it needs', () => {
    const g = graphOf('web>net', 'web>vol', 'vol>lv', 'lv>vg', 'db>net', 'db>vol2', 'other');
    assert.deepEqual(sorted(g.transitiveDependencies(['web'])), ['lv', 'net', 'vg', 'vol', 'web']);
    assert.deepEqual(sorted(g.transitiveDependencies(['web', 'db'])), ['db', 'lv', 'net', 'vg', 'vol', 'vol2', 'web']);
    assert.deepEqual(g.transitiveDependencies([]), []);
    const targeted = g.subgraph(g.transitiveDependencies(['vol']).map(g.keyOf));
    assert.deepEqual(targeted.topologicalOrder(), ['vg', 'lv', 'vol']);
  });

  test('transitive dependents: everything a vertex affects', () => {
    const g = graphOf('web>net', 'web>vol', 'vol>lv', 'lv>vg', 'db>net', 'other');
    assert.deepEqual(sorted(g.transitiveDependents(['vg'])), ['lv', 'vg', 'vol', 'web']);
    assert.deepEqual(sorted(g.transitiveDependents(['net'])), ['db', 'net', 'web']);
  });

  test('transitive closure terminates on cycles', () => {
    const g = graphOf('a>b', 'b>c', 'c>a', 'c>d');
    assert.deepEqual(sorted(g.transitiveDependencies(['a'])), ['a', 'b', 'c', 'd']);
  });

  test('reverse flips every edge and leaves the original alone', () => {
    const g = graphOf('web>net', 'web>vol', 'x');
    const r = g.reverse();
    assert.deepEqual(r.dependencies('net'), ['web']);
    assert.deepEqual(r.dependencies('vol'), ['web']);
    assert.deepEqual(r.dependencies('web'), []);
    assert.ok(r.has('x'));
    assert.equal(r.edgeCount, 2);
    assert.deepEqual(r.topologicalOrder(), ['web', 'net', 'vol', 'x'], 'destroy order: dependents first');
    assert.deepEqual(g.dependencies('web'), ['net', 'vol']);
  });

  test('subgraph keeps only edges between kept vertices', () => {
    const g = graphOf('a>b', 'b>c', 'a>c');
    const s = g.subgraph(['a', 'c']);
    assert.deepEqual(s.vertices(), ['a', 'c']);
    assert.deepEqual(s.edges(), [['a', 'c']]);
    assert.equal(g.edgeCount, 3);
    assert.throws(() => g.subgraph(['nope']), /no vertex with key nope/);
  });

  test('transitive reduction drops implied edges only', () => {
    const g = graphOf('a>b', 'b>c', 'a>c', 'a>d', 'c>e', 'a>e');
    const r = g.transitiveReduction();
    assert.deepEqual(
      r
        .edges()
        .map(([f, t]) => `${f}>${t}`)
        .sort(),
      ['a>b', 'a>d', 'b>c', 'c>e'],
    );
    assert.equal(g.edgeCount, 6, 'the original is unchanged');
  });
});
