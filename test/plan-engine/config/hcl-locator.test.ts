import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import type { SourceRange } from '../../../plan-engine/diagnostics.js';
import { locateHcl, type LocatedAttribute, type LocatedBlock, type LocatedBody } from '../../../plan-engine/config/hcl-locator.js';
import { scanHcl } from '../../../plan-engine/config/hcl-scanner.js';
import { snippet, SourcePositions } from '../../../plan-engine/config/hcl-source.js';

/** The repository root (the fixtures are not copied into the build output). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'hcl');

type Json = Record<string, unknown>;

function locate(src: string): LocatedBody {
  const r = locateHcl('t.hcl', src);
  assert.deepEqual(r.diagnostics, [], 'no diagnostics expected');
  return r.body;
}

/** `line:col-line:col`, compact for assertions. */
function at(r: SourceRange): string {
  return `${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column}`;
}

function attr(body: LocatedBody, name: string): LocatedAttribute {
  const a = body.attributes.find((x) => x.name === name);
  assert.ok(a, `attribute ${name} not found`);
  return a;
}

function names(body: LocatedBody): { attributes: string[]; blocks: string[] } {
  return { attributes: body.attributes.map((a) => a.name), blocks: body.blocks.map((b) => [b.type, ...b.labels].join(' ')) };
}

describe('locateHcl: ranges', () => {
  const src = ['resource "network" "front" {', '  subnet = "172.18.0.0/24"', '  lifecycle {', '    prevent_destroy = true', '  }', '}', ''].join('\n');

  test('blocks: header from type through the brace, body braces inclusive, file as top level', () => {
    const body = locate(src);
    assert.equal(at(body.range), '1:1-7:1');
    const res = body.blocks[0]!;
    assert.equal(res.type, 'resource');
    assert.deepEqual(res.labels, ['network', 'front']);
    assert.equal(at(res.range), '1:1-1:29');
    assert.equal(at(res.body.range), '1:28-6:2');
    const lc = res.body.blocks[0]!;
    assert.equal(at(lc.range), '3:3-3:14');
    assert.equal(at(lc.body.range), '3:13-5:4');
  });

  test('attributes: name start to value end, name and value separately, raw value text', () => {
    const subnet = attr(locate(src).blocks[0]!.body, 'subnet');
    assert.equal(at(subnet.range), '2:3-2:27');
    assert.equal(at(subnet.nameRange), '2:3-2:9');
    assert.equal(at(subnet.valueRange), '2:12-2:27');
    assert.equal(subnet.valueText, '"172.18.0.0/24"');
  });

  test('columns count characters, not UTF-16 units', () => {
    const body = locate('a = "😀😀"\nb { s = "é😀" }\n');
    assert.equal(at(attr(body, 'a').range), '1:1-1:9');
    const b = body.blocks[0]!;
    assert.equal(at(b.body.range), '2:3-2:15');
    assert.equal(at(attr(b.body, 's').valueRange), '2:9-2:13');
  });

  test('CRLF line endings give the same positions as LF', () => {
    const lf = 'a {\n  x = [\n    1,\n  ]\n  y = <<EOT\nhi\nEOT\n}\n';
    const crlf = lf.replace(/\n/g, '\r\n');
    const withoutText = (b: LocatedBody): unknown => JSON.parse(JSON.stringify(b, (k, v: unknown) => (k === 'valueText' ? undefined : v)));
    assert.deepEqual(withoutText(locate(crlf)), withoutText(locate(lf)));
    // Value text is the raw source, line breaks as written.
    assert.equal(attr(locate(crlf).blocks[0]!.body, 'x').valueText, '[\r\n    1,\r\n  ]');
  });
});

