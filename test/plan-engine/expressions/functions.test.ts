import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { collectTemplates, parseTemplates } from '../../../plan-engine/expressions/ast-cache.js';
import { evaluate } from '../../../plan-engine/expressions/evaluate.js';
import { functionNames } from '../../../plan-engine/expressions/functions.js';
import { UNKNOWN, type Value } from '../../../plan-engine/values.js';
import { codes, dataScope } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'tsinfra-expr-fn-'));
writeFileSync(join(dir, 'hello.txt'), 'héllo\n');
writeFileSync(join(dir, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00]));
after(() => rmSync(dir, { recursive: true, force: true }));

const scope = dataScope({ var: { l: [1, 2, 3], lu: [1, UNKNOWN], u: UNKNOWN, m: { a: 1, b: 2 } } }, { baseDir: dir });

/** [expression, expected value] */
const VALUES: Record<string, [string, Value][]> = {
  length: [
    ['${length("héllo")}', 5],
    ['${length("e\\u0301")}', 1],
    ['${length("")}', 0],
    ['${length([1, 2])}', 2],
    ['${length({a = 1, b = 2})}', 2],
    ['${length(var.lu)}', 2],
  ],
  lookup: [
    ['${lookup({a = 1}, "a")}', 1],
    ['${lookup({a = 1}, "b", 2)}', 2],
    ['${lookup({a = 1}, "b", null)}', null],
    ['${lookup({a = var.u}, "a")}', UNKNOWN],
  ],
  merge: [
    ['${merge({a = 1, b = 1}, {b = 2}, null, {c = 3})}', { a: 1, b: 2, c: 3 }],
    ['${merge()}', {}],
  ],
  concat: [
    ['${concat([1], [2, 3], [])}', [1, 2, 3]],
    ['${concat(["a"], [["b"]])}', ['a', ['b']]],
  ],
  toset: [
    ['${toset(["b", "a", "b"])}', ['a', 'b']],
    ['${toset([3, 1, 2, 1])}', [1, 2, 3]],
    ['${toset([1, "a"])}', ['1', 'a']],
    ['${toset([])}', []],
  ],
  tolist: [
    ['${tolist(["a", 1, true])}', ['a', '1', 'true']],
    ['${tolist([1, 2])}', [1, 2]],
  ],
  tomap: [['${tomap({a = 1, b = "x"})}', { a: '1', b: 'x' }]],
  keys: [['${keys({b = 1, a = 2})}', ['a', 'b']]],
  values: [['${values({b = 1, a = 2})}', [2, 1]]],
  format: [
    ['${format("%s-%d", "a", 5)}', 'a-5'],
    ['${format("%5.2f|", 3.14159)}', ' 3.14|'],
    ['${format("%-5s|", "ab")}', 'ab   |'],
    ['${format("%05d", 42)}', '00042'],
    ['${format("%+d %+d", 5, -5)}', '+5 -5'],
    ['${format("%x %X %#x %o %b", 255, 255, 255, 15, 5)}', 'ff FF 0xff 17 101'],
    ['${format("%e", 1234.5)}', '1.234500e+03'],
    ['${format("%g %g", 1000000, 0.5)}', '1e+06 0.5'],
    ['${format("%f", 1)}', '1.000000'],
    ['${format("%t", true)}', 'true'],
    ['${format("%q", "hi")}', '"hi"'],
    ['${format("%v %v %v", "s", 1.5, [1, "a"])}', 's 1.5 [1,"a"]'],
    ['${format("%#v", "x")}', '"x"'],
    ['${format("%v", null)}', 'null'],
    ['${format("100%%")}', '100%'],
    ['${format("%[2]s %[1]s", "a", "b")}', 'b a'],
    ['${format("%.3s", "abcdef")}', 'abc'],
    ['${format("%s", 5)}', '5'],
    ['${format("%d", "7")}', '7'],
    ['${format("%s", var.u)}', UNKNOWN],
  ],
  join: [
    ['${join(",", ["a", "b"])}', 'a,b'],
    ['${join("-", ["a"], ["b", 1])}', 'a-b-1'],
    ['${join(",", [])}', ''],
  ],
  split: [
    ['${split(",", "a,b,,c")}', ['a', 'b', '', 'c']],
    ['${split(",", "")}', ['']],
  ],
  replace: [
    ['${replace("a-b-c", "-", "+")}', 'a+b+c'],
    ['${replace("hello", "/l+/", "L")}', 'heLo'],
    ['${replace("2024-01-02", "/(\\\\d+)-(\\\\d+)-(\\\\d+)/", "$3.$2.$1")}', '02.01.2024'],
    ['${replace("key=val", "/(?P<k>\\\\w+)=(?P<v>\\\\w+)/", "$${v}:$${k}")}', 'val:key'],
    ['${replace("ABC", "/(?i)b/", "x")}', 'AxC'],
    ['${replace("a.b", ".", "/")}', 'a/b'],
    ['${replace("cost $5", "/\\\\$(\\\\d)/", "$$$1")}', 'cost $5'],
  ],
  lower: [['${lower("ÀB")}', 'àb']],
  upper: [['${upper("àb")}', 'ÀB']],
  min: [
    ['${min(3, 1, 2)}', 1],
    ['${min("5", 7)}', 5],
  ],
  max: [
    ['${max(3, 1, 2)}', 3],
    ['${max(var.l...)}', 3],
  ],
  range: [
    ['${range(3)}', [0, 1, 2]],
    ['${range(0)}', []],
    ['${range(-2)}', [0, -1]],
    ['${range(1, 4)}', [1, 2, 3]],
    ['${range(3, 0)}', [3, 2, 1]],
    ['${range(0, 10, 3)}', [0, 3, 6, 9]],
    ['${range(0, -3, -1)}', [0, -1, -2]],
    ['${range(0, 1, 0.5)}', [0, 0.5]],
  ],
  cidrsubnet: [
    ['${cidrsubnet("10.0.0.0/16", 8, 2)}', '10.0.2.0/24'],
    ['${cidrsubnet("10.1.2.3/16", 4, 15)}', '10.1.240.0/20'],
    ['${cidrsubnet("172.16.0.0/12", 4, 2)}', '172.18.0.0/16'],
    ['${cidrsubnet("10.0.0.0/8", 0, 0)}', '10.0.0.0/8'],
    ['${cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)}', 'fd00:fd12:3456:7800:a200::/72'],
    ['${cidrsubnet("2001:db8::/32", 16, 1)}', '2001:db8:1::/48'],
  ],
  cidrhost: [
    ['${cidrhost("10.12.112.0/20", 16)}', '10.12.112.16'],
    ['${cidrhost("10.12.112.0/20", 268)}', '10.12.113.12'],
    ['${cidrhost("10.0.0.0/24", -1)}', '10.0.0.255'],
    ['${cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)}', 'fd00:fd12:3456:7890::22'],
    ['${cidrhost("::ffff:10.0.0.0/120", 5)}', '::ffff:a00:5'],
  ],
  cidrnetmask: [
    ['${cidrnetmask("172.16.0.0/12")}', '255.240.0.0'],
    ['${cidrnetmask("10.0.0.0/32")}', '255.255.255.255'],
    ['${cidrnetmask("0.0.0.0/0")}', '0.0.0.0'],
  ],
  file: [
    ['${file("hello.txt")}', 'héllo\n'],
    [`\${file("${join(dir, 'hello.txt')}")}`, 'héllo\n'],
  ],
  jsonencode: [
    ['${jsonencode({b = [1, 2.5, true, null], a = "x<y&z"})}', '{"a":"x\\u003cy\\u0026z","b":[1,2.5,true,null]}'],
    ['${jsonencode("s")}', '"s"'],
    ['${jsonencode(null)}', 'null'],
  ],
  jsondecode: [
    ['${jsondecode("{\\"a\\": [1, 2, null], \\"b\\": true}")}', { a: [1, 2, null], b: true }],
    ['${jsondecode("3")}', 3],
  ],
  coalesce: [
    ['${coalesce(null, "", "b")}', 'b'],
    ['${coalesce(1, "x")}', '1'],
    ['${coalesce(null, 2)}', 2],
  ],
  tostring: [
    ['${tostring(5)}', '5'],
    ['${tostring(true)}', 'true'],
    ['${tostring("s")}', 's'],
    ['${tostring(null)}', null],
  ],
  tonumber: [
    ['${tonumber("3.5")}', 3.5],
    ['${tonumber(4)}', 4],
    ['${tonumber(null)}', null],
  ],
  tobool: [
    ['${tobool("true")}', true],
    ['${tobool(false)}', false],
  ],
  abs: [['${abs(-3.5)}', 3.5]],
  ceil: [['${ceil(1.2)}', 2]],
  floor: [['${floor(-1.5)}', -2]],
  contains: [
    ['${contains(["a", "b"], "b")}', true],
    ['${contains([1, 2], "1")}', false],
    ['${contains(var.lu, 1)}', true],
    ['${contains(var.lu, 5)}', UNKNOWN],
  ],
  distinct: [['${distinct([1, 2, 1, 3, 2])}', [1, 2, 3]]],
  flatten: [['${flatten([[1, [2]], 3, []])}', [1, 2, 3]]],
  element: [
    ['${element(["a", "b", "c"], 1)}', 'b'],
    ['${element(["a", "b", "c"], 4)}', 'b'],
  ],
  startswith: [['${startswith("hello", "he")}', true]],
  endswith: [['${endswith("hello", "he")}', false]],
  trimspace: [['${trimspace("  a b \\n")}', 'a b']],
  sort: [
    ['${sort(["b", "a", "10", "9"])}', ['10', '9', 'a', 'b']],
    ['${sort([3, 10])}', ['10', '3']],
  ],
  try: [['${try(var.m.c, "fallback")}', 'fallback']],
  can: [['${can(var.m.a)}', true]],
};

