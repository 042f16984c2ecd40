import { parse } from '@cdktf/hcl2json';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { cookLiteral, isTemplate, quoteTemplate, splitTemplate } from '../../../plan-engine/expressions/template-source.js';
import { dataScope, evalRaw } from './harness.js';

describe('quoteTemplate', () => {
  const rows: [string, string][] = [
    ['${x}', '"${x}"'],
    ['a"b${x}', '"a\\"b${x}"'],
    ['line\nnext\t${x}\r', '"line\\nnext\\t${x}\\r"'],
    ['back\\slash${x}', '"back\\\\slash${x}"'],
    ['bell\u0007${x}', '"bell\\u0007${x}"'],
    // sequences keep their source text: escapes inside them belong to nested strings
    ['${f("a\\"b")} "q"', '"${f("a\\"b")} \\"q\\""'],
    ['${ {a = "}"} } tail', '"${ {a = "}"} } tail"'],
    ['${x["${y}"]}"', '"${x["${y}"]}\\""'],
    ['$${x} %%{y} ${z}', '"$${x} %%{y} ${z}"'],
    ['%{ if a }"yes"%{ endif }', '"%{ if a }\\"yes\\"%{ endif }"'],
    // strip markers trim the neighbouring literal text
    ['a %{~ if x } b %{ endif ~} c', '"a%{~ if x } b %{ endif ~}c"'],
    ['a  ${~ x ~}  b', '"a${~ x ~}b"'],
    ['unterminated ${x', '"unterminated ${x"'],
  ];
  for (const [input, expected] of rows) {
    test(JSON.stringify(input), () => assert.equal(quoteTemplate(input), expected));
  }
});

describe('splitTemplate and isTemplate', () => {
  test('splits literals from sequences, keeping escapes in literals', () => {
    assert.deepEqual(splitTemplate('a $${b} ${c} %{ if d }e%{ endif }'), [
      { kind: 'literal', text: 'a $${b} ' },
      { kind: 'sequence', text: '${c}' },
      { kind: 'literal', text: ' ' },
      { kind: 'sequence', text: '%{ if d }' },
      { kind: 'literal', text: 'e' },
      { kind: 'sequence', text: '%{ endif }' },
    ]);
  });

  test('isTemplate recognises interpolations, directives and escapes', () => {
    assert.equal(isTemplate('${x}'), true);
    assert.equal(isTemplate('%{ if x }%{ endif }'), true);
    assert.equal(isTemplate('$${x}'), true);
    assert.equal(isTemplate('100% {x} $x'), false);
  });
});

describe('cookLiteral', () => {
  const rows: [string, string][] = [
    ['plain', 'plain'],
    ['a\\nb\\tc\\rd', 'a\nb\tc\rd'],
    ['q\\"q', 'q"q'],
    ['back\\\\slash', 'back\\slash'],
    ['\\u00e9\\U0001F600', 'é😀'],
    ['$${x} %%{y}', '${x} %{y}'],
    ['$$ %% $x', '$$ %% $x'],
  ];
  for (const [raw, cooked] of rows) {
    test(JSON.stringify(raw), () => assert.equal(cookLiteral(raw), cooked));
  }
});

// What matters in the end: an HCL file read by hcl2json's `parse` evaluates as HCL says.
describe('round trip from HCL source', () => {
  // One HCL file, as text (JavaScript escapes aside, exactly what a user writes).
  const source = [
    'locals {',
    '  quoted    = "say \\"${var.name}\\" now"',
    '  escapes   = "tab\\there\\nnl ${var.name}"',
    '  literal   = "literal $${HOME} and %%{x}"',
    '  backslash = "a\\\\${var.name}"',
    '  nested    = "${upper("x\\"${var.name}\\"")}"',
    '  cond      = "${var.name == "web" ? "yes" : "no"}"',
    '  heredoc   = <<EOT',
    'hello ${var.name}',
    '  "quoted" \\n stays',
    'EOT',
    '  indented  = <<-EOT',
    '    list:',
    '    %{ for s in var.items }',
    '    - ${s}',
    '    %{ endfor }',
    '    end',
    '    EOT',
    '  directives = <<EOT',
    '%{ for s in var.items ~}',
    '- ${s}',
    '%{ endfor ~}',
    'EOT',
    '  stripped  = "a %{~ if true } b %{ endif ~} c"',
    '  object    = { "key with space" = var.name, (var.name) = 1 }',
    '  multiline = [',
    '    for s in var.items : upper(s)',
    '  ]',
    '}',
  ].join('\n');
  const expected: Record<string, unknown> = {
    quoted: 'say "web" now',
    escapes: 'tab\there\nnl web',
    literal: 'literal ${HOME} and %{x}',
    backslash: 'a\\web',
    nested: 'X"WEB"',
    cond: 'yes',
    heredoc: 'hello web\n  "quoted" \\n stays\n',
    indented: 'list:\n\n- a\n\n- b\n\nend\n',
    directives: '- a\n- b\n',
    stripped: 'a b c',
    object: { 'key with space': 'web', web: 1 },
    multiline: ['A', 'B'],
  };
  let locals: Record<string, unknown> = {};
  before(async () => {
    const doc = (await parse('roundtrip.hcl', source)) as { locals: Record<string, unknown>[] };
    locals = doc.locals[0]!;
  });
  const scope = dataScope({ var: { name: 'web', items: ['a', 'b'] } });
  for (const [name, value] of Object.entries(expected)) {
    test(name, async () => {
      const r = await evalRaw(locals[name], scope);
      assert.deepEqual(r.diagnostics, []);
      assert.deepEqual(r.value, value);
    });
  }
});
