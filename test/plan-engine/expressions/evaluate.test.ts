import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { collectTemplates, parseTemplates } from '../../../plan-engine/expressions/ast-cache.js';
import { evaluate } from '../../../plan-engine/expressions/evaluate.js';
import { UNKNOWN, type Value } from '../../../plan-engine/values.js';
import { codes, dataScope, evalRaw } from './harness.js';

const U = UNKNOWN;

const scope = dataScope(
  {
    var: {
      n: 5,
      s: '5',
      t: 'true',
      str: 'abc',
      l: [1, 2, 3],
      m: { a: 1, b: 2 },
      objs: [
        { id: 'a', tags: { k: 'x' } },
        { id: 'b', tags: { k: 'y' } },
      ],
      obj: { name: 'web', port: 80 },
      nul: null,
      u: U,
      lu: [1, U],
      mu: { a: U },
      pw: 'secret',
      strings: ['b', 'a'],
    },
    local: { prefix: 'shop' },
    network: { front: { id: 'net-1', subnet: '10.0.0.0/24' } },
  },
  { sensitive: ['var.pw'] },
);

async function evalAll(raws: readonly unknown[]): Promise<void> {
  await parseTemplates(raws.flatMap((r) => collectTemplates(r)));
}

/** Table runner: every expression evaluates without diagnostics to the expected value. */
function valueTable(name: string, rows: readonly (readonly [unknown, Value])[]): void {
  describe(name, () => {
    before(() => evalAll(rows.map((r) => r[0])));
    for (const [raw, expected] of rows) {
      test(JSON.stringify(raw), () => {
        const r = evaluate(raw, scope);
        assert.deepEqual(r.diagnostics, []);
        assert.deepEqual(r.value, expected);
      });
    }
  });
}

/** Table runner: every expression fails with the given diagnostic code and yields unknown. */
function errorTable(name: string, rows: readonly (readonly [unknown, string])[]): void {
  describe(name, () => {
    before(() => evalAll(rows.map((r) => r[0])));
    for (const [raw, code] of rows) {
      test(`${JSON.stringify(raw)} -> ${code}`, () => {
        const r = evaluate(raw, scope);
        assert.deepEqual(codes(r), [code]);
        assert.equal(r.diagnostics[0]!.severity, 'error');
        assert.ok(r.diagnostics[0]!.summary.length > 0);
        assert.ok((r.diagnostics[0]!.detail ?? '').length > 0);
        assert.equal(r.value, U);
      });
    }
  });
}

valueTable('literals and raw data', [
  [5, 5],
  [true, true],
  [null, null],
  ['plain', 'plain'],
  ['100%', '100%'],
  [
    ['a', '${var.n}', [1, '${var.s}']],
    ['a', 5, [1, '5']],
  ],
  [
    { a: '${var.n}', b: { c: 'x-${var.s}' } },
    { a: 5, b: { c: 'x-5' } },
  ],
  [
    { '${local.prefix}-key': 1, plain: 2 },
    { 'shop-key': 1, plain: 2 },
  ],
  ['${null}', null],
  ['${true}', true],
  ['${1.5e3}', 1500],
  ['${"a\\nb\\t\\u00e9\\"q\\\\"}', 'a\nb\té"q\\'],
]);

valueTable('arithmetic', [
  ['${1 + 2}', 3],
  ['${5 - 7}', -2],
  ['${3 * 4}', 12],
  ['${7 / 2}', 3.5],
  ['${7 % 3}', 1],
  ['${-7 % 3}', -1],
  ['${2 + 3 * 4}', 14],
  ['${(2 + 3) * 4}', 20],
  ['${1 - -1}', 2],
  ['${-var.n}', -5],
  ['${var.s + 1}', 6],
  ['${"1.5" * 2}', 3],
  ['${"5" + "5"}', 10],
  ['${0 * -1}', 0],
]);

valueTable('comparison and equality', [
  ['${1 < 2}', true],
  ['${2 <= 2}', true],
  ['${3 > 4}', false],
  ['${3 >= 3}', true],
  ['${"10" > 9}', true],
  ['${1 == 1}', true],
  ['${1 == "1"}', false],
  ['${var.n == var.s}', false],
  ['${"a" != "b"}', true],
  ['${[1, 2] == [1, 2]}', true],
  ['${[1, 2] == [2, 1]}', false],
  ['${{a = 1} == {a = 1}}', true],
  ['${null == null}', true],
  ['${var.nul == null}', true],
  ['${var.obj != null}', true],
]);