/** [expression, regex the diagnostic detail must match] — all E_FUNCTION_CALL. */
const ERRORS: Record<string, [string, RegExp][]> = {
  length: [
    ['${length(5)}', /collection or string/],
    ['${length(null)}', /must not be null/],
  ],
  lookup: [['${lookup({a = 1}, "b")}', /failed to find key "b"/]],
  merge: [['${merge({a = 1}, [1])}', /maps or objects/]],
  concat: [['${concat([1], "x")}', /takes lists/]],
  toset: [['${toset([1, true])}', /one type/]],
  tolist: [['${tolist("x")}', /list is required/]],
  tomap: [['${tomap([1])}', /map or object is required/]],
  keys: [['${keys([1])}', /map or object is required/]],
  values: [['${values("x")}', /map or object is required/]],
  format: [
    ['${format("%d", 1.5)}', /fractional part/],
    ['${format("%d")}', /not enough arguments/],
    ['${format("x", 1)}', /too many arguments; no verbs/],
    ['${format("%s %s", "a", "b", "c")}', /only 2 used/],
    ['${format("%d", "x")}', /number required/],
    ['${format("%s", null)}', /null value cannot be formatted/],
    ['${format("%s", [1])}', /string required/],
    ['${format("%z", 1)}', /unrecognized format verb/],
  ],
  join: [
    ['${join(",", ["a", null])}', /element 1: a string is required/],
    ['${join(",")}', /at least one list/],
  ],
  split: [['${split(",", [1])}', /string is required/]],
  replace: [['${replace("abc", "/[/", "x")}', /invalid regular expression/]],
  lower: [['${lower([1])}', /string is required/]],
  upper: [['${upper({a = 1})}', /string is required/]],
  min: [
    ['${min()}', /at least one number/],
    ['${min("a")}', /number is required/],
  ],
  max: [['${max(1, [2])}', /number is required/]],
  range: [
    ['${range()}', /1 to 3 arguments/],
    ['${range(1, 3, 0)}', /step must not be zero/],
    ['${range(0, 5, -1)}', /less than start when step is negative/],
    ['${range(5, 0, 1)}', /greater than start when step is positive/],
    ['${range(2000)}', /more than 1024 values/],
  ],
  cidrsubnet: [
    ['${cidrsubnet("10.0.0.0/30", 4, 0)}', /insufficient address space/],
    ['${cidrsubnet("10.0.0.0/16", 2, 4)}', /does not accommodate a subnet numbered 4/],
    ['${cidrsubnet("not-a-cidr", 1, 1)}', /invalid CIDR/],
    ['${cidrsubnet("10.0.0.256/16", 1, 1)}', /invalid CIDR/],
    ['${cidrsubnet("10.0.0.0/33", 1, 1)}', /invalid CIDR/],
  ],
  cidrhost: [
    ['${cidrhost("10.0.0.0/24", 256)}', /does not accommodate a host numbered 256/],
    ['${cidrhost("10.0.0.0/24", -257)}', /does not accommodate a host numbered -257/],
  ],
  cidrnetmask: [['${cidrnetmask("fd00::/8")}', /only IPv4/]],
  file: [
    ['${file("missing.txt")}', /no file exists/],
    ['${file("binary.bin")}', /not valid UTF-8/],
  ],
  jsonencode: [['${jsonencode()}', /Missing value for "val"/]],
  jsondecode: [['${jsondecode("{")}', /not valid JSON/]],
  coalesce: [
    ['${coalesce(null, "")}', /no non-null, non-empty-string/],
    ['${coalesce()}', /at least one argument/],
  ],
  try: [
    ['${try()}', /at least one argument/],
    ['${try(var.m.c, var.m.d)}', /no expression succeeded/],
  ],
  can: [['${can(1, 2)}', /exactly one argument/]],
  tostring: [['${tostring([1])}', /cannot convert list to string/]],
  tonumber: [['${tonumber("x")}', /cannot convert string "x" to number/]],
  tobool: [['${tobool(1)}', /cannot convert number to bool/]],
  abs: [['${abs("x")}', /number is required/]],
  ceil: [['${ceil(true)}', /number is required/]],
  floor: [['${floor(null)}', /must not be null/]],
  contains: [['${contains("x", "x")}', /list is required/]],
  distinct: [['${distinct({a = 1})}', /list is required/]],
  flatten: [['${flatten("x")}', /list is required/]],
  element: [
    ['${element([], 0)}', /empty list/],
    ['${element(["a"], -1)}', /negative index/],
    ['${element(["a"], 0.5)}', /whole number/],
  ],
  startswith: [['${startswith("a")}', /Missing value for "prefix"/]],
  endswith: [['${endswith("a", "b", "c")}', /expects only 2/]],
  trimspace: [['${trimspace([" a"])}', /string is required/]],
  sort: [['${sort([[1]])}', /element 0: a string is required/]],
};

