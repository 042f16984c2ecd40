// Every example configuration validates, and plans without contacting hosts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { tsinfra } from './cli/cli-harness.js';

const root = fileURLToPath(new URL('../../examples/', import.meta.url));

describe('examples', () => {
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    test(`${name} validates`, async () => {
      const r = await tsinfra(['validate', dir]);
      assert.equal(r.code, 0, r.stderr);
    });
    test(`${name} plans (no refresh, no state lock)`, async () => {
      const r = await tsinfra(['plan', '--refresh=false', '--lock=false', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Plan: \d+ to add/);
    });
    test(`${name} is formatted canonically`, async () => {
      const r = await tsinfra(['fmt', '--check', dir]);
      assert.equal(r.code, 0, `not formatted: ${r.stdout}`);
    });
  }
});
