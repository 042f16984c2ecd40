import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { formatHcl } from '../../../plan-engine/config/hcl-format.js';
import { scanHcl } from '../../../plan-engine/config/hcl-scanner.js';

/** The repository root (the fixtures are not copied into the build output). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'hcl');
const GOLDEN = join(FIXTURES, 'format');
const goldenNames = readdirSync(GOLDEN)
  .filter((n) => n.endsWith('.in.hcl'))
  .map((n) => n.slice(0, -'.in.hcl'.length))
  .sort();

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Every input the properties below are checked on: golden inputs and outputs, and the realistic configuration. */
function samples(): [string, string][] {
  return [
    ...goldenNames.flatMap((n): [string, string][] => [
      [`${n}.in.hcl`, read(join(GOLDEN, `${n}.in.hcl`))],
      [`${n}.out.hcl`, read(join(GOLDEN, `${n}.out.hcl`))],
    ]),
    ['realistic.hcl', read(join(FIXTURES, 'realistic.hcl'))],
  ];
}

/** The text of every token but line breaks: formatting may change whitespace and nothing else. */
function tokenTexts(src: string): string[] {
  const { tokens } = scanHcl(src);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) if (tokens.kind(i) !== 'newline') out.push(src.slice(tokens.start(i), tokens.end(i)));
  return out;
}

/**
 * hcl2json's result with the whitespace of expression strings removed: it returns a
 * complex expression as its source text (`"${merge(\n  a,\n  b)}"`), which reindenting
 * changes without changing its meaning. Literal strings and heredoc text stay exact.
 */
function normalizedJson(v: unknown): unknown {
  if (typeof v === 'string') return v.includes('${') || v.includes('%{') ? v.replace(/\s+/g, '') : v;
  if (Array.isArray(v)) return v.map(normalizedJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizedJson(x)]));
  return v;
}

/** Lines (1-based) ending in blanks where the line break is code, not heredoc or comment text. */
function trailingWhitespaceLines(src: string): number[] {
  const { tokens } = scanHcl(src);
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const at = tokens.start(i);
    if (tokens.kind(i) === 'newline' && (src[at - 1] === ' ' || src[at - 1] === '\t')) out.push(src.slice(0, at).split('\n').length);
  }
  return out;
}

describe('formatHcl: golden files', () => {
  assert.ok(goldenNames.length >= 3);
  for (const name of goldenNames) {
    test(`${name}.in.hcl formats to ${name}.out.hcl`, () => {
      assert.equal(formatHcl(read(join(GOLDEN, `${name}.in.hcl`))), read(join(GOLDEN, `${name}.out.hcl`)));
    });
  }
});

describe('formatHcl: properties', () => {
  for (const [name, src] of samples()) {
    test(`${name}: idempotent, whitespace-only, same hcl2json result`, async () => {
      const once = formatHcl(src);
      assert.equal(formatHcl(once), once, 'formatting twice changes nothing more');
      assert.deepEqual(tokenTexts(once), tokenTexts(src), 'only whitespace between tokens changes');
      assert.deepEqual(normalizedJson(await parse(name, once)), normalizedJson(await parse(name, src)));
      assert.ok(once.endsWith('\n') && !once.endsWith('\n\n'), 'one final newline');
      assert.deepEqual(trailingWhitespaceLines(once), [], 'no trailing whitespace (heredoc text and comments aside)');
      assert.doesNotMatch(once, /\n\n\n/, 'at most one blank line');
    });
  }
});

