import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { Manifest, ref, expr } from '../../../api/index.js';
import { documentOf } from '../../../api/manifest.js';
import type { Attribute, FileDecls } from '../../../plan-engine/config/model.js';
import { loadConfig } from '../../../plan-engine/config/load.js';
import { loadTypeScriptManifest } from '../../../plan-engine/config/typescript.js';
import { hclJsonOfDocument, hclSourceOfRaw } from '../../../plan-engine/config/typescript-document.js';

/** The repository root (the fixtures are not copied into the build output). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}
const FIXTURES = join(repoRoot(), 'test', 'fixtures', 'ts');

async function load(rel: string, options: Parameters<typeof loadTypeScriptManifest>[1] = {}) {
  return loadTypeScriptManifest(join(FIXTURES, rel), { name: rel, console: () => {}, ...options });
}

function exprs(attrs: ReadonlyMap<string, Attribute>): Record<string, unknown> {
  return Object.fromEntries([...attrs].map(([k, a]) => [k, a.expr]));
}

function resource(decls: FileDecls, key: string) {
  const r = decls.resources.find((x) => x.addr.key === key);
  assert.ok(r, `resource ${key} declared`);
  return r;
}

describe('loadTypeScriptManifest: a manifest with every block kind', async () => {
  const { decls, diagnostics } = await load('all-blocks/main.infra.ts');

  test('loads without diagnostics', () => {
    assert.deepEqual(diagnostics, []);
    assert.equal(decls.file, 'all-blocks/main.infra.ts');
  });

  test('variables keep type, default, description and validation', () => {
    assert.deepEqual(
      decls.variables.map((v) => [v.name, v.type, v.default?.expr, v.description]),
      [
        ['env', '${string}', 'dev', 'Deployment environment'],
        ['web_count', '${number}', 2, undefined],
      ],
    );
    const [validation] = decls.variables[0]!.validations;
    assert.equal(validation?.condition.expr, '${contains(["dev", "prod"], var.env)}');
    assert.equal(validation?.errorMessage.expr, 'dev or prod');
  });

  test('locals, hosts, outputs, moved and settings', () => {
    assert.deepEqual(
      decls.locals.map((l) => [l.name, l.value.expr]),
      [['prefix', 'shop-${var.env}']],
    );
    assert.deepEqual(
      decls.hosts.map((h) => [h.name, exprs(h.body.attributes)]),
      [['local', { transport: 'local' }]],
    );
    assert.deepEqual(
      decls.outputs.map((o) => [o.name, o.value.expr, o.description, o.sensitive]),
      [
        ['first_ip', '${container.web[0].ip_address}', 'IP of the first web container', false],
        ['bridge', '${network.front.bridge}', undefined, false],
      ],
    );
    assert.deepEqual(
      decls.moved.map((mv) => [mv.from.toString(), mv.to.toString()]),
      [['network.old', 'network.front']],
    );
    assert.equal(decls.settings.length, 1);
    const s = decls.settings[0]!;
    assert.equal(s.requiredVersion?.expr, '>= 0.1');
    assert.equal(s.backend?.type, 'postgres');
    assert.deepEqual(exprs(s.backend!.body.attributes), { conn_str: '${var.state_db}', schema: 'tsinfra' });
  });

  test('a resource: meta-arguments split off, attributes as raw expressions', () => {
    const front = resource(decls, 'network.front');
    assert.equal(front.host?.expr, '${host.local}');
    assert.deepEqual(exprs(front.body.attributes), { driver: 'bridge', subnet: '10.1.0.0/24', nat: true });

    const web = resource(decls, 'container.web');
    assert.equal(web.count?.expr, '${var.web_count}');
    assert.deepEqual(web.dependsOn?.expr, ['${network.front}']);
    assert.deepEqual(exprs(web.body.attributes), {
      image: '${image.nginx.id}',
      hostname: '${local.prefix}-web-${count.index}',
      env: { TZ: 'Asia/Shanghai', SHELL_VAR: '$${HOME}', BRIDGE: '${network.front.bridge}' },
      command: ['nginx', '-g', 'daemon off;'],
    });
  });

  test('nested blocks become Blocks, in order; lifecycle is decoded', () => {
    const web = resource(decls, 'container.web');
    assert.deepEqual(
      web.body.blocks.map((b) => [b.type, b.labels, exprs(b.body.attributes)]),
      [
        ['resources', [], { memory: '200M', cpus: 1.5 }],
        ['mount', [], { type: 'bind', source: '/srv/www', target: '/usr/share/nginx/html', read_only: true }],
        ['mount', [], { type: 'volume', source: '${volume.cache.id}', target: '/cache' }],
        ['network', [], { id: '${network.front.id}', aliases: ['web'] }],
        ['restart', [], { policy: 'on-failure', max_retries: 5 }],
      ],
    );
    assert.equal(web.lifecycle.preventDestroy?.expr, true);
    assert.deepEqual(
      web.lifecycle.ignoreChanges.map((c) => c.path),
      ['env', 'resources.memory'],
    );
    assert.equal(web.lifecycle.ignoreAll, false);
  });

  test('every range points at the declaring line of the .infra.ts file', () => {
    const line = (r: { range: { file: string; start: { line: number } } }) => `${r.range.file}:${r.range.start.line}`;
    const f = 'all-blocks/main.infra.ts';
    assert.deepEqual(decls.variables.map(line), [`${f}:6`, `${f}:12`]);
    assert.deepEqual(decls.locals.map(line), [`${f}:13`]);
    assert.deepEqual(decls.hosts.map(line), [`${f}:14`]);
    assert.deepEqual(decls.resources.map(line), [`${f}:15`, `${f}:16`]);
    assert.deepEqual(decls.outputs.map(line), [`${f}:33`, `${f}:34`]);
    assert.deepEqual(decls.moved.map(line), [`${f}:35`]);
    assert.equal(line(decls.settings[0]!.backend!), `${f}:36`);
    const web = resource(decls, 'container.web');
    for (const a of web.body.attributes.values()) assert.equal(line(a), `${f}:16`);
    for (const b of web.body.blocks) assert.equal(line(b), `${f}:16`);
    assert.equal(web.range.start.column, 15, 'the column of `resource` in `m.resource(`');
    assert.ok(web.range.end.column > web.range.start.column);
  });
});

describe('loadTypeScriptManifest: shape equals hcl2json of the same HCL', () => {
  test('every block kind', async () => {
    const m = new Manifest();
    const env = m.variable('env', { type: 'list(string)', default: ['a'], validation: { condition: ref.variable('ok'), error_message: 'no' } });
    m.locals({ prefix: expr`shop-${env}`, literal: 'a ${b} c', n: 3 });
    const web = m.host('web', { address: '10.0.0.5', port: 22, count: 2 });
    const front = m.resource('network', 'front', { host: web.index(0), driver: 'bridge', subnet: '10.1.0.0/24' });
    m.resource('container', 'app', {
      host: web.index(ref.countIndex),
      count: 2,
      image: ref.image('nginx').id,
      env: { TZ: 'UTC' },
      network: [{ id: front.id }, { id: ref.network('back').id }],
      resources: { memory: '200M' },
      depends_on: [front],
      lifecycle: { prevent_destroy: true, ignore_changes: ['env'] },
      hostname: expr`app-${ref.countIndex}`,
    });
    m.output('o', { value: ref.container('app').index(0).ipAddress });
    m.moved({ from: 'network.old', to: front });
    m.settings({ required_version: '>= 0.1', backend: { postgres: { conn_str: ref.variable('db') } } });
    const hcl = `
variable "env" {
  type    = list(string)
  default = ["a"]
  validation {
    condition     = var.ok
    error_message = "no"
  }
}
locals {
  prefix  = "shop-\${var.env}"
  literal = "a $\${b} c"
  n       = 3
}
host "web" {
  address = "10.0.0.5"
  port    = 22
  count   = 2
}
resource "network" "front" {
  host   = host.web[0]
  driver = "bridge"
  subnet = "10.1.0.0/24"
}
resource "container" "app" {
  host  = host.web[count.index]
  count = 2
  image = image.nginx.id
  env   = { TZ = "UTC" }
  network { id = network.front.id }
  network { id = network.back.id }
  resources { memory = "200M" }
  depends_on = [network.front]
  lifecycle {
    prevent_destroy = true
    ignore_changes  = [env]
  }
  hostname = "app-\${count.index}"
}
output "o" { value = container.app[0].ip_address }
moved {
  from = network.old
  to   = network.front
}
tsinfra {
  required_version = ">= 0.1"
  backend "postgres" { conn_str = var.db }
}
`;
    const fromHcl = await parse('eq.hcl', hcl);
    const fromTs = JSON.parse(JSON.stringify(hclJsonOfDocument(documentOf(m)))) as unknown;
    assert.deepEqual(fromTs, fromHcl);
  });
});

test('value source text, for decoders that read it, is the HCL a user would write', () => {
  assert.equal(hclSourceOfRaw('${number}'), 'number');
  assert.equal(hclSourceOfRaw('${list(string)}'), 'list(string)');
  assert.equal(hclSourceOfRaw('${host.web[0]}'), 'host.web[0]');
  assert.equal(hclSourceOfRaw('shop-${var.env}'), '"shop-${var.env}"');
  assert.equal(hclSourceOfRaw('${a}-${b}'), '"${a}-${b}"');
  assert.equal(hclSourceOfRaw('say "hi" $${x}'), '"say \\"hi\\" $${x}"');
  assert.equal(hclSourceOfRaw(['${network.front}', 1, true, null]), '[network.front, 1, true, null]');
  assert.equal(hclSourceOfRaw({ 'db.local': '10.1.0.5' }), '{ "db.local" = "10.1.0.5" }');
});

describe('loadTypeScriptManifest: references and loops', () => {
  test('loops produce many resources, each at the line of its declaration', async () => {
    const { decls, diagnostics } = await load('loop.infra.ts');
    assert.deepEqual(diagnostics, []);
    assert.equal(decls.resources.length, 103);
    assert.deepEqual(
      decls.resources.slice(0, 3).map((r) => [r.addr.key, r.range.start.line]),
      [
        ['network.front', 6],
        ['network.back', 6],
        ['network.db', 6],
      ],
    );
    const app = resource(decls, 'container.app42');
    assert.equal(app.range.start.line, 9);
    assert.equal(app.body.attributes.get('hostname')?.expr, 'app-42');
    assert.deepEqual(
      app.body.blocks.map((b) => b.body.attributes.get('id')?.expr),
      ['${network.front.id}', '${network.back.id}', '${network.db.id}'],
    );
  });

  test('declarations made in an imported module point at that module', async () => {
    const { decls, diagnostics } = await load('helpers/main.infra.ts');
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      decls.resources.map((r) => `${r.addr.key} ${r.range.file}:${r.range.start.line}`),
      [
        'network.tier helpers/lib/tiers.ts:5',
        'container.web0 helpers/lib/tiers.ts:7',
        'container.web1 helpers/lib/tiers.ts:7',
        'container.web2 helpers/lib/tiers.ts:7',
      ],
    );
    assert.deepEqual(
      decls.hosts.map((h) => `${h.range.file}:${h.range.start.line}`),
      ['helpers/main.infra.ts:5'],
    );
  });
});

test('HCL and TypeScript files of a directory form one configuration', async () => {
  const { config, diagnostics } = await loadConfig(join(FIXTURES, 'mixed'));
  assert.deepEqual(diagnostics, []);
  assert.ok(config);
  assert.deepEqual([...config.resources.keys()], ['network.front', 'container.web']);
  const web = config.resources.get('container.web')!;
  assert.equal(web.host?.expr, '${host.local}', 'a TS resource on an HCL host');
  assert.deepEqual(
    web.body.blocks.map((b) => b.body.attributes.get('id')?.expr),
    ['${network.front.id}'],
    'referencing an HCL network',
  );
  assert.match(web.range.file, /web\.infra\.ts$/);
  assert.equal(config.outputs.get('web_ip')?.value.expr, '${container.web.ip_address}', 'HCL referencing the TS container');
});

describe('loadTypeScriptManifest: errors', () => {
  test('a syntax error is E_TS_SYNTAX at its line and column', async () => {
    const { decls, diagnostics } = await load('syntax-error.infra.ts');
    assert.equal(diagnostics.length, 1);
    const d = diagnostics[0]!;
    assert.equal(d.code, 'E_TS_SYNTAX');
    assert.equal(d.severity, 'error');
    assert.deepEqual([d.range?.file, d.range?.start.line, d.range?.start.column], ['syntax-error.infra.ts', 4, 22]);
    assert.equal(decls.resources.length, 0);
  });

  test('an exception is E_TS_EVAL at the throwing line, with the manifest frames', async () => {
    const { diagnostics } = await load('throws.infra.ts');
    assert.equal(diagnostics.length, 1);
    const d = diagnostics[0]!;
    assert.equal(d.code, 'E_TS_EVAL');
    assert.match(d.summary, /RangeError: no subnet for 3/);
    assert.deepEqual([d.range?.file, d.range?.start.line], ['throws.infra.ts', 7]);
    assert.match(d.detail ?? '', /throws\.infra\.ts:12:/, 'the calling line is listed too');
  });

  test('no default export, or one that is not a Manifest, is E_TS_NO_MANIFEST', async () => {
    for (const [file, what] of [
      ['no-default.infra.ts', /is nothing/],
      ['default-not-manifest.infra.ts', /not a Manifest/],
    ] as const) {
      const { diagnostics } = await load(file);
      assert.deepEqual(
        diagnostics.map((d) => [d.code, d.range?.file, d.range?.start.line]),
        [['E_TS_NO_MANIFEST', file, 1]],
      );
      assert.match(diagnostics[0]!.detail ?? '', what);
    }
  });

  test('values that are not data are E_TS_VALUE at the declaration; functions are dropped', async () => {
    const { decls, diagnostics } = await load('bad-values.infra.ts');
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.address, d.range?.start.line]),
      [
        ['E_TS_VALUE', 'container.web', 8],
        ['E_TS_VALUE', 'output.port', 13],
        ['E_TS_VALUE', 'output.nan', 14],
      ],
    );
    assert.match(diagnostics[0]!.summary, /Date.*env\.BUILT/);
    assert.match(diagnostics[1]!.summary, /Port/);
    assert.deepEqual(resource(decls, 'container.web').body.attributes.get('env')?.expr, { BUILT: null, N: '1' });
  });

  test('an import that cannot be resolved is E_TS_IMPORT', async () => {
    const { diagnostics } = await load('missing-import.infra.ts');
    assert.deepEqual(
      diagnostics.map((d) => [d.code, d.range?.start.line]),
      [['E_TS_IMPORT', 2]],
    );
  });

  test('an endless manifest times out with E_TS_EVAL', async () => {
    const { diagnostics } = await load('endless.infra.ts', { timeoutMs: 200 });
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['E_TS_EVAL'],
    );
    assert.match(diagnostics[0]!.summary, /timed out/);
  });
});

describe('loadTypeScriptManifest: evaluation context', () => {
  test('a manifest cannot see or change the engine globals', async () => {
    const g = globalThis as Record<string, unknown>;
    g['tsinfraIsolationMarker'] = 'engine';
    after(() => delete g['tsinfraIsolationMarker']);
    const first = await load('isolation.infra.ts');
    const second = await load('isolation.infra.ts');
    for (const { decls, diagnostics } of [first, second]) {
      assert.deepEqual(diagnostics, []);
      assert.deepEqual(Object.fromEntries(decls.outputs.map((o) => [o.name, o.value.expr])), {
        marker_before: 'undefined', // neither the engine's value nor the first run's
        process: 'undefined',
        set_timeout: 'undefined',
        buffer: 'undefined',
        env: { A: 'x' },
      });
    }
    assert.equal(g['tsinfraIsolationMarker'], 'engine');
    assert.equal(({} as Record<string, unknown>)['tsinfraPolluted'], undefined);
    assert.deepEqual(
      [1, 2].map((x) => x * 2),
      [2, 4],
    );
    assert.equal(JSON.stringify({ a: 1 }), '{"a":1}');
  });

  test('console output is passed on; __dirname, __filename and node built-ins work', async () => {
    const lines: string[] = [];
    const { decls, diagnostics } = await load('console.infra.ts', { console: (l) => lines.push(l) });
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(lines, ['building {"hosts":1}']);
    assert.deepEqual(
      decls.outputs.map((o) => [o.name, o.value.expr]),
      [
        ['joined', join('a', 'b')],
        ['dir_known', true],
      ],
    );
  });

  test('a manifest outside any package still gets tsinfra', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tsinfra-ts-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'web.infra.ts');
    await writeFile(
      file,
      [
        "import { Manifest, ref } from 'tsinfra';",
        'const m = new Manifest();',
        "m.resource('container', 'web', { host: ref.host('h'), image: ref.image('i').id });",
        'export default m;',
      ].join('\n'),
    );
    const { decls, diagnostics } = await loadTypeScriptManifest(file, { console: () => {} });
    assert.deepEqual(diagnostics, []);
    assert.equal(decls.file, file);
    assert.equal(decls.resources[0]?.range.file, file);
    assert.equal(decls.resources[0]?.range.start.line, 3);
  });
});
