import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convertToType, parseTypeConstraint, typeString, type TypeConstraint } from '../../../plan-engine/expressions/types.js';
import { UNKNOWN, type Value } from '../../../plan-engine/values.js';

function parsed(raw: string): TypeConstraint {
  const r = parseTypeConstraint(raw);
  assert.deepEqual(r.diagnostics, []);
  return r.type!;
}

describe('parseTypeConstraint', () => {
  const rows: [string, string][] = [
    ['${string}', 'string'],
    ['${number}', 'number'],
    ['${bool}', 'bool'],
    ['${any}', 'any'],
    ['${list(string)}', 'list(string)'],
    ['${set(number)}', 'set(number)'],
    ['${map(any)}', 'map(any)'],
    ['${list(map(list(bool)))}', 'list(map(list(bool)))'],
    ['${tuple([string, number])}', 'tuple([string, number])'],
    ['${tuple([])}', 'tuple([])'],
    ['${object({a = string, b = optional(number, 1)})}', 'object({a = string, b = optional(number, 1)})'],
    [
      '${object({\n    name = string # the name\n    port = optional(number, 80)\n    tags = optional(map(string), {})\n    nested = optional(object({ x = bool }), { x = true })\n    list = optional(list(string), ["a", "b"])\n    maybe = optional(string)\n  })}',
      'object({name = string, port = optional(number, 80), tags = optional(map(string), {}), nested = optional(object({x = bool}), {"x":true}), list = optional(list(string), ["a","b"]), maybe = optional(string)})',
    ],
    ['${object({"quoted" = string, c: number,})}', 'object({quoted = string, c = number})'],
    ['list(string)', 'list(string)'],
    // Terraform 0.11's quoted forms arrive as plain strings
    ['string', 'string'],
    ['list', 'list(any)'],
    ['map', 'map(any)'],
  ];
  for (const [raw, expected] of rows) {
    test(`${JSON.stringify(raw)} -> ${expected}`, () => assert.equal(typeString(parsed(raw)), expected));
  }

  test('optional attributes keep their defaults', () => {
    const t = parsed('${object({ port = optional(number, -80), name = optional(string, "x\\ty") })}');
    assert.equal(t.kind, 'object');
    if (t.kind !== 'object') return;
    assert.deepEqual(
      t.attributes.map((a) => [a.name, a.optional, a.default]),
      [
        ['port', true, -80],
        ['name', true, 'x\ty'],
      ],
    );
  });

  const errors: [string, RegExp][] = [
    ['${strin}', /"strin" is not a valid type \(did you mean "string"\?\)/],
    ['${list}', /needs an element type/],
    ['${list()}', /Expected a type/],
    ['${list(string}', /Expected "\)"/],
    ['${string(1)}', /takes no arguments/],
    ['${optional(string)}', /only for attributes of an object/],
    ['${object({a = foo})}', /"foo" is not a valid type/],
    ['${object({a = string, a = number})}', /Duplicate attribute "a"/],
    ['${object({a = optional(string, var.x)})}', /must be constants; "var" is not one/],
    ['${object({a = optional(string, "${x}")})}', /without interpolation/],
    ['${tuple(string)}', /Expected "\["/],
    ['${string number}', /Unexpected "number" after the type/],
    ['${list(string) ?}', /Unexpected character "\?"/],
  ];
  for (const [raw, message] of errors) {
    test(`${raw} is rejected`, () => {
      const r = parseTypeConstraint(raw);
      assert.equal(r.type, undefined);
      assert.equal(r.diagnostics.length, 1);
      assert.equal(r.diagnostics[0]!.code, 'E_INVALID_TYPE');
      assert.match(r.diagnostics[0]!.detail!, message);
    });
  }
});

