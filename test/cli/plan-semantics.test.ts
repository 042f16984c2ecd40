// Planning semantics through the real CLI, with tsinfra_data (no host work): unknown
// values, count/for_each addresses, moved, ignore_changes, prevent_destroy, --target,
// --replace, saved plans, sensitive values, variables' precedence, approval.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configDir, tsinfra } from './cli-harness.js';

const HOST = 'host "local" {\n  transport = "local"\n}\n';

interface StateFile {
  serial: number;
  resources: { address: string; attributes: Record<string, unknown> }[];
  outputs: Record<string, { value: unknown }>;
}

async function readState(dir: string): Promise<StateFile> {
  return JSON.parse(await readFile(join(dir, '.tsinfra', 'state.json'), 'utf8')) as StateFile;
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function workspace(files: Record<string, string>) {
  const cfg = await configDir({ 'host.hcl': HOST, ...files });
  cleanups.push(cfg.remove);
  return cfg;
}

describe('planning semantics', () => {
  test('unknown values propagate at plan time and are resolved during apply', async () => {
    const cfg = await workspace({
      'main.hcl': `
resource "tsinfra_data" "a" {
  host  = host.local
  input = "first"
}
resource "tsinfra_data" "b" {
  host  = host.local
  input = "after-\${tsinfra_data.a.id}"
}
output "b" { value = tsinfra_data.b.output }
`,
    });
    const p = await tsinfra(['plan', cfg.dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /\+ input += \(known after apply\)/);
    assert.match(p.stdout, /Plan: 2 to add, 0 to change, 0 to destroy\./);
    const a = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const s = await readState(cfg.dir);
    const idA = s.resources.find((r) => r.address === 'tsinfra_data.a')!.attributes['id'];
    assert.equal(s.resources.find((r) => r.address === 'tsinfra_data.b')!.attributes['input'], `after-${String(idA)}`);
    assert.equal(s.outputs['b']!.value, `after-${String(idA)}`);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
  });

  test('count and for_each instances have their own addresses', async () => {
    const cfg = await workspace({
      'main.hcl': `
resource "tsinfra_data" "c" {
  count = 2
  host  = host.local
  input = count.index
}
resource "tsinfra_data" "f" {
  for_each = toset(["x", "y"])
  host     = host.local
  input    = each.key
}
`,
    });
    const p = await tsinfra(['plan', cfg.dir]);
    for (const a of ['tsinfra_data.c[0]', 'tsinfra_data.c[1]', 'tsinfra_data.f["x"]', 'tsinfra_data.f["y"]']) {
      assert.ok(p.stdout.includes(`# ${a} will be created`), `${a} in\n${p.stdout}`);
    }
  });

  test('moved re-addresses without destroy/create; ignore_changes is honoured', async () => {
    const cfg = await workspace({ 'main.hcl': 'resource "tsinfra_data" "old" {\n  host  = host.local\n  input = "v1"\n}\n' });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const id = (await readState(cfg.dir)).resources[0]!.attributes['id'];
    await cfg.write(
      'main.hcl',
      `resource "tsinfra_data" "new" {
  host  = host.local
  input = "v2"
  lifecycle {
    ignore_changes = [input]
  }
}
moved {
  from = tsinfra_data.old
  to   = tsinfra_data.new
}
`,
    );
    const p = await tsinfra(['plan', cfg.dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /# tsinfra_data\.old has moved to tsinfra_data\.new/);
    assert.doesNotMatch(p.stdout, /will be destroyed|will be created|must be replaced/);
    assert.match(p.stdout, /Plan: 0 to add, 0 to change, 0 to destroy\./);
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const s = await readState(cfg.dir);
    assert.deepEqual(
      s.resources.map((r) => [r.address, r.attributes['id'], r.attributes['input']]),
      [['tsinfra_data.new', id, 'v1']],
    );
  });

  test('adding count to a single resource keeps the object as instance [0], and back', async () => {
    const cfg = await workspace({ 'main.hcl': 'resource "tsinfra_data" "x" {\n  host  = host.local\n  input = "a"\n}\n' });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const id = (await readState(cfg.dir)).resources[0]!.attributes['id'];
    await cfg.write('main.hcl', 'resource "tsinfra_data" "x" {\n  count = 2\n  host  = host.local\n  input = "a"\n}\n');
    const p = await tsinfra(['plan', cfg.dir]);
    assert.match(p.stdout, /# tsinfra_data\.x has moved to tsinfra_data\.x\[0\]/);
    assert.match(p.stdout, /Plan: 1 to add, 0 to change, 0 to destroy\./);
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    assert.equal((await readState(cfg.dir)).resources.find((r) => r.address === 'tsinfra_data.x[0]')?.attributes['id'], id);
    await cfg.write('main.hcl', 'resource "tsinfra_data" "x" {\n  host  = host.local\n  input = "a"\n}\n');
    const back = await tsinfra(['plan', cfg.dir]);
    assert.match(back.stdout, /# tsinfra_data\.x\[0\] has moved to tsinfra_data\.x/);
    assert.match(back.stdout, /Plan: 0 to add, 0 to change, 1 to destroy\./);
  });

  test('prevent_destroy stops a plan that would destroy or replace the resource', async () => {
    const cfg = await workspace({
      'main.hcl': `resource "tsinfra_data" "keep" {
  host             = host.local
  triggers_replace = "one"
  lifecycle {
    prevent_destroy = true
  }
}
`,
    });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const d = await tsinfra(['plan', '--destroy', cfg.dir]);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /E_PREVENT_DESTROY/);
    assert.match(d.stderr, /on main\.hcl line 5/);
    await cfg.write('main.hcl', (await readFile(join(cfg.dir, 'main.hcl'), 'utf8')).replace('"one"', '"two"'));
    const r = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /tsinfra_data\.keep has lifecycle\.prevent_destroy set/);
    assert.equal((await readState(cfg.dir)).resources.length, 1);
  });

  test('create_before_destroy creates the replacement first and keeps it in state', async () => {
    const cfg = await workspace({
      'main.hcl': `resource "tsinfra_data" "b" {
  host             = host.local
  triggers_replace = "one"
  lifecycle {
    create_before_destroy = true
  }
}
`,
    });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const oldId = (await readState(cfg.dir)).resources[0]!.attributes['id'];
    await cfg.write('main.hcl', (await readFile(join(cfg.dir, 'main.hcl'), 'utf8')).replace('"one"', '"two"'));
    const p = await tsinfra(['plan', cfg.dir]);
    assert.match(p.stdout, /\+\/- resource "tsinfra_data" "b"/);
    const a = await tsinfra(['apply', '--auto-approve', cfg.dir]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const s = await readState(cfg.dir);
    assert.equal(s.resources.length, 1);
    assert.notEqual(s.resources[0]!.attributes['id'], oldId);
    assert.equal((await tsinfra(['plan', '--detailed-exitcode', cfg.dir])).code, 0);
  });

  test('--target plans the target and its dependencies only; --replace forces a replacement', async () => {
    const cfg = await workspace({
      'main.hcl': `
resource "tsinfra_data" "base" {
  host  = host.local
  input = "b"
}
resource "tsinfra_data" "top" {
  host  = host.local
  input = tsinfra_data.base.output
}
resource "tsinfra_data" "other" {
  host  = host.local
  input = "o"
}
`,
    });
    const p = await tsinfra(['plan', '--target', 'tsinfra_data.top', cfg.dir]);
    assert.match(p.stdout, /tsinfra_data\.base will be created/);
    assert.match(p.stdout, /tsinfra_data\.top will be created/);
    assert.doesNotMatch(p.stdout, /tsinfra_data\.other/);
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const r = await tsinfra(['plan', '--replace', 'tsinfra_data.other', cfg.dir]);
    assert.match(r.stdout, /# tsinfra_data\.other will be replaced, as requested/);
    assert.match(r.stdout, /Plan: 1 to add, 0 to change, 1 to destroy\./);
  });

  test('--target on a resource whose count went down destroys the instances beyond it', async () => {
    const cfg = await workspace({
      'main.hcl': 'resource "tsinfra_data" "x" {\n  count = 3\n  host  = host.local\n}\nresource "tsinfra_data" "y" {\n  host = host.local\n}\n',
    });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    await cfg.write('main.hcl', 'resource "tsinfra_data" "x" {\n  count = 2\n  host  = host.local\n}\n');
    const p = await tsinfra(['plan', '--target', 'tsinfra_data.x', cfg.dir]);
    assert.match(p.stdout, /# tsinfra_data\.x\[2\] will be destroyed/);
    assert.doesNotMatch(p.stdout, /tsinfra_data\.y/);
    assert.match(p.stdout, /Plan: 0 to add, 0 to change, 1 to destroy\./);
  });

  test('a targeted destroy keeps other outputs; an orphan can be targeted alone', async () => {
    const cfg = await workspace({
      'main.hcl':
        'resource "tsinfra_data" "a" {\n  host  = host.local\n  input = "A"\n}\nresource "tsinfra_data" "c" {\n  host  = host.local\n  input = "C"\n}\nresource "tsinfra_data" "o1" {\n  host = host.local\n}\nresource "tsinfra_data" "o2" {\n  host = host.local\n}\noutput "a" { value = tsinfra_data.a.output }\noutput "c" { value = tsinfra_data.c.output }\n',
    });
    assert.equal((await tsinfra(['apply', '--auto-approve', cfg.dir])).code, 0);
    const d = await tsinfra(['destroy', '--auto-approve', '--target', 'tsinfra_data.c', cfg.dir]);
    assert.equal(d.code, 0, d.stderr);
    const s = await readState(cfg.dir);
    assert.deepEqual(Object.keys(s.outputs), ['a']);
    // Remove both orphans from the configuration, destroy just one of them.
    await cfg.write('main.hcl', 'resource "tsinfra_data" "a" {\n  host  = host.local\n  input = "A"\n}\noutput "a" { value = tsinfra_data.a.output }\n');
    const p = await tsinfra(['plan', '--target', 'tsinfra_data.o1', cfg.dir]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /tsinfra_data\.o1 will be destroyed/);
    assert.doesNotMatch(p.stdout, /tsinfra_data\.o2/);
  });

  test('saved plans apply exactly, and are refused once the state moved on', async () => {
    const cfg = await workspace({ 'main.hcl': 'resource "tsinfra_data" "x" {\n  host  = host.local\n  input = "1"\n}\n' });
    const planFile = join(cfg.dir, 'first.tsplan');
    assert.equal((await tsinfra(['plan', '--out', planFile, cfg.dir])).code, 0);
    const shown = await tsinfra(['show', '--json', planFile]);
    const json = JSON.parse(shown.stdout) as { format_version: string; resource_changes: { address: string; action: string }[] };
    assert.equal(json.format_version, '1.0');
    assert.deepEqual(
      json.resource_changes.map((c) => [c.address, c.action]),
      [['tsinfra_data.x', 'create']],
    );
    const stale = join(cfg.dir, 'second.tsplan');
    assert.equal((await tsinfra(['plan', '--out', stale, cfg.dir])).code, 0);
    const a = await tsinfra(['apply', planFile]);
    assert.equal(a.code, 0, a.stderr + a.stdout);
    const refused = await tsinfra(['apply', stale]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /E_PLAN_STALE/);
  });

  test('with TSINFRA_STATE_KEY a saved plan is sealed, and needs the key to apply', async () => {
    const cfg = await workspace({
      'main.hcl': 'variable "pw" {\n  sensitive = true\n}\nresource "tsinfra_data" "x" {\n  host  = host.local\n  input = var.pw\n}\n',
    });
    const env = { TSINFRA_VAR_pw: 'hunter2-secret', TSINFRA_STATE_KEY: 'correct horse battery staple' };
    const planFile = join(cfg.dir, 'sealed.tsplan');
    assert.equal((await tsinfra(['plan', '--out', planFile, cfg.dir], { env })).code, 0);
    assert.doesNotMatch(await readFile(planFile, 'utf8'), /hunter2/);
    const noKey = await tsinfra(['apply', planFile]);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /E_PLAN_KEY_REQUIRED/);
    const a = await tsinfra(['apply', planFile], { env });
    assert.equal(a.code, 0, a.stderr + a.stdout);
    assert.doesNotMatch(await readFile(join(cfg.dir, '.tsinfra', 'state.json'), 'utf8'), /hunter2/);
  });

  test('sensitive values are never printed', async () => {
    const cfg = await workspace({
      'main.hcl': `
variable "token" {
  type      = string
  sensitive = true
}
resource "tsinfra_data" "s" {
  host  = host.local
  input = "Bearer \${var.token}"
}
output "token" {
  value     = tsinfra_data.s.output
  sensitive = true
}
`,
    });
    const env = { TSINFRA_VAR_token: 'hunter2-secret' };
    const p = await tsinfra(['plan', cfg.dir], { env });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /input += \(sensitive value\)/);
    const a = await tsinfra(['apply', '--auto-approve', cfg.dir], { env });
    assert.equal(a.code, 0, a.stderr);
    const shown = await tsinfra(['show'], { cwd: cfg.dir, env });
    const js = await tsinfra(['show', '--json'], { cwd: cfg.dir, env });
    const outs = await tsinfra(['output', '--dir', cfg.dir], { env });
    for (const text of [p.stdout, p.stderr, a.stdout, a.stderr, shown.stdout, js.stdout, outs.stdout]) {
      assert.doesNotMatch(text, /hunter2/);
    }
    assert.match(outs.stdout, /token = \(sensitive value\)/);
  });

  test('sensitivity follows values through resources, and errors never quote secrets', async () => {
    const cfg = await workspace({
      'main.hcl': `
variable "token" {
  type      = string
  sensitive = true
}
resource "tsinfra_data" "a" {
  host  = host.local
  input = var.token
}
resource "tsinfra_data" "b" {
  host  = host.local
  input = "pw is \${tsinfra_data.a.input}"
}
output "leak" {
  value = tsinfra_data.a.output
}
`,
    });
    const env = { TSINFRA_VAR_token: 'hunter2-secret' };
    const p = await tsinfra(['plan', cfg.dir], { env });
    assert.equal(p.code, 1);
    assert.match(p.stderr, /E_SENSITIVE_OUTPUT/);
    await cfg.write('main.hcl', (await readFile(join(cfg.dir, 'main.hcl'), 'utf8')).replace('output "leak" {', 'output "leak" {\n  sensitive = true'));
    const ok = await tsinfra(['plan', cfg.dir], { env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /# tsinfra_data\.b will be created[\s\S]*input += \(sensitive value\)/);
    await cfg.write('bad.hcl', 'resource "tsinfra_data" "c" {\n  host  = host.local\n  input = cidrhost(var.token, 1)\n}\n');
    const bad = await tsinfra(['plan', cfg.dir], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_FUNCTION_CALL|E_INVALID/);
    for (const text of [p.stdout, p.stderr, ok.stdout, bad.stdout, bad.stderr]) assert.doesNotMatch(text, /hunter2/);
  });

  test('a sensitive variable with a value of the wrong type is refused without quoting it', async () => {
    const cfg = await workspace({
      'main.hcl':
        'variable "port" {\n  type      = number\n  sensitive = true\n}\nresource "tsinfra_data" "x" {\n  host  = host.local\n  input = var.port\n}\n',
    });
    const r = await tsinfra(['plan', cfg.dir], { env: { TSINFRA_VAR_port: 'secretval' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_TYPE_MISMATCH|E_INVALID/);
    assert.match(r.stderr, /on main\.hcl line 1/);
    assert.doesNotMatch(r.stderr + r.stdout, /secretval/);
  });

  test('variables: environment < auto file < --var-file < --var, and validation blocks run', async () => {
    const cfg = await workspace({
      'main.hcl': `
variable "n" {
  type = number
  validation {
    condition     = var.n < 100
    error_message = "n must be below 100."
  }
}
output "n" { value = var.n }
`,
      'a.auto.vars.hcl': 'n = 2\n',
      'extra.vars.json': '{"n": 3}',
    });
    const out = async (args: string[]) => {
      const r = await tsinfra(['plan', '--json', ...args, cfg.dir], { env: { TSINFRA_VAR_n: '1' } });
      return (JSON.parse(r.stdout) as { output_changes: { n: { after: unknown } } }).output_changes.n.after;
    };
    assert.equal(await out([]), 2);
    assert.equal(await out(['--var-file', join(cfg.dir, 'extra.vars.json')]), 3);
    assert.equal(await out(['--var-file', join(cfg.dir, 'extra.vars.json'), '--var', 'n=4']), 4);
    assert.equal(await out(['--var', 'n=4', '--var-file', join(cfg.dir, 'extra.vars.json')]), 3);
    const bad = await tsinfra(['plan', '--var', 'n=500', cfg.dir]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /E_VARIABLE_VALIDATION/);
    assert.match(bad.stderr, /n must be below 100\./);
  });

  test('apply without a terminal and without --auto-approve fails clearly and changes nothing', async () => {
    const cfg = await workspace({ 'main.hcl': 'resource "tsinfra_data" "x" {\n  host = host.local\n}\n' });
    const r = await tsinfra(['apply', cfg.dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_APPROVAL_REQUIRED/);
    assert.match(r.stderr, /--auto-approve/);
    await assert.rejects(readState(cfg.dir));
  });

  test('graph prints the dependency graph in DOT', async () => {
    const cfg = await workspace({
      'main.hcl':
        'resource "tsinfra_data" "a" {\n  host = host.local\n}\nresource "tsinfra_data" "b" {\n  host  = host.local\n  input = tsinfra_data.a.id\n}\n',
    });
    const r = await tsinfra(['graph', cfg.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^digraph/m);
    assert.match(r.stdout, /"tsinfra_data\.b" -> "tsinfra_data\.a"/);
  });
});
