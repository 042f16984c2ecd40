import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  astCacheStats,
  clearAstCache,
  collectTemplates,
  exportEntries,
  getAst,
  parseTemplates,
  parseWithParser,
  primeCache,
  type CacheEntry,
} from '../../../plan-engine/expressions/ast-cache.js';
import { evaluate } from '../../../plan-engine/expressions/evaluate.js';
import { fastParse } from '../../../plan-engine/expressions/fast-parse.js';
import { codes, dataScope } from './harness.js';

/** Removes source ranges, which legitimately differ for non-ASCII text. */
function withoutRanges(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutRanges);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'range') out[k] = withoutRanges(x);
    return out;
  }
  return v;
}

describe('collectTemplates', () => {
  test('finds every distinct template, object keys included, and nothing else', () => {
    const raw = { a: '${var.x}', b: ['${var.x}', 'plain', 5, null, { c: 'x-${local.y}' }], '${var.k}': true, '$${esc}': 1 };
    assert.deepEqual(collectTemplates(raw).sort(), ['$${esc}', '${var.k}', '${var.x}', 'x-${local.y}'].sort());
  });

  test('plain values have no templates', () => {
    assert.deepEqual(collectTemplates(['a', 1, true, null, { b: '100%' }]), []);
  });
});

describe('parseTemplates', () => {
  test('reports one E_SYNTAX diagnostic per bad template, even when it is asked for twice', async () => {
    const ds = await parseTemplates(['${1 +}', '${1 +}', '${ok}', '${a b}']);
    assert.deepEqual(
      ds.map((d) => d.code),
      ['E_SYNTAX', 'E_SYNTAX'],
    );
    assert.ok(ds.every((d) => d.severity === 'error' && d.detail !== undefined && d.range === undefined));
  });

  test('parses each distinct template once', async () => {
    const t = '${[for v in var.cache_once : v] /* unique */}';
    await parseTemplates([t]);
    const calls = astCacheStats().parserCalls;
    await parseTemplates([t, t]);
    assert.equal(astCacheStats().parserCalls, calls);
    assert.ok(getAst(t));
  });

  test('simple traversals never reach the WebAssembly parser', async () => {
    const templates = Array.from({ length: 1000 }, (_, i) => `\${container.web_${i}[${i % 3}].ip_addresses["front"]}`);
    const before = astCacheStats().parserCalls;
    const ds = await parseTemplates(templates);
    assert.deepEqual(ds, []);
    assert.equal(astCacheStats().parserCalls, before);
    assert.ok(templates.every((t) => getAst(t)?.type === 'templateWrap'));
  });

  test('bare object keys are named from the source', async () => {
    const t = '${{name = 1, "quoted" = 2}}';
    await parseTemplates([t]);
    const obj = getAst(t)!.children[0]!;
    assert.equal(obj.type, 'object');
    assert.deepEqual((obj.children[0] as { meta?: unknown }).meta, { value: 'name' });
  });
});

describe('fast path', () => {
  const traversals = [
    '${a}',
    '${var.x}',
    '${a.b.c}',
    '${a.b[0].c}',
    '${a.b["k"]}',
    '${network.front[0].id}',
    '${container.web["a-b c"].ip_addresses["front"]}',
    '${each.value}',
    '${count.index}',
    '${host.web-1.address}',
    '${_x.y_2[10]}',
  ];
  for (const t of traversals) {
    test(`${t} builds exactly the parser's AST`, async () => {
      const fast = fastParse(t);
      assert.ok(fast, 'fast path taken');
      assert.deepEqual(fast, await parseWithParser(t));
    });
  }

  const templates = [
    '$${HOME}',
    'a $${b} %%{c}',
    'quote " and $${x}',
    'two\nlines $${x}',
    'back\\slash $${x}',
    'web-${count.index}',
    'a${x.y}b${z}',
    '${x}${y}',
    '${x}b',
    'a"b${x}',
    'line\n${x}\ttab',
    '$${HOME}/${var.dir}/%%{x}',
    'é${x}',
    '${local.a}-${network.front[0].id}-${each.value["k"]}',
  ];
  for (const t of templates) {
    test(`${JSON.stringify(t)} (literals and traversals) builds exactly the parser's AST`, async () => {
      const fast = fastParse(t);
      assert.ok(fast, 'fast path taken');
      assert.deepEqual(fast, await parseWithParser(t));
    });
  }

  test('non-ASCII literals build the same AST apart from ranges', async () => {
    const t = 'é ü $${x} 日本';
    assert.deepEqual(withoutRanges(fastParse(t)), withoutRanges(await parseWithParser(t)));
  });

  const declined = [
    '${a.b + 1}',
    '${true}',
    '${null}',
    '${false.x}',
    '${a[b]}',
    '${a.0}',
    '${a[007]}',
    '${a["${b}"]}',
    'x${a + 1}',
    '${ a }',
    '${~a}',
    '${a["é"]}',
    '${f(a)}',
    '%{ if a }x%{ endif }',
    'ok ${a} then ${b.c[d]}',
  ];
  for (const t of declined) {
    test(`${t} is left to the parser`, () => {
      assert.equal(fastParse(t), undefined);
    });
  }
});

describe('moving the cache between threads and to disk', () => {
  test('exported entries survive JSON and prime a cleared cache', async () => {
    const complex = '${[for s in var.items : upper(s) if s != ""]}';
    const bad = '${1 +}';
    const simple = '${var.simple_export}';
    await parseTemplates([complex, bad, simple]);
    const entries = exportEntries([complex, bad, simple, '${never_parsed(1)}']);
    assert.deepEqual(
      entries.map((e) => e.template),
      [complex, bad],
      'fast-path templates and unparsed ones are left out',
    );
    const json = JSON.parse(JSON.stringify(entries)) as CacheEntry[];

    clearAstCache();
    assert.equal(getAst(complex), undefined);
    primeCache(json);
    assert.deepEqual(getAst(complex), (entries[0] as { ast: unknown }).ast);

    const scope = dataScope({ var: { items: ['a', '', 'b'], simple_export: 1 } });
    assert.deepEqual(evaluate(complex, scope).value, ['A', 'B']);
    assert.deepEqual(codes(evaluate(bad, scope)), ['E_SYNTAX']);
    // the fast path fills the cache on demand
    assert.equal(evaluate(simple, scope).value, 1);
  });
});