describe('locateHcl: constructs', () => {
  test('comments of every kind hide braces, = and quotes', () => {
    const body = locate(['# a { b = 1 }', '// c = "', '/* d {', '   e = 2 } */', 'x = 1 # y = { 2', 'z = /* inline { */ 3 // w = 4', ''].join('\n'));
    assert.deepEqual(names(body), { attributes: ['x', 'z'], blocks: [] });
    assert.equal(attr(body, 'x').valueText, '1');
    // A comment before the value is not part of the expression.
    assert.equal(attr(body, 'z').valueText, '3');
  });

  test('quoted strings: escapes, interpolations holding braces, quotes and nested strings, directives', () => {
    const body = locate(
      [
        'a = "quote \\" and { brace = 1 } and \\\\"',
        'b = "${ {k = "}"}["k"] } tail"',
        'c = "${"in ${"ner {"} x"} done"',
        'd = "%{ if var.x }yes { %{ else }no%{ endif }"',
        'e = "$${not} %%{not}"',
        'f = 1',
        '',
      ].join('\n'),
    );
    assert.deepEqual(names(body).attributes, ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.equal(attr(body, 'b').valueText, '"${ {k = "}"}["k"] } tail"');
    assert.equal(attr(body, 'c').valueText, '"${"in ${"ner {"} x"} done"');
    assert.equal(at(attr(body, 'f').range), '6:1-6:6');
  });

  test('heredocs, plain and indented, with interpolations; a marker inside an interpolation does not close', () => {
    const src = [
      'a = <<EOT',
      'x = { not an attribute',
      '${ join("}", ["EOT"]) }',
      '  EOT',
      'b = <<-CONF',
      '    server { ${var.port} }',
      '    CONF',
      'c = "${ <<EOT',
      'inner',
      'EOT',
      '}"',
      'd = f(<<EOT',
      'arg',
      'EOT',
      ')',
      '',
    ].join('\n');
    const body = locate(src);
    assert.deepEqual(names(body).attributes, ['a', 'b', 'c', 'd']);
    assert.equal(at(attr(body, 'a').valueRange), '1:5-4:6');
    assert.equal(attr(body, 'b').valueText, '<<-CONF\n    server { ${var.port} }\n    CONF');
    assert.equal(at(attr(body, 'c').range), '8:1-11:3');
    assert.equal(at(attr(body, 'd').range), '12:1-15:2');
  });

  test('multi-line values: brackets, parens, braces, for expressions, conditionals in parens', () => {
    const src = [
      'l = [',
      '  1,',
      '  { a = 2 },',
      ']',
      'm = merge(',
      '  { b = 1 },',
      '  var.x',
      ')',
      'f = { for k, v in var.m :',
      '  k => v if v != null }',
      'c = (',
      '  var.on',
      '  ? "a"',
      '  : "b"',
      ')',
      'n = 1',
      '',
    ].join('\n');
    const body = locate(src);
    assert.deepEqual(names(body), { attributes: ['l', 'm', 'f', 'c', 'n'], blocks: [] });
    assert.equal(at(attr(body, 'l').range), '1:1-4:2');
    assert.equal(at(attr(body, 'm').range), '5:1-8:2');
    assert.equal(attr(body, 'f').valueText, '{ for k, v in var.m :\n  k => v if v != null }');
    assert.equal(at(attr(body, 'c').valueRange), '11:5-15:2');
  });

  test('one-line blocks, with one attribute or several on a line', () => {
    const body = locate(
      [
        'locals { prefix = "x" }',
        'a { b = 1 }',
        'empty {}',
        'moved { from = container.old  to = container.new }',
        'output "ip" { value = container.web.ip_address  sensitive = false }',
        'backend "pg" { conn = "a=b" schema = f(1)  n = [1] }',
        '',
      ].join('\n'),
    );
    assert.deepEqual(names(body).blocks, ['locals', 'a', 'empty', 'moved', 'output ip', 'backend pg']);
    const [locals, a, empty, moved, output, backend] = body.blocks as [LocatedBlock, LocatedBlock, LocatedBlock, LocatedBlock, LocatedBlock, LocatedBlock];
    assert.equal(attr(locals.body, 'prefix').valueText, '"x"');
    assert.equal(at(locals.body.range), '1:8-1:24');
    assert.equal(attr(a.body, 'b').valueText, '1');
    assert.deepEqual(names(empty.body), { attributes: [], blocks: [] });
    assert.deepEqual(
      moved.body.attributes.map((x) => [x.name, x.valueText, at(x.range)]),
      [
        ['from', 'container.old', '4:9-4:29'],
        ['to', 'container.new', '4:31-4:49'],
      ],
    );
    assert.deepEqual(
      output.body.attributes.map((x) => [x.name, x.valueText]),
      [
        ['value', 'container.web.ip_address'],
        ['sensitive', 'false'],
      ],
    );
    assert.deepEqual(
      backend.body.attributes.map((x) => [x.name, x.valueText]),
      [
        ['conn', '"a=b"'],
        ['schema', 'f(1)'],
        ['n', '[1]'],
      ],
    );
  });

  test('several attributes separated by newlines inside a block', () => {
    const body = locate('a {\n  b = 1\n  c = "two"\n\n  d = [3]\n}\n');
    assert.deepEqual(names(body.blocks[0]!.body).attributes, ['b', 'c', 'd']);
  });

  test('labels: quoted (unescaped) or bare identifiers', () => {
    const body = locate('a "x" bare "q\\"uote" "a\\\\b" {}\nb {}\n');
    assert.deepEqual(body.blocks[0]!.labels, ['x', 'bare', 'q"uote', 'a\\b']);
    assert.deepEqual(body.blocks[1]!.labels, []);
  });

  test('an attribute holding an object is an attribute, a nested block is a block', () => {
    const body = locate('r {\n  env = { A = "b" }\n  obj = {\n    inner = 1\n  }\n  lifecycle {\n    x = 1\n  }\n  list = [{ a = 1 }]\n}\n');
    const r = body.blocks[0]!.body;
    assert.deepEqual(names(r), { attributes: ['env', 'obj', 'list'], blocks: ['lifecycle'] });
    assert.equal(attr(r, 'obj').valueText, '{\n    inner = 1\n  }');
  });
});

describe('locateHcl: invalid input', () => {
  const cases: [string, string, string][] = [
    ['unterminated string', 'a = "abc\nb = 1\n', 'Unterminated string'],
    ['unterminated heredoc', 'a = <<EOT\nabc\n', 'Unterminated heredoc'],
    ['unterminated interpolation', 'a = "${ x', 'Unterminated string'],
    ['unterminated block comment', 'a = 1 /* x', 'Unterminated comment'],
    ['unclosed block', 'a {\n  b = 1\n', 'Unclosed block "a"'],
    ['stray brace', '}\na = 1\n', 'Unexpected "}"'],
    ['missing value', 'a =\nb = 1\n', 'Missing value for "a"'],
    ['invalid character', 'a = 1\n@ b\n', 'Invalid character "@"'],
    ['block without brace', 'a "x"\nb = 1\n', 'Expected "=" or a block after "a"'],
  ];
  for (const [name, src, summary] of cases) {
    test(name, () => {
      const r = locateHcl('bad.hcl', src);
      const d = r.diagnostics.find((x) => x.summary === summary);
      assert.ok(d, `expected "${summary}", got ${JSON.stringify(r.diagnostics.map((x) => x.summary))}`);
      assert.equal(d.code, 'E_SYNTAX');
      assert.equal(d.severity, 'error');
      assert.equal(d.range?.file, 'bad.hcl');
    });
  }

  test('recovery keeps what follows a bad line', () => {
    const r = locateHcl('bad.hcl', 'a = "abc\nb = 1\nc { d = 2 }\n');
    assert.deepEqual(names(r.body).attributes, ['a', 'b']);
    assert.deepEqual(names(r.body).blocks, ['c']);
  });

  test('never throws or hangs on truncated or mutated input', () => {
    const base = readFileSync(join(FIXTURES, 'realistic.hcl'), 'utf8');
    const random = prng(42);
    const specials = ['"', '{', '}', '$', '${', '%{', '<<EOT\n', '\nEOT\n', '/*', '*/', '#', '\\', '\n', '=', '(', ']', '\r', '😀'];
    for (let cut = 0; cut < base.length; cut += 37) locateHcl('cut.hcl', base.slice(0, cut));
    for (let i = 0; i < 400; i++) {
      let src = base;
      for (let m = 0; m < 5; m++) {
        const p = Math.floor(random() * src.length);
        const ins = specials[Math.floor(random() * specials.length)]!;
        src = random() < 0.5 ? src.slice(0, p) + ins + src.slice(p) : src.slice(0, p) + src.slice(p + 1 + Math.floor(random() * 20));
      }
      const r = locateHcl('fuzz.hcl', src);
      assert.ok(Array.isArray(r.body.blocks));
    }
  });
});

/** A small deterministic generator for the fuzz test. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('locateHcl agrees with hcl2json on a realistic configuration', () => {
  const src = readFileSync(join(FIXTURES, 'realistic.hcl'), 'utf8');

  test('same blocks, labels, attribute and nested-block names, at every level', async () => {
    const json = (await parse('realistic.hcl', src)) as Json;
    const located = locate(src);
    const problems: string[] = [];
    compareBody(located, json, 'file', problems);
    assert.deepEqual(problems, []);
    // The fixture really covers what it claims to.
    const types = new Set(located.blocks.map((b) => b.type));
    assert.deepEqual([...types].sort(), ['host', 'locals', 'moved', 'output', 'resource', 'tsinfra', 'variable']);
    assert.equal(located.blocks.length, 22);
  });

  test('every value text, parsed alone, gives the value hcl2json gave in place', async () => {
    const json = (await parse('realistic.hcl', src)) as Json;
    const located = locate(src);
    const pairs: [LocatedAttribute, unknown][] = [];
    collectValues(located, json, pairs);
    assert.ok(pairs.length > 100);
    const probe = pairs.map(([a], i) => `v${i} = ${a.valueText}\n`).join('');
    const reparsed = (await parse('probe.hcl', probe)) as Json;
    pairs.forEach(([a, expected], i) => assert.deepEqual(reparsed[`v${i}`], expected, `value of ${a.name} at ${at(a.range)}`));
  });
});

/** Walks the located structure and hcl2json's JSON together, as the decoder does. */
function compareBody(located: LocatedBody, json: Json, where: string, problems: string[]): void {
  const jsonKeys = Object.keys(json).sort();
  const locatedKeys = [...new Set([...located.attributes.map((a) => a.name), ...located.blocks.map((b) => b.type)])].sort();
  if (JSON.stringify(jsonKeys) !== JSON.stringify(locatedKeys)) problems.push(`${where}: keys ${jsonKeys.join(',')} vs located ${locatedKeys.join(',')}`);
  for (const a of located.attributes) {
    // The fixture holds no list-of-objects attribute, so a list of objects can only be blocks.
    const v = json[a.name];
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) {
      problems.push(`${where}: ${a.name} is a block for hcl2json but an attribute for the locator`);
    }
  }
  const seen = new Map<string, number>();
  for (const b of located.blocks) {
    const path = [b.type, ...b.labels];
    const key = path.join('\u0000');
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    let cur: unknown = json;
    for (const p of path) cur = (cur as Json | undefined)?.[p];
    const inner = `${where} > ${path.join(' ')}[${n}]`;
    if (!Array.isArray(cur) || typeof cur[n] !== 'object') {
      problems.push(`${inner}: no such block in hcl2json's output`);
      continue;
    }
    compareBody(b.body, cur[n] as Json, inner, problems);
  }
  // Label levels: hcl2json must not hold labels the locator did not find.
  for (const type of new Set(located.blocks.map((b) => b.type))) {
    const blocks = located.blocks.filter((b) => b.type === type);
    compareLabelLevel(json[type], blocks, 0, `${where} > ${type}`, problems);
  }
  for (const [key, count] of seen) {
    let cur: unknown = json;
    for (const p of key.split('\u0000')) cur = (cur as Json | undefined)?.[p];
    if (Array.isArray(cur) && cur.length !== count) problems.push(`${where} > ${key.replace(/\u0000/g, ' ')}: ${cur.length} in hcl2json, ${count} located`);
  }
}