valueTable('logical operators', [
  ['${true && false}', false],
  ['${true && true}', true],
  ['${true || false}', true],
  ['${false || false}', false],
  ['${!true}', false],
  ['${!false}', true],
  ['${var.t && true}', true],
  // the right side is not evaluated once the left side decides
  ['${false && var.nope}', false],
  ['${true || var.nope}', true],
  ['${var.nul != null && var.nul.x == 1}', false],
]);

valueTable('conditionals', [
  ['${var.n > 3 ? "big" : "small"}', 'big'],
  ['${var.n > 9 ? "big" : "small"}', 'small'],
  ['${"true" ? 1 : 2}', 1],
  ['${var.n > 3 ? var.n > 4 ? "a" : "b" : "c"}', 'a'],
  // the branch not taken is not evaluated
  ['${var.nul == null ? "none" : var.nul.x}', 'none'],
]);

valueTable('templates', [
  ['n=${var.n}', 'n=5'],
  ['${var.n}', 5],
  ['${var.l}', [1, 2, 3]],
  ['b=${true}, f=${1.5}, s=${var.str}', 'b=true, f=1.5, s=abc'],
  ['big=${12345678901234567890}', 'big=12345678901234567000'],
  ['$${x}', '${x}'],
  ['%%{x}', '%{x}'],
  ['$${x} and ${var.n}', '${x} and 5'],
  ['say "${var.str}"', 'say "abc"'],
  ['line1\nline2 ${var.n}\ttab \\ backslash', 'line1\nline2 5\ttab \\ backslash'],
  ['a\\${var.n}', 'a\\5'],
  ['${"nested ${var.str}"}', 'nested abc'],
  ['${"}"} ${"{"}', '} {'],
  ['${upper("x${"y"}")}', 'XY'],
]);

valueTable('template directives', [
  ['%{ if var.n > 3 }big%{ else }small%{ endif }', 'big'],
  ['%{ if var.n > 9 }big%{ else }small%{ endif }', 'small'],
  ['[%{ if false }x%{ endif }]', '[]'],
  ['%{ for v in var.l }${v},%{ endfor }', '1,2,3,'],
  ['%{ for k, v in var.m }${k}=${v};%{ endfor }', 'a=1;b=2;'],
  ['%{ for i, v in var.strings }${i}:${v} %{ endfor }', '0:b 1:a '],
  ['a %{~ if true } b %{ endif ~} c', 'a b c'],
  ['x\n  %{~ for v in var.l ~}\n  ${v}\n  %{~ endfor ~}\n y', 'x123y'],
  ['%{ for o in var.objs }${o.id}%{ if o.id == "a" },%{ endif }%{ endfor }', 'a,b'],
]);

valueTable('for expressions', [
  ['${[for v in var.l : v * 2]}', [2, 4, 6]],
  ['${[for v in var.l : v if v > 1]}', [2, 3]],
  ['${[for i, v in var.l : i]}', [0, 1, 2]],
  ['${[for k, v in var.m : "${k}=${v}"]}', ['a=1', 'b=2']],
  ['${{for k, v in var.m : v => k}}', { '1': 'a', '2': 'b' }],
  ['${{for o in var.objs : o.id => o.tags.k}}', { a: 'x', b: 'y' }],
  ['${{for v in ["a", "b", "a"] : v => v...}}', { a: ['a', 'a'], b: ['b'] }],
  ['${{for v in [] : v => v}}', {}],
  ['${[for v in {z = 1, a = 2} : v]}', [2, 1]],
  ['${[for a in [[1, 2], [3]] : [for b in a : b * 10]]}', [[10, 20], [30]]],
  ['${[for a in [1, 2] : [for b in [10] : a + b + var.n]]}', [[16], [17]]],
  ['${[for v in var.l : v][1]}', 2],
]);