describe('convertToType', () => {
  const ok: [Value, string, Value][] = [
    ['3', '${number}', 3],
    [3.5, '${number}', 3.5],
    [3, '${string}', '3'],
    [true, '${string}', 'true'],
    ['true', '${bool}', true],
    [false, '${bool}', false],
    [null, '${number}', null],
    [UNKNOWN, '${list(string)}', UNKNOWN],
    [[1, '2'], '${list(number)}', [1, 2]],
    [[UNKNOWN, 1], '${list(string)}', [UNKNOWN, '1']],
    [['b', 'a', 'b'], '${set(string)}', ['a', 'b']],
    [[3, 1], '${set(number)}', [1, 3]],
    [{ a: 1, b: true }, '${map(string)}', { a: '1', b: 'true' }],
    [['a', 1], '${list(any)}', ['a', '1']],
    [{ x: [1], y: 'z' }, '${any}', { x: [1], y: 'z' }],
    [['a', '2'], '${tuple([string, number])}', ['a', 2]],
    [{ name: 'web', port: '8080' }, '${object({name = string, port = number})}', { name: 'web', port: 8080 }],
    [{ name: 'web' }, '${object({name = string, port = optional(number, 80)})}', { name: 'web', port: 80 }],
    [{ name: 'web' }, '${object({name = string, port = optional(number)})}', { name: 'web', port: null }],
    [{ name: 'web', port: null }, '${object({name = string, port = optional(number, 80)})}', { name: 'web', port: 80 }],
    [{ name: null }, '${object({name = string})}', { name: null }],
    [{}, '${object({nested = optional(object({x = optional(bool, true), y = optional(string)}), {})})}', { nested: { x: true, y: null } }],
    [
      [{ name: 'a' }, { name: 'b', size: '2' }],
      '${list(object({name = string, size = optional(number, 1)}))}',
      [
        { name: 'a', size: 1 },
        { name: 'b', size: 2 },
      ],
    ],
    [{ k: { port: '1' } }, '${map(object({port = number}))}', { k: { port: 1 } }],
  ];
  for (const [value, type, expected] of ok) {
    test(`${JSON.stringify(value)} as ${type}`, () => {
      const r = convertToType(value, parsed(type));
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(r.value, expected);
    });
  }

  const bad: [Value, string, RegExp][] = [
    ['abc', '${number}', /^Number required, got string "abc"\.$/],
    [true, '${number}', /Number required, got bool/],
    ['yes', '${bool}', /Bool required/],
    [[1], '${string}', /String required, got list/],
    [{ a: 1 }, '${list(string)}', /List\(string\) required, got object/],
    [[1, 'a'], '${list(number)}', /^At \[1\]: number required, got string "a"\.$/],
    [{ a: [1] }, '${map(string)}', /^At a: string required, got list/],
    [['a'], '${tuple([string, number])}', /tuple of 2 element\(s\) is required, got 1/i],
    [[1, true], '${list(any)}', /same type/],
    [{ port: 1 }, '${object({name = string, port = number})}', /attribute "name" is required/i],
    [{}, '${object({name = string, port = number})}', /attributes "name", "port" are required/i],
    [{ servers: [{ name: 'a', port: 'x' }] }, '${object({servers = list(object({name = string, port = number}))})}', /^At servers\[0\]\.port: number required/],
  ];
  for (const [value, type, message] of bad) {
    test(`${JSON.stringify(value)} is not a ${type}`, () => {
      const r = convertToType(value, parsed(type));
      assert.equal(r.diagnostics.length, 1);
      assert.equal(r.diagnostics[0]!.code, 'E_TYPE_MISMATCH');
      assert.equal(r.diagnostics[0]!.severity, 'error');
      assert.match(r.diagnostics[0]!.detail!, message);
    });
  }

  test('undeclared attributes are dropped with a warning naming them', () => {
    const r = convertToType({ name: 'web', nmae: 'x', extra: 1 }, parsed('${object({name = string})}'));
    assert.deepEqual(r.value, { name: 'web' });
    assert.equal(r.diagnostics.length, 1);
    assert.equal(r.diagnostics[0]!.severity, 'warning');
    assert.equal(r.diagnostics[0]!.code, 'E_UNEXPECTED_ATTRIBUTE');
    assert.match(r.diagnostics[0]!.detail!, /attributes "nmae", "extra" are not declared/);
  });

  test('the path argument prefixes every location', () => {
    const r = convertToType([1, 'x'], parsed('${list(number)}'), ['servers']);
    assert.match(r.diagnostics[0]!.detail!, /^At servers\[1\]:/);
  });
});