function compareLabelLevel(json: unknown, blocks: readonly LocatedBlock[], depth: number, where: string, problems: string[]): void {
  if (blocks.every((b) => b.labels.length === depth)) return;
  const labels = [...new Set(blocks.map((b) => b.labels[depth]!))].sort();
  const keys = Object.keys((json ?? {}) as Json).sort();
  if (JSON.stringify(labels) !== JSON.stringify(keys)) problems.push(`${where}: labels ${keys.join(',')} vs located ${labels.join(',')}`);
  for (const l of labels) {
    compareLabelLevel(
      (json as Json | undefined)?.[l],
      blocks.filter((b) => b.labels[depth] === l),
      depth + 1,
      `${where} ${l}`,
      problems,
    );
  }
}

function collectValues(located: LocatedBody, json: Json, out: [LocatedAttribute, unknown][]): void {
  for (const a of located.attributes) out.push([a, json[a.name]]);
  const seen = new Map<string, number>();
  for (const b of located.blocks) {
    const path = [b.type, ...b.labels];
    const n = seen.get(path.join('\u0000')) ?? 0;
    seen.set(path.join('\u0000'), n + 1);
    let cur: unknown = json;
    for (const p of path) cur = (cur as Json)[p];
    collectValues(b.body, (cur as Json[])[n]!, out);
  }
}