describe('formatHcl: rules', () => {
  test('indentation is two spaces per nesting level', () => {
    assert.equal(formatHcl('a {\nb {\nc = 1\n}\n}\n'), 'a {\n  b {\n    c = 1\n  }\n}\n');
  });

  test('brackets opened together indent once; a line starting with closers sits with its opener', () => {
    const src = 'x = merge({\na = 1\n}, {\nb = [\n1,\n]\n})\ny = [{\nk = 1\n}]\n';
    assert.equal(formatHcl(src), 'x = merge({\n  a = 1\n}, {\n  b = [\n    1,\n  ]\n})\ny = [{\n  k = 1\n}]\n');
  });

  test('one space around = outside alignment groups', () => {
    assert.equal(formatHcl('a {b=1}\nc   =    "x"\n'), 'a { b = 1 }\nc = "x"\n');
  });

  test('= of consecutive single-line attributes aligns; blank, comment, block and multi-line lines break the group', () => {
    const src = [
      'r {',
      'a = 1',
      'bbb = 2',
      '',
      'cc = 3',
      'd = 4',
      '# note',
      'eeeee = 5',
      'f = 6',
      'blk {}',
      'gg = 7',
      'h = [',
      '1,',
      ']',
      'iii = 8',
      'j = 9',
      '}',
      '',
    ].join('\n');
    const want = [
      'r {',
      '  a   = 1',
      '  bbb = 2',
      '',
      '  cc = 3',
      '  d  = 4',
      '  # note',
      '  eeeee = 5',
      '  f     = 6',
      '  blk {}',
      '  gg = 7',
      '  h = [',
      '    1,',
      '  ]',
      '  iii = 8',
      '  j   = 9',
      '}',
      '',
    ].join('\n');
    assert.equal(formatHcl(src), want);
  });

  test('object items align like attributes; = inside strings is text', () => {
    assert.equal(formatHcl('env = {\nA = "x = y"\nLONG = "{"\n}\n'), 'env = {\n  A    = "x = y"\n  LONG = "{"\n}\n');
  });

  test('trailing comments of consecutive lines align', () => {
    assert.equal(formatHcl('a = 1 # one\nbbb = "two" // two\n'), 'a   = 1     # one\nbbb = "two" // two\n');
  });

  test('blank lines: none leading, at most one in a row, none trailing; one final newline', () => {
    assert.equal(formatHcl('\n\n\na = 1\n\n\n\nb = 2\n\n\n'), 'a = 1\n\nb = 2\n');
    assert.equal(formatHcl('a = 1'), 'a = 1\n');
    assert.equal(formatHcl(''), '');
    assert.equal(formatHcl('\n \n\t\n'), '');
  });

  test('trailing whitespace is removed, also after comments', () => {
    assert.equal(formatHcl('a = 1   \n# note   \nb {  \n}  \n'), 'a = 1\n# note\nb {\n}\n');
  });

  test('comments and heredoc contents are kept byte for byte, trailing spaces in heredocs included', () => {
    const src = 'x {\n/*  keep   {\n   this  */\ny = <<EOT\n   a  =  b   \n\t}\nEOT\n  #   spaced   comment\n}\n';
    assert.equal(formatHcl(src), 'x {\n  /*  keep   {\n   this  */\n  y = <<EOT\n   a  =  b   \n\t}\nEOT\n  #   spaced   comment\n}\n');
  });

  test('CRLF line endings are kept (they are part of heredoc values)', async () => {
    const src = 'a {\r\nb=1\r\nh = <<EOT\r\nx\r\nEOT\r\n}\r\n\r\n\r\n';
    const out = formatHcl(src);
    assert.equal(out, 'a {\r\n  b = 1\r\n  h = <<EOT\r\nx\r\nEOT\r\n}\r\n');
    assert.equal(formatHcl(out), out);
    assert.deepEqual(await parse('crlf.hcl', out), await parse('crlf.hcl', src));
    assert.equal(formatHcl('a = 1\r\nb = 2'), 'a = 1\r\nb = 2\r\n');
  });

  test('block headers get single spaces; braces a space inside, {} stays tight', () => {
    assert.equal(formatHcl('resource   "a"    "b"{\n}\nx = {a=1}\ne {   }\n'), 'resource "a" "b" {\n}\nx = { a = 1 }\ne {}\n');
  });

  test('commas: none before, one after', () => {
    assert.equal(formatHcl('x = [1 ,2,  3]\n'), 'x = [1, 2, 3]\n');
  });

  test('several attributes on one line (the SPEC shorthand) are spaced but kept', () => {
    assert.equal(formatHcl('moved { from=container.old  to=container.new }\n'), 'moved { from = container.old  to = container.new }\n');
  });

  test('invalid input never throws and keeps every token', () => {
    // (An unterminated heredoc or comment runs to the end, so the final newline lands inside it.)
    const trimmed = (src: string): string[] => tokenTexts(src).map((t) => t.trimEnd());
    for (const src of ['a = "unterminated\nb = {', 'x = <<EOT\nno end', '}}}\n{{{', 'a = /* open', '@@ = ##', 'a = "${ {"']) {
      const out = formatHcl(src);
      assert.deepEqual(trimmed(out), trimmed(src));
    }
  });

  test('mutated (mostly invalid) input: still idempotent, still whitespace-only', () => {
    const base = read(join(FIXTURES, 'realistic.hcl'));
    const random = prng(7);
    const specials = ['"', '{', '}', '${', '%{', '<<EOT\n', '\nEOT\n', '/*', '*/', '#', '\\', '\n', '\n\n\n', '=', ',', '(', ']', '\r', '  '];
    const trimmed = (src: string): string[] => tokenTexts(src).map((t) => t.trimEnd());
    for (let i = 0; i < 300; i++) {
      let src = base;
      for (let m = 0; m < 5; m++) {
        const p = Math.floor(random() * src.length);
        const ins = specials[Math.floor(random() * specials.length)]!;
        src = random() < 0.5 ? src.slice(0, p) + ins + src.slice(p) : src.slice(0, p) + src.slice(p + 1 + Math.floor(random() * 20));
      }
      const once = formatHcl(src);
      assert.equal(formatHcl(once), once, `not idempotent on mutation ${i}`);
      assert.deepEqual(trimmed(once), trimmed(src), `tokens changed on mutation ${i}`);
    }
  });

  test('a 10,000-block file formats, idempotently', () => {
    const blocks: string[] = [];
    for (let i = 0; i < 10000; i++) {
      blocks.push(
        `resource "network" "n${i}" {\n driver="bridge"\n  subnet   = "10.${i % 256}.0.0/24" # net ${i}\n  lifecycle { prevent_destroy = true }\n}\n`,
      );
    }
    const src = blocks.join('\n');
    const t0 = performance.now();
    const out = formatHcl(src);
    const ms = performance.now() - t0;
    console.log(`formatHcl: 10k blocks (${(src.length / 1e6).toFixed(2)} MB) in ${ms.toFixed(0)} ms`);
    assert.ok(out.startsWith('resource "network" "n0" {\n  driver = "bridge"\n  subnet = "10.0.0.0/24" # net 0\n'));
    assert.equal(formatHcl(out), out);
  });
});

/** A small deterministic generator for the mutation test. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