const SPEC_FUNCTIONS = [
  'length',
  'lookup',
  'merge',
  'concat',
  'toset',
  'tolist',
  'tomap',
  'keys',
  'values',
  'format',
  'join',
  'split',
  'replace',
  'lower',
  'upper',
  'min',
  'max',
  'range',
  'cidrsubnet',
  'cidrhost',
  'file',
  'jsonencode',
  'jsondecode',
  'coalesce',
  'try',
];
const EXTRA_FUNCTIONS = [
  'cidrnetmask',
  'tostring',
  'tonumber',
  'tobool',
  'abs',
  'ceil',
  'floor',
  'contains',
  'distinct',
  'flatten',
  'element',
  'startswith',
  'endswith',
  'trimspace',
  'sort',
  'can',
];

before(async () => {
  const all = [...Object.values(VALUES).flat(), ...Object.values(ERRORS).flat()].map((r) => r[0]);
  await parseTemplates(all.flatMap((t) => collectTemplates(t)));
});

test('every function of the SPEC and the agreed extras exists, and no other', () => {
  assert.deepEqual(functionNames(), [...SPEC_FUNCTIONS, ...EXTRA_FUNCTIONS].sort());
});

test('every function has value tests and error tests', () => {
  for (const name of functionNames()) {
    assert.ok(VALUES[name]?.length, `no value test for ${name}`);
    assert.ok(ERRORS[name]?.length, `no error test for ${name}`);
  }
});