valueTable('splat, index and attribute access', [
  ['${var.objs[*].id}', ['a', 'b']],
  ['${var.objs.*.id}', ['a', 'b']],
  ['${var.objs[*].tags.k}', ['x', 'y']],
  ['${var.l[*]}', [1, 2, 3]],
  ['${var.nul[*]}', []],
  ['${var.obj[*].name}', ['web']],
  ['${var.l[0]}', 1],
  ['${var.l["1"]}', 2],
  ['${var.l.2}', 3],
  ['${var.m["a"]}', 1],
  ['${var.m.b}', 2],
  ['${var.objs[1].tags["k"]}', 'y'],
  ['${var.objs[var.n - 4].id}', 'b'],
  ['${{a = 1}.a}', 1],
  ['${[10, 20][1]}', 20],
  ['${network.front.subnet}', '10.0.0.0/24'],
  ['${local.prefix}-web', 'shop-web'],
]);

valueTable('object construction', [
  ['${{a = 1, "b c" = 2, d: 3}}', { a: 1, 'b c': 2, d: 3 }],
  ['${{(var.str) = 1, (var.n) = 2, "${local.prefix}-x" = 3}}', { abc: 1, '5': 2, 'shop-x': 3 }],
  ['${{a = 1, a = 2}}', { a: 2 }],
  ['${{}}', {}],
  ['${{\n  multi = "line"\n  other = var.n\n}}', { multi: 'line', other: 5 }],
  ['${{"__proto__" = 1}}', JSON.parse('{"__proto__": 1}') as Value],
]);

valueTable('function calls and argument expansion', [
  ['${max(var.l...)}', 3],
  ['${max(0, var.l...)}', 3],
  ['${length(var.l)}', 3],
  ['${try(var.m.zz, "d")}', 'd'],
  ['${try(var.m.a, "d")}', 1],
  ['${try(var.l[7], var.l[8], "last")}', 'last'],
  ['${can(var.l[5])}', false],
  ['${can(var.l[0])}', true],
  ['${try(tonumber("x"), 0)}', 0],
]);

errorTable('type and operand errors', [
  ['${"abc" + 1}', 'E_TYPE_MISMATCH'],
  ['${true + 1}', 'E_TYPE_MISMATCH'],
  ['${var.nul + 1}', 'E_TYPE_MISMATCH'],
  ['${[1] * 2}', 'E_TYPE_MISMATCH'],
  ['${"a" < "b"}', 'E_TYPE_MISMATCH'],
  ['${1 / 0}', 'E_DIVISION_BY_ZERO'],
  ['${1 % 0}', 'E_DIVISION_BY_ZERO'],
  ['${!5}', 'E_TYPE_MISMATCH'],
  ['${-"x"}', 'E_TYPE_MISMATCH'],
  ['${1 && true}', 'E_TYPE_MISMATCH'],
  ['${var.n ? 1 : 2}', 'E_TYPE_MISMATCH'],
  ['${var.nul ? 1 : 2}', 'E_TYPE_MISMATCH'],
  ['x${var.l}', 'E_TYPE_MISMATCH'],
  ['x${var.nul}', 'E_TYPE_MISMATCH'],
  ['%{ for v in var.objs }${v}%{ endfor }', 'E_TYPE_MISMATCH'],
  ['${{(var.l) = 1}}', 'E_TYPE_MISMATCH'],
  ['${{(var.nul) = 1}}', 'E_TYPE_MISMATCH'],
  ['${[for x in 5 : x]}', 'E_TYPE_MISMATCH'],
  ['${[for x in var.nul : x]}', 'E_TYPE_MISMATCH'],
  ['${[for x in var.l : x if x]}', 'E_TYPE_MISMATCH'],
  ['${{for x in ["a", "a"] : x => 1}}', 'E_DUPLICATE_KEY'],
  ['${max(var.n...)}', 'E_FUNCTION_CALL'],
]);

errorTable('index and attribute errors', [
  ['${var.l["x"]}', 'E_INVALID_INDEX'],
  ['${var.l[10]}', 'E_INVALID_INDEX'],
  ['${var.l[-1]}', 'E_INVALID_INDEX'],
  ['${var.l[1.5]}', 'E_INVALID_INDEX'],
  ['${var.m["zz"]}', 'E_INVALID_INDEX'],
  ['${var.m[[1]]}', 'E_INVALID_INDEX'],
  ['${var.l[var.nul]}', 'E_INVALID_INDEX'],
  ['${var.nul[0]}', 'E_INVALID_INDEX'],
  ['${var.n[0]}', 'E_INVALID_INDEX'],
  ['${var.m.zz}', 'E_UNSUPPORTED_ATTRIBUTE'],
  ['${var.l.id}', 'E_UNSUPPORTED_ATTRIBUTE'],
  ['${var.n.x}', 'E_UNSUPPORTED_ATTRIBUTE'],
  ['${var.nul.x}', 'E_UNSUPPORTED_ATTRIBUTE'],
  ['${var.objs[*].nope}', 'E_UNSUPPORTED_ATTRIBUTE'],
]);

