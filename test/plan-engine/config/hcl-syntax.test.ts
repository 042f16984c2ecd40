// hcl2json's error text is split into one diagnostic per error, with positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntaxDiagnostics } from '../../../plan-engine/config/hcl-syntax.js';

test('several errors, each with its range', () => {
  const ds = syntaxDiagnostics(
    'main.hcl',
    'parse config: [main.hcl:9,17-18: Invalid character; This character is not used within the language. main.hcl:10,2-11,1: Missing newline after argument; An argument definition must end with a newline.]',
  );
  assert.deepEqual(
    ds.map((d) => [d.summary, d.range?.start.line, d.range?.start.column, d.range?.end.line]),
    [
      ['Invalid character', 9, 17, 9],
      ['Missing newline after argument', 10, 2, 11],
    ],
  );
});

test('a detail that mentions a position stays whole', () => {
  const [d, ...rest] = syntaxDiagnostics(
    'main.hcl',
    'parse config: [main.hcl:1,21-22: Unexpected end of template; The for directive at main.hcl:1,6-21 is missing its corresponding endfor directive.]',
  );
  assert.equal(rest.length, 0);
  assert.equal(d!.detail, 'The for directive at main.hcl:1,6-21 is missing its corresponding endfor directive.');
});

test('an unparseable message still gives one diagnostic at the top of the file', () => {
  const ds = syntaxDiagnostics('main.hcl', 'parse config: something odd');
  assert.equal(ds.length, 1);
  assert.equal(ds[0]!.range?.start.line, 1);
});