for (const [name, rows] of Object.entries(VALUES)) {
  describe(`${name}()`, () => {
    for (const [expr, expected] of rows) {
      test(`${expr} = ${JSON.stringify(expected)}`, () => {
        const r = evaluate(expr, scope);
        assert.deepEqual(r.diagnostics, []);
        assert.deepEqual(r.value, expected);
      });
    }
    for (const [expr, detail] of ERRORS[name] ?? []) {
      test(`${expr} fails: ${detail.source}`, () => {
        const r = evaluate(expr, scope);
        assert.deepEqual(codes(r), ['E_FUNCTION_CALL']);
        assert.match(r.diagnostics[0]!.detail!, detail);
        assert.equal(r.value, UNKNOWN);
      });
    }
  });
}

describe('calling convention', () => {
  test('too few and too many arguments have their own summaries', async () => {
    await parseTemplates(['${upper()}', '${upper("a", "b")}']);
    assert.equal(evaluate('${upper()}', scope).diagnostics[0]!.summary, 'Not enough function arguments');
    assert.equal(evaluate('${upper("a", "b")}', scope).diagnostics[0]!.summary, 'Too many function arguments');
  });

  test('an unknown argument makes most results unknown without calling the function', async () => {
    await parseTemplates(['${cidrsubnet(var.u, 8, 1)}', '${file(var.u)}']);
    assert.equal(evaluate('${cidrsubnet(var.u, 8, 1)}', scope).value, UNKNOWN);
    assert.equal(evaluate('${file(var.u)}', scope).value, UNKNOWN);
  });
});
