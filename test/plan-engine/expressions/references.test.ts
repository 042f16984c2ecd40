import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { collectTemplates, parseTemplates } from '../../../plan-engine/expressions/ast-cache.js';
import { referencesOf } from '../../../plan-engine/expressions/references.js';

/** [raw expression, expected reference texts] */
const ROWS: [unknown, string[]][] = [
  ['${var.x}', ['var.x']],
  ['${local.prefix}-${var.env}', ['local.prefix', 'var.env']],
  ['${network.front[0].id}', ['network.front[0].id']],
  ['${container.web["a"].ip_address}', ['container.web["a"].ip_address']],
  ['${host.web}', ['host.web']],
  ['${count.index}', ['count.index']],
  ['${each.key}=${each.value.port}', ['each.key', 'each.value.port']],
  ['${var.x + var.x}', ['var.x']],
  ['${var.a ? local.b : local.c}', ['var.a', 'local.b', 'local.c']],
  ['${lookup(var.m, local.k, "d")}', ['var.m', 'local.k']],
  ['${var.l[local.i]}', ['var.l', 'local.i']],
  ['${container.web[count.index].id}', ['container.web', 'count.index']],
  ['${var.objs[*].id}', ['var.objs']],
  ['${var.objs.*.id}', ['var.objs']],
  ['${{ (var.k) = local.v, name = 1 }}', ['var.k', 'local.v']],
  ['${try(var.a.b, local.c)}', ['var.a.b', 'local.c']],
  // variables bound by for expressions are not references
  ['${[for s in var.list : upper(s) if s != local.skip]}', ['var.list', 'local.skip']],
  ['${{for k, v in var.m : k => v.id}}', ['var.m']],
  ['${[for a in var.x : [for b in a : b + local.z]]}', ['var.x', 'local.z']],
  ['${[for x in var.x : x]}', ['var.x']],
  ['${[for v in var.l : v]}${v.outside}', ['var.l', 'v.outside']],
  ['%{ for h in var.hosts }${h.name}.${local.domain} %{ endfor }', ['var.hosts', 'local.domain']],
  ['%{ if var.debug }${local.extra}%{ endif }', ['var.debug', 'local.extra']],
  [{ a: '${var.x}', b: ['${local.y}', 1], '${var.k}': 2, c: 'plain' }, ['var.x', 'local.y', 'var.k']],
  ['plain', []],
  [42, []],
  ['$${not.a.reference}', []],
  ['${1 +}', []],
];

before(async () => {
  await parseTemplates(ROWS.flatMap(([raw]) => collectTemplates(raw)));
});

describe('referencesOf', () => {
  for (const [raw, texts] of ROWS) {
    test(`${JSON.stringify(raw)} -> ${texts.join(', ') || '(none)'}`, () => {
      assert.deepEqual(
        referencesOf(raw).map((r) => r.text),
        texts,
      );
    });
  }

  test('parts hold the whole traversal with numeric and string keys', () => {
    assert.deepEqual(referencesOf('${network.front[0].id}'), [{ root: 'network', parts: ['network', 'front', 0, 'id'], text: 'network.front[0].id' }]);
    assert.deepEqual(referencesOf('${container.web["a"].ip_address}')[0]!.parts, ['container', 'web', 'a', 'ip_address']);
    assert.equal(referencesOf('${each.value.port}')[0]!.root, 'each');
  });

  test('results are stable across calls (memoized per template)', () => {
    assert.deepEqual(referencesOf('${var.x}'), referencesOf('${var.x}'));
  });

  test('a template that was never parsed is a programming error', () => {
    assert.throws(() => referencesOf('${[for s in var.never_parsed : s]}'), /not parsed/);
  });
});