errorTable('names, functions and syntax', [
  ['${var.nope}', 'E_UNDECLARED_REFERENCE'],
  ['${local.nope}', 'E_UNDECLARED_REFERENCE'],
  ['${nope}', 'E_UNDECLARED_REFERENCE'],
  ['${container.web.id}', 'E_UNDECLARED_REFERENCE'],
  ['${count.index}', 'E_UNDECLARED_REFERENCE'],
  ['${each.key}', 'E_UNDECLARED_REFERENCE'],
  ['${nosuch(1)}', 'E_UNKNOWN_FUNCTION'],
  ['${1 +}', 'E_SYNTAX'],
  ['${var.x', 'E_SYNTAX'],
  ['${try(var.m.zz, var.m.yy)}', 'E_FUNCTION_CALL'],
  // try does not hide names that do not exist, as in Terraform
  ['${try(var.nope, 1)}', 'E_UNDECLARED_REFERENCE'],
  ['${can(nosuch(1))}', 'E_UNKNOWN_FUNCTION'],
]);

describe('unknown values', () => {
  const rows: [unknown, Value][] = [
    ['${var.u}', U],
    ['${var.u + 1}', U],
    ['${var.u == 1}', U],
    ['${var.lu == [1, 2]}', U],
    ['${var.u < 1}', U],
    ['${-var.u}', U],
    ['${!var.u}', U],
    ['${var.u ? 1 : 2}', U],
    ['${true ? 1 : var.u}', 1],
    ['${false ? var.u : 2}', 2],
    ['${false && var.u}', false],
    ['${var.u && false}', false],
    ['${true || var.u}', true],
    ['${var.u || true}', true],
    ['${var.u && true}', U],
    ['${length(var.lu)}', 2],
    ['${length(var.u)}', U],
    ['${[for x in var.u : x]}', U],
    ['${[for x in var.lu : x]}', [1, U]],
    ['${[for x in var.l : x if var.u]}', U],
    ['${{for x in var.l : var.u => x}}', U],
    ['${var.lu[0]}', 1],
    ['${var.lu[1]}', U],
    ['${var.u.x}', U],
    ['${var.u[0]}', U],
    ['${var.l[var.u]}', U],
    ['${var.u[*].id}', U],
    ['x${var.u}', U],
    ['%{ for v in var.lu }${v}%{ endfor }', U],
    ['${upper(var.u)}', U],
    ['${jsonencode(var.lu)}', U],
    ['${concat(var.lu, [2])}', [1, U, 2]],
    ['${keys(var.mu)}', ['a']],
    ['${var.mu}', { a: U }],
    ['${{(var.u) = 1}}', U],
    ['${try(var.u, 1)}', U],
    ['${can(var.u)}', U],
    ['${coalesce(var.u, "a")}', U],
    ['${coalesce("a", var.u)}', 'a'],
    ['${max(var.u...)}', U],
    [
      { a: '${var.u}', b: 1 },
      { a: U, b: 1 },
    ],
    [{ '${var.u}': 1 }, U],
  ];
  before(() => evalAll(rows.map((r) => r[0])));
  for (const [raw, expected] of rows) {
    test(JSON.stringify(raw), () => {
      const r = evaluate(raw, scope);
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(r.value, expected);
    });
  }

  test('type errors of known operands are reported even next to an unknown', async () => {
    assert.deepEqual(codes(await evalRaw('${var.u + "abc"}', scope)), ['E_TYPE_MISMATCH']);
  });

  test('both branches of a conditional with an unknown condition are checked', async () => {
    assert.deepEqual(codes(await evalRaw('${var.u ? var.nope : 1}', scope)), ['E_UNDECLARED_REFERENCE']);
  });
});