describe('locateHcl: scale', () => {
  /** A file of `blocks` resource blocks, each with nested blocks, a heredoc and comments. */
  function generate(blocks: number): string {
    const parts: string[] = [];
    for (let i = 0; i < blocks; i++) {
      parts.push(
        `# container ${i}`,
        `resource "container" "c${i}" {`,
        `  host    = host.web[${i % 7}]`,
        `  image   = "registry.local/app:${i}"`,
        `  command = ["run", "--id", "${'$'}{count.index}-${i}"]`,
        `  env     = { INDEX = "${i}", NAME = "c-${'$'}{var.env}" }`,
        `  resources {`,
        `    memory = "${64 + (i % 512)}M"`,
        `  }`,
        `  note = <<EOT`,
        `line ${i} { not = structure }`,
        `EOT`,
        `  lifecycle { ignore_changes = [env] }`,
        `}`,
        '',
      );
    }
    return parts.join('\n');
  }

  function timeMs(src: string): number {
    const t0 = performance.now();
    const res = locateHcl('big.hcl', src);
    const ms = performance.now() - t0;
    assert.equal(res.diagnostics.length, 0);
    return ms;
  }

  function median(xs: number[]): number {
    return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  }

  test('10,000 blocks are located, in time linear in the size', () => {
    const small = generate(1000);
    const big = generate(10000);
    const located = locateHcl('big.hcl', big).body;
    assert.equal(located.blocks.length, 10000);
    assert.deepEqual(names(located.blocks[9999]!.body), {
      attributes: ['host', 'image', 'command', 'env', 'note'],
      blocks: ['resources', 'lifecycle'],
    });
    assert.equal(located.blocks[9999]!.range.start.line, 9999 * 15 + 2);
    for (let r = 0; r < 3; r++) timeMs(small); // warm up the JIT before measuring
    // Interleaved, so that other work on the machine disturbs both sizes alike.
    const smallMs: number[] = [];
    const bigMs: number[] = [];
    for (let r = 0; r < 5; r++) {
      smallMs.push(timeMs(small));
      bigMs.push(timeMs(big));
    }
    const [tSmall, tBig] = [median(smallMs), median(bigMs)];
    console.log(
      `locateHcl: 1k blocks (${(small.length / 1e6).toFixed(2)} MB) ${tSmall.toFixed(1)} ms, ` +
        `10k blocks (${(big.length / 1e6).toFixed(2)} MB) ${tBig.toFixed(1)} ms, ratio ${(tBig / tSmall).toFixed(1)}`,
    );
    // Linear-ish: 10x the input costs 10-20x the time (the bigger result also costs more
    // garbage collection); anything quadratic would cost 100x and more. No absolute limit.
    assert.ok(tBig / tSmall < 60, `10k/1k time ratio ${(tBig / tSmall).toFixed(1)} suggests super-linear scanning`);
  });
});

