// Parse results are cached by content hash: an unchanged file is not parsed again, a
// changed one is, a damaged cache entry is ignored, and errors are never cached.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateHcl } from '../../../plan-engine/config/hcl-locator.js';
import { parseHclFiles } from '../../../plan-engine/config/hcl-parse.js';
import { cacheDir, readCached } from '../../../plan-engine/config/parse-cache.js';

const SOURCE = 'resource "tsinfra_data" "a" {\n  input = "${upper(var.x)}-1"\n}\nmoved { from = tsinfra_data.b  to = tsinfra_data.a }\n';

describe('parse cache', () => {
  test('lives in the workspace once DIR/.tsinfra exists, and nowhere before', async () => {
    const { dir } = await cacheEnv();
    assert.equal(cacheDir(dir, {}), undefined);
    await mkdir(join(dir, '.tsinfra'));
    assert.equal(cacheDir(dir, {}), join(dir, '.tsinfra', 'cache'));
    assert.equal(cacheDir(dir, { TSINFRA_CACHE: '0' }), undefined);
  });

  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const cacheEnv = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsit-cache-'));
    dirs.push(dir);
    return { dir, env: { TSINFRA_CACHE_DIR: join(dir, 'parse') } };
  };
  const file = (source: string) => ({ name: 'main.hcl', source, located: locateHcl('main.hcl', source) });

  test('a parse is stored, 0600 in a 0700 directory, and read back the same', async () => {
    const { dir, env } = await cacheEnv();
    const [first] = await parseHclFiles('/nonexistent', [file(SOURCE)], env);
    assert.deepEqual(first!.diagnostics, []);
    const cached = await readCached(join(dir, 'parse'), SOURCE);
    assert.deepEqual(cached?.json, first!.json);
    const [entry] = await readdir(join(dir, 'parse'));
    assert.equal((await stat(join(dir, 'parse', entry!))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'parse'))).mode & 0o777, 0o700);
    const [second] = await parseHclFiles('/nonexistent', [file(SOURCE)], env);
    assert.deepEqual(second!.json, first!.json);
  });

  test('a damaged entry is ignored and parsing happens again', async () => {
    const { dir, env } = await cacheEnv();
    await parseHclFiles('/nonexistent', [file(SOURCE)], env);
    const [entry] = await readdir(join(dir, 'parse'));
    await writeFile(join(dir, 'parse', entry!), '{not json');
    const [r] = await parseHclFiles('/nonexistent', [file(SOURCE)], env);
    assert.equal((r!.json as { moved: unknown[] }).moved.length, 1);
  });

  test('syntax errors are not cached, and TSINFRA_CACHE=0 writes nothing', async () => {
    const { dir, env } = await cacheEnv();
    const [bad] = await parseHclFiles('/nonexistent', [file('resource "a" "b" {\n  x = \n}\n')], env);
    assert.equal(bad!.diagnostics[0]!.code, 'E_SYNTAX');
    assert.equal(bad!.diagnostics[0]!.range!.start.line, 2);
    await assert.rejects(readdir(join(dir, 'parse')));
    await parseHclFiles('/nonexistent', [file(SOURCE)], { ...env, TSINFRA_CACHE: '0' });
    await assert.rejects(readdir(join(dir, 'parse')));
  });
});
