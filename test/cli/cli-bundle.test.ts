// The CLI as `npm run build` leaves it (cli/build-cli.ts): oclif's manifest names every
// command, and points oclif at the bundled command files, which run.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const COMMANDS = join(ROOT, 'dist', 'cli', 'commands');

function commandIds(dir = COMMANDS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return commandIds(path);
    return e.name.endsWith('.js') ? [relative(COMMANDS, path).replace(/\.js$/, '').split(sep).join(':')] : [];
  });
}

test('the manifest names every command and points at its bundled file', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { relativePath: string[] }> };
  assert.deepEqual(Object.keys(manifest.commands).sort(), commandIds().sort());
  for (const [id, command] of Object.entries(manifest.commands)) {
    const file = join(ROOT, ...command.relativePath);
    assert.ok(file.startsWith(join(ROOT, 'dist', 'cli-bundle') + sep), `${id}: ${file}`);
    assert.ok(existsSync(file), `${id}: ${file} is missing`);
  }
});

test('a bundled command finds the files next to its original modules (package.json, the HCL parse workers)', async () => {
  // Over parse-pool's threshold, so that HCL is parsed in worker threads started by path.
  const dir = await mkdtemp(join(tmpdir(), 'tsinfra-cli-bundle-'));
  try {
    for (const part of ['a', 'b']) {
      const locals = Array.from({ length: 4000 }, (_, i) => `  ${part}_value_${i} = "${'x'.repeat(24)}"`).join('\n');
      await writeFile(join(dir, `${part}.hcl`), `locals {\n${locals}\n}\n`);
    }
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'run.js'), 'validate', '--json', dir], {
      env: { ...process.env, TSINFRA_CACHE: '0' },
    });
    const out = JSON.parse(stdout) as { valid: boolean };
    assert.equal(out.valid, true, stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