describe('SourcePositions', () => {
  test('offsets to 1-based positions, clamped, surrogate pairs as one column', () => {
    const p = new SourcePositions('ab\n😀c\n');
    assert.deepEqual(p.position(0), { line: 1, column: 1 });
    assert.deepEqual(p.position(3), { line: 2, column: 1 });
    assert.deepEqual(p.position(5), { line: 2, column: 2 });
    assert.deepEqual(p.position(2), { line: 1, column: 3 });
    assert.deepEqual(p.position(999), { line: 3, column: 1 });
    assert.deepEqual(p.position(-5), { line: 1, column: 1 });
  });
});

describe('snippet', () => {
  const src = ['resource "container" "web" {', '  image = 42', '  host  = host.web', '}', ''].join('\n');
  const range = (l1: number, c1: number, l2: number, c2: number): SourceRange => ({
    file: 'main.hcl',
    start: { line: l1, column: c1 },
    end: { line: l2, column: c2 },
  });

  test('one line with context and an underline of the range', () => {
    assert.equal(
      snippet(src, range(2, 11, 2, 13)),
      ['1 | resource "container" "web" {', '2 |   image = 42', '  |           ^^', '3 |   host  = host.web'].join('\n'),
    );
  });

  test('without context; an empty range still gets one caret', () => {
    assert.equal(snippet(src, range(2, 3, 2, 3), 0), ['2 |   image = 42', '  |   ^'].join('\n'));
  });

  test('a range over several lines underlines each; an end at column 1 stops at the line before', () => {
    assert.equal(snippet(src, range(2, 3, 4, 1), 0), ['2 |   image = 42', '  |   ^^^^^^^^^^', '3 |   host  = host.web', '  |   ^^^^^^^^^^^^^^^^'].join('\n'));
  });

  test('the end of the file: no phantom line after the final line break; the whole-file range', () => {
    assert.equal(snippet(src, range(4, 1, 4, 2)), ['3 |   host  = host.web', '4 | }', '  | ^'].join('\n'));
    const whole = snippet(src, locate(src).range, 0).split('\n');
    assert.equal(whole[0], '1 | resource "container" "web" {');
    assert.deepEqual(whole.slice(-2), ['4 | }', '  | ^']);
  });

  test('long ranges are elided in the middle', () => {
    const long = Array.from({ length: 20 }, (_, i) => `line${i + 1}`).join('\n');
    const out = snippet(long, range(1, 1, 20, 7), 0).split('\n');
    assert.ok(out.includes('   | ...'));
    assert.ok(out.length < 16);
    assert.equal(out[out.length - 2], '20 | line20');
  });

  test('tabs are kept in the underline so carets line up; CRLF is not shown', () => {
    assert.equal(snippet('a {\r\n\tb = 1\r\n}\r\n', range(2, 6, 2, 7), 0), ['2 | \tb = 1', '  | \t    ^'].join('\n'));
  });

  test('wide lines numbers pad the gutter; ranges past the end are clamped', () => {
    const many = Array.from({ length: 12 }, (_, i) => `x${i + 1} = ${i}`).join('\n');
    assert.equal(snippet(many, range(10, 1, 10, 4), 1), [' 9 | x9 = 8', '10 | x10 = 9', '   | ^^^', '11 | x11 = 10'].join('\n'));
    assert.doesNotThrow(() => snippet(many, range(50, 3, 60, 1)));
    assert.doesNotThrow(() => snippet('', range(1, 1, 1, 1)));
  });

  test('lines the scanner locates come out under the right characters', () => {
    const body = locate(src);
    const image = attr(body.blocks[0]!.body, 'image');
    assert.match(snippet(src, image.valueRange, 0), /\n {2}\| {11}\^\^$/);
  });
});

test('scanner tokens cover all non-whitespace text exactly once', () => {
  const src = readFileSync(join(FIXTURES, 'realistic.hcl'), 'utf8');
  const { tokens, problems } = scanHcl(src);
  assert.deepEqual(problems, []);
  let pos = 0;
  for (let i = 0; i < tokens.length; i++) {
    const [start, end] = [tokens.start(i), tokens.end(i)];
    assert.ok(start >= pos && end > start, `token order at ${start}`);
    assert.match(src.slice(pos, start), /^[ \t\r]*$/);
    pos = end;
  }
  assert.match(src.slice(pos), /^\s*$/);
});
