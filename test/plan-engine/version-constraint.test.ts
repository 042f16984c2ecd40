import { test } from 'node:test';
import assert from 'node:assert/strict';
import { satisfies } from '../../plan-engine/version-constraint.js';

test('version constraints as Terraform writes them', () => {
  const cases: [string, string, boolean | undefined][] = [
    ['0.1.0', '>= 0.1', true],
    ['0.1.0', '> 0.1', false],
    ['0.1.0', '>= 0.1, < 2', true],
    ['0.1.0', '= 0.1.0', true],
    ['0.1.0', '0.1.0', true],
    ['0.1.0', '!= 0.1.0', false],
    ['0.1.5', '~> 0.1.2', true],
    ['0.2.0', '~> 0.1.2', false],
    ['0.9.0', '~> 0.1', true],
    ['1.0.0', '~> 0.1', false],
    ['0.1.0', '>= 9.0', false],
    ['0.1.0', 'banana', undefined],
    ['0.1.0', '>= 1.x', undefined],
  ];
  for (const [v, c, want] of cases) assert.equal(satisfies(v, c), want, `${v} ${c}`);
});
