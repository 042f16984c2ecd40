import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, walk, type VisitOutcome } from '../../../plan-engine/graph/index.js';
import { randomDag, seeded } from './random-dag.js';

function graphOf(...edges: string[]): Graph<string> {
  const g = new Graph<string>((s) => s);
  for (const e of edges) {
    const [from, to] = e.split('>');
    if (to === undefined) g.add(from!);
    else g.connect(from!, to);
  }
  return g;
}

/** Lets other visits and the scheduler run: a few turns of the event loop. */
async function yieldTimes(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('walk', () => {
  test('a dependent never starts before its dependencies complete', async () => {
    const g = randomDag(400, 4, 3);
    const rnd = seeded(99);
    const done = new Set<string>();
    const result = await walk(g, {
      concurrency: 8,
      visit: async (v): Promise<VisitOutcome> => {
        for (const d of g.dependencies(v)) assert.ok(done.has(d), `${v} started before ${d} completed`);
        await yieldTimes(Math.floor(rnd() * 4));
        done.add(v);
        return 'ok';
      },
    });
    assert.equal(result.succeeded.length, g.size);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.skipped, []);
    assert.equal(result.aborted, false);
  });

  test('with one slot and synchronous visits the order is the topological order', async () => {
    const g = graphOf('web>net', 'app>net', 'app>vol', 'z', 'b');
    const seen: string[] = [];
    await walk(g, { concurrency: 1, visit: (v) => (seen.push(v), 'ok') });
    assert.deepEqual(seen, g.topologicalOrder());
  });

  test('the concurrency bound is respected and reached', async () => {
    const g = graphOf(...Array.from({ length: 40 }, (_, i) => `v${i}`), 'after>v0', 'after>v1');
    let now = 0;
    let peak = 0;
    const result = await walk(g, {
      concurrency: 4,
      visit: async (): Promise<VisitOutcome> => {
        now++;
        peak = Math.max(peak, now);
        await yieldTimes(2);
        now--;
        return 'ok';
      },
    });
    assert.equal(peak, 4);
    assert.equal(result.succeeded.length, 41);
  });

  test('a failure skips all transitive dependents, unrelated vertices go on', async () => {
    // app -> web -> net (fails); db -> vol; other alone; both -> net and -> vol.
    const g = graphOf('web>net', 'app>web', 'db>vol', 'both>net', 'both>vol', 'other');
    const skips: Array<[string, string | undefined]> = [];
    const visited: string[] = [];
    const result = await walk(g, {
      concurrency: 3,
      visit: async (v) => {
        visited.push(v);
        await yieldTimes(1);
        return v === 'net' ? 'failed' : 'ok';
      },
      onSkip: (v, because) => skips.push([v, because]),
    });
    assert.deepEqual(result.failed, ['net']);
    assert.deepEqual(sorted(result.skipped), ['app', 'both', 'web']);
    assert.deepEqual(sorted(result.succeeded), ['db', 'other', 'vol']);
    assert.deepEqual(sorted(visited), ['db', 'net', 'other', 'vol']);
    assert.deepEqual(
      skips.sort(([a], [b]) => a.localeCompare(b)),
      [
        ['app', 'net'],
        ['both', 'net'],
        ['web', 'net'],
      ],
    );
    assert.equal(result.errors.size, 0, "'failed' is not an error");
  });

  test('a vertex downstream of two failures is skipped once, naming the first', async () => {
    const g = graphOf('top>a', 'top>b');
    const skips: Array<[string, string | undefined]> = [];
    const result = await walk(g, { concurrency: 1, visit: () => 'failed', onSkip: (v, b) => skips.push([v, b]) });
    assert.deepEqual(result.failed, ['a', 'b']);
    assert.deepEqual(result.skipped, ['top']);
    assert.deepEqual(skips, [['top', 'a']]);
  });

  test('a visit that throws or rejects is failed, with its error kept', async () => {
    const g = graphOf('s1>sync', 'a1>async', 'weird', 'fine');
    const boom = new Error('boom');
    const result = await walk(g, {
      concurrency: 2,
      visit: async (v) => {
        if (v === 'async') {
          await yieldTimes(1);
          throw boom;
        }
        return v === 'weird' ? ('maybe' as VisitOutcome) : 'ok';
      },
    });
    assert.deepEqual(sorted(result.failed), ['async', 'weird']);
    assert.equal(result.errors.get('async'), boom);
    assert.ok(result.errors.get('weird') instanceof TypeError);
    assert.deepEqual(result.skipped, ['a1']);

    const syncThrow = await walk(g, {
      concurrency: 2,
      visit: (v) => {
        if (v === 'sync') throw new Error('sync boom');
        return 'ok';
      },
    });
    assert.deepEqual(syncThrow.failed, ['sync']);
    assert.match(String(syncThrow.errors.get('sync')), /sync boom/);
    assert.deepEqual(syncThrow.skipped, ['s1']);
  });

  test('group concurrency bounds visits per group as well as in total', async () => {
    const g = new Graph<string>((s) => s);
    for (const host of ['h1', 'h2', 'h3']) {
      for (let i = 0; i < 8; i++) g.add(`${host}/r${i}`);
      g.connect(`${host}/r7`, `${host}/r0`);
    }
    g.connect('h2/r5', 'h1/r3');
    const perGroup = new Map<string, number>();
    let peakGroup = 0;
    let now = 0;
    let peak = 0;
    const result = await walk(g, {
      concurrency: 5,
      groupOf: (v) => v.split('/')[0]!,
      groupConcurrency: 2,
      visit: async (v): Promise<VisitOutcome> => {
        const host = v.split('/')[0]!;
        perGroup.set(host, (perGroup.get(host) ?? 0) + 1);
        peakGroup = Math.max(peakGroup, perGroup.get(host)!);
        peak = Math.max(peak, ++now);
        await yieldTimes(3);
        perGroup.set(host, perGroup.get(host)! - 1);
        now--;
        return 'ok';
      },
    });
    assert.equal(result.succeeded.length, 24);
    assert.equal(peakGroup, 2);
    assert.ok(peak <= 5, `peak ${peak}`);
    assert.ok(peak > 2, 'groups run in parallel');
  });

  test('maxActiveGroups bounds how many groups (hosts) are worked on at once', async () => {
    const g = new Graph<string>((s) => s);
    for (let h = 0; h < 6; h++) for (let i = 0; i < 4; i++) g.add(`h${h}/r${i}`);
    g.connect('h5/r0', 'h0/r3');
    const running = new Map<string, number>();
    let peakGroups = 0;
    let peakPerGroup = 0;
    const result = await walk(g, {
      concurrency: Infinity,
      groupOf: (v) => v.split('/')[0]!,
      groupConcurrency: 3,
      maxActiveGroups: 2,
      visit: async (v): Promise<VisitOutcome> => {
        const host = v.split('/')[0]!;
        running.set(host, (running.get(host) ?? 0) + 1);
        peakGroups = Math.max(peakGroups, [...running.values()].filter((n) => n > 0).length);
        peakPerGroup = Math.max(peakPerGroup, running.get(host)!);
        await yieldTimes(2);
        running.set(host, running.get(host)! - 1);
        return 'ok';
      },
    });
    assert.equal(result.succeeded.length, 24);
    assert.equal(peakGroups, 2);
    assert.equal(peakPerGroup, 3);
    await assert.rejects(walk(graphOf('a'), { concurrency: 1, maxActiveGroups: 2, visit: () => 'ok' }), TypeError);
  });

  test('abort stops new visits; running ones finish, the rest are skipped', async () => {
    const g = graphOf(...Array.from({ length: 10 }, (_, i) => `v${i}`));
    const controller = new AbortController();
    const skips: Array<[string, string | undefined]> = [];
    let started = 0;
    const result = await walk(g, {
      concurrency: 2,
      signal: controller.signal,
      visit: async (_v, signal): Promise<VisitOutcome> => {
        if (++started === 2) controller.abort();
        await yieldTimes(2);
        assert.ok(signal.aborted, 'the visit sees the walk signal');
        return 'ok';
      },
      onSkip: (v, because) => skips.push([v, because]),
    });
    assert.deepEqual(result.succeeded, ['v0', 'v1']);
    assert.equal(result.skipped.length, 8);
    assert.ok(skips.every(([, because]) => because === undefined));
    assert.equal(result.aborted, true);
  });

  test('an already aborted signal visits nothing', async () => {
    const result = await walk(graphOf('a>b', 'c'), {
      concurrency: 4,
      signal: AbortSignal.abort(),
      visit: () => assert.fail('no visit expected'),
    });
    assert.deepEqual(result.succeeded, []);
    assert.deepEqual(result.skipped, ['a', 'b', 'c']);
    assert.equal(result.aborted, true);
  });

  test('an empty graph', async () => {
    const result = await walk(new Graph<string>((s) => s), { concurrency: 1, visit: () => 'ok' });
    assert.deepEqual(result.succeeded, []);
  });

  test('20k vertices with fast synchronous and asynchronous visits', async () => {
    const g = randomDag(20_000, 3, 5);
    const done = new Set<string>();
    const check = (v: string): void => {
      for (const d of g.dependencies(v)) if (!done.has(d)) assert.fail(`${v} before ${d}`);
      done.add(v);
    };
    const sync = await walk(g, { concurrency: 10, visit: (v) => (check(v), 'ok') });
    assert.equal(sync.succeeded.length, 20_000);
    done.clear();
    const async = await walk(g, { concurrency: 10, visit: async (v) => (check(v), 'ok' as const) });
    assert.equal(async.succeeded.length, 20_000);
  });

  test('a 100k chain that fails at the root skips everything without deep recursion', async () => {
    const g = new Graph<string>((s) => s);
    for (let i = 1; i < 100_000; i++) g.connect(`n${i}`, `n${i - 1}`);
    let skips = 0;
    const result = await walk(g, { concurrency: 4, visit: () => 'failed', onSkip: () => skips++ });
    assert.deepEqual(result.failed, ['n0']);
    assert.equal(result.skipped.length, 99_999);
    assert.equal(skips, 99_999);
    const ok = await walk(g, { concurrency: 4, visit: () => Promise.resolve('ok' as const) });
    assert.equal(ok.succeeded.length, 100_000);
  });

  test('bugs are loud: cyclic graphs, bad limits, throwing callbacks', async () => {
    let visits = 0;
    await assert.rejects(walk(graphOf('a>b', 'b>a', 'c'), { concurrency: 1, visit: () => (visits++, 'ok') }), /cycle/);
    assert.equal(visits, 0, 'nothing runs on a cyclic graph');
    await assert.rejects(walk(graphOf('a'), { concurrency: 0, visit: () => 'ok' }), RangeError);
    await assert.rejects(walk(graphOf('a'), { concurrency: 1, groupConcurrency: 2, visit: () => 'ok' }), TypeError);
    await assert.rejects(
      walk(graphOf('a>b'), {
        concurrency: 1,
        visit: async () => 'failed' as const,
        onSkip: () => {
          throw new Error('onSkip bug');
        },
      }),
      /onSkip bug/,
    );
  });
});