describe('sensitive values', () => {
  const rows: [unknown, boolean][] = [
    ['${var.pw}', true],
    ['x-${var.pw}', true],
    ['${length(var.pw)}', true],
    ['${true ? var.pw : "x"}', true],
    ['${false ? var.pw : "x"}', false],
    [{ a: ['${var.pw}'] }, true],
    ['${[for c in [var.pw] : c]}', true],
    ['${var.n}', false],
    ['plain', false],
  ];
  before(() => evalAll(rows.map((r) => r[0])));
  for (const [raw, sensitive] of rows) {
    test(`${JSON.stringify(raw)} sensitive=${sensitive}`, () => {
      const r = evaluate(raw, scope);
      assert.deepEqual(r.diagnostics, []);
      assert.equal(r.sensitive, sensitive);
    });
  }
});

describe('diagnostics', () => {
  test('an undeclared variable suggests the closest declared one', async () => {
    const r = await evalRaw('${var.strng}', scope);
    assert.equal(r.diagnostics[0]!.summary, 'Reference to undeclared input variable');
    assert.match(r.diagnostics[0]!.detail!, /Did you mean "var\.str"\?/);
  });

  test('an undeclared resource suggests the closest one', async () => {
    const r = await evalRaw('${netwrk.front.id}', scope);
    assert.deepEqual(codes(r), ['E_UNDECLARED_REFERENCE']);
    assert.match(r.diagnostics[0]!.detail!, /Did you mean "network\.front"\?/);
  });

  test('no suggestion when nothing is close', async () => {
    const r = await evalRaw('${var.completely_different}', scope);
    assert.doesNotMatch(r.diagnostics[0]!.detail!, /Did you mean/);
  });

  test('an unknown function suggests the closest function', async () => {
    const r = await evalRaw('${lenght(var.l)}', scope);
    assert.deepEqual(codes(r), ['E_UNKNOWN_FUNCTION']);
    assert.match(r.diagnostics[0]!.detail!, /Did you mean "length"\?/);
  });

  test('a missing attribute suggests the closest attribute', async () => {
    const r = await evalRaw('${var.obj.nmae}', scope);
    assert.match(r.diagnostics[0]!.detail!, /Did you mean "name"\?/);
  });

  test('the context address and range are attached to every diagnostic', async () => {
    const range = { file: 'main.hcl', start: { line: 3, column: 5 }, end: { line: 3, column: 20 } };
    const r = await evalRaw(['${var.nope}', '${1 / 0}'], scope, { address: 'container.web', range });
    assert.equal(r.diagnostics.length, 2);
    for (const d of r.diagnostics) {
      assert.equal(d.address, 'container.web');
      assert.deepEqual(d.range, range);
    }
  });

  test('independent errors are all reported', async () => {
    const r = await evalRaw({ a: '${var.nope}', b: '${1 / 0}', c: '${[var.l[9], nosuch()]}' }, scope);
    assert.deepEqual(codes(r).sort(), ['E_DIVISION_BY_ZERO', 'E_INVALID_INDEX', 'E_UNDECLARED_REFERENCE', 'E_UNKNOWN_FUNCTION']);
  });

  test('the failing subexpression is quoted in the detail', async () => {
    const r = await evalRaw('${1 + var.l[9]}', scope);
    assert.match(r.diagnostics[0]!.detail!, /In expression: var\.l\[9\]/);
  });

  test('a syntax error names the column', async () => {
    const r = await evalRaw('${1 +}', scope);
    assert.equal(r.diagnostics[0]!.summary, 'Invalid expression');
    assert.match(r.diagnostics[0]!.detail!, /column 6/);
  });
});

describe('scope', () => {
  test('the evaluator indexes past the prefix the scope consumed', async () => {
    const seen: (string | number)[][] = [];
    const s = {
      resolve(parts: readonly (string | number)[]) {
        seen.push([...parts]);
        return parts[0] === 'container' ? { value: { web: [{ ip: '10.0.0.2' }] } as Value, consumed: 1 } : undefined;
      },
    };
    const r = await evalRaw('${container.web[0].ip}', s);
    assert.equal(r.value, '10.0.0.2');
    assert.deepEqual(seen, [['container', 'web', 0, 'ip']]);
  });

  test('for-bound variables shadow scope roots', async () => {
    const r = await evalRaw('${[for var in [1, 2] : var]}', scope);
    assert.deepEqual(r.value, [1, 2]);
  });

  test('an expression whose template was never parsed is a programming error', () => {
    assert.throws(() => evaluate('${never_parsed + 1}', scope), /not parsed/);
  });
});
