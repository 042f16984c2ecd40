// A corpus of broken configurations (test/fixtures/malformed/<case>/), each run through
// the real CLI on a throw-away copy. Every case states the diagnostics it must produce:
// code, file, line (and column where it is meaningful), address, and the words a
// helpful message must contain (the suggestion, every member of a cycle...). A failing
// run must also leave the directory exactly as it found it: no state directory, no
// lock, no file touched.
//
// A few cases also pin the human-readable output of `validate` to a golden file
// (`expected.txt` next to the fixture), which also proves no absolute path leaks into it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsinfra } from './cli-harness.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/malformed/', import.meta.url));

interface ExpectedDiagnostic {
  readonly code: string;
  /** The file the range must name, or null for a problem with no place in a file (a --var flag). */
  readonly file: string | null;
  readonly line?: number;
  readonly column?: number;
  readonly address?: string;
  /** Must all appear in the summary (cycle members). */
  readonly summaryHas?: readonly string[];
  /** Must match the summary or the detail (a suggestion, the user's own message). */
  readonly says?: RegExp;
}

interface Case {
  readonly name: string;
  /** validate (the default), or plan for what only planning can find. */
  readonly command?: 'validate' | 'plan';
  readonly args?: readonly string[];
  /** A fixture file to install as the prior state (`.tsinfra/` itself is git-ignored). */
  readonly priorState?: string;
  readonly expect: readonly ExpectedDiagnostic[];
}

const at = (file: string, line: number, column?: number) => ({ file, line, ...(column === undefined ? {} : { column }) });

const CASES: readonly Case[] = [
  // HCL syntax
  { name: 'syntax-unclosed-brace', expect: [{ code: 'E_SYNTAX', ...at('main.hcl', 5, 28), says: /closing brace/ }] },
  { name: 'syntax-bad-token', expect: [{ code: 'E_SYNTAX', ...at('main.hcl', 9, 17) }] },
  { name: 'syntax-unterminated-string', expect: [{ code: 'E_SYNTAX', ...at('main.hcl', 7, 19) }] },

  // Blocks and labels
  { name: 'unknown-block-resorce', expect: [{ code: 'E_UNKNOWN_BLOCK', ...at('main.hcl', 5, 1), says: /"resource"/ }] },
  { name: 'resource-one-label', expect: [{ code: 'E_BLOCK_LABELS', ...at('main.hcl', 5, 1), says: /2 labels/ }] },
  { name: 'variable-two-labels', expect: [{ code: 'E_BLOCK_LABELS', ...at('main.hcl', 1, 1), says: /1 label/ }] },
  { name: 'top-level-attribute', expect: [{ code: 'E_UNEXPECTED_ATTRIBUTE', ...at('main.hcl', 5, 1), says: /region/ }] },
  { name: 'resource-name-invalid', expect: [{ code: 'E_INVALID_NAME', ...at('main.hcl', 5, 1), says: /front end!/ }] },
  { name: 'unknown-resource-type', expect: [{ code: 'E_UNKNOWN_RESOURCE_TYPE', ...at('main.hcl', 5, 1), says: /"network"/ }] },
  { name: 'backend-unknown-type', expect: [{ code: 'E_UNSUPPORTED_BACKEND', ...at('main.hcl', 2, 3), says: /s3/ }] },

  // Resource attributes against the provider schema
  { name: 'unknown-attribute-mtuu', expect: [{ code: 'E_UNKNOWN_ATTRIBUTE', ...at('main.hcl', 9, 3), address: 'network.front', says: /"mtu"/ }] },
  { name: 'unknown-nested-block', expect: [{ code: 'E_UNKNOWN_BLOCK', ...at('main.hcl', 10, 3), address: 'network.front', says: /ipam/ }] },
  { name: 'wrong-type-mtu', expect: [{ code: 'E_TYPE_MISMATCH', ...at('main.hcl', 9, 3), address: 'network.front', says: /mtu.*number/ }] },
  { name: 'wrong-type-nat', expect: [{ code: 'E_TYPE_MISMATCH', ...at('main.hcl', 9, 3), address: 'network.front', says: /nat.*bool/ }] },
  { name: 'missing-driver', expect: [{ code: 'E_MISSING_ATTRIBUTE', ...at('main.hcl', 5, 1), address: 'network.front', says: /driver/ }] },
  { name: 'invalid-driver-enum', expect: [{ code: 'E_INVALID_VALUE', ...at('main.hcl', 7, 3), address: 'network.front', says: /bridge/ }] },
  { name: 'invalid-cidr-prefix', expect: [{ code: 'E_INVALID_CIDR', ...at('main.hcl', 8, 3), address: 'network.front', says: /subnet/ }] },
  { name: 'invalid-cidr-host-bits', expect: [{ code: 'E_INVALID_CIDR', ...at('main.hcl', 8, 3), address: 'network.front', says: /subnet/ }] },
  { name: 'gateway-outside-subnet', expect: [{ code: 'E_INVALID_GATEWAY', ...at('main.hcl', 9, 3), address: 'network.front', says: /10\.20\.0\.1/ }] },
  { name: 'mtu-out-of-range', expect: [{ code: 'E_INVALID_VALUE', ...at('main.hcl', 9, 3), address: 'network.front', says: /mtu/ }] },
  { name: 'macvlan-vlan-mismatch', expect: [{ code: 'E_INVALID_VLAN', ...at('main.hcl', 8, 3), address: 'network.lan', says: /eth0\.20/ }] },
  { name: 'nat-and-internal', expect: [{ code: 'E_CONFLICT', ...at('main.hcl', 10, 3), address: 'network.front', says: /internal/ }] },

  // References, functions and expressions (the range is the attribute holding the expression)
  { name: 'undeclared-resource', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 12), address: 'output.bridge', says: /network\.front/ }] },
  { name: 'undeclared-variable', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 13), address: 'network.front', says: /var\.subnet/ }] },
  { name: 'undeclared-local', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 12), address: 'network.front', says: /local\.prefix/ }] },
  { name: 'undeclared-host', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 6), address: 'network.front', says: /host\.local/ }] },
  { name: 'reference-unknown-attribute', expect: [{ code: 'E_UNSUPPORTED_ATTRIBUTE', ...at('main.hcl', 12), address: 'output.bridge', says: /"bridge"/ }] },
  { name: 'depends-on-undeclared', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 8), address: 'tsinfra_data.a', says: /tsinfra_data\.b/ }] },
  { name: 'each-without-for-each', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 7), address: 'tsinfra_data.a', says: /for_each/ }] },
  { name: 'count-index-without-count', expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 7), address: 'tsinfra_data.a', says: /count/ }] },
  { name: 'index-out-of-range', expect: [{ code: 'E_INVALID_INDEX', ...at('main.hcl', 12), address: 'output.third', says: /out of range/ }] },
  { name: 'unknown-function', expect: [{ code: 'E_UNKNOWN_FUNCTION', ...at('main.hcl', 9), address: 'network.front', says: /"length"/ }] },
  { name: 'function-wrong-args', expect: [{ code: 'E_FUNCTION_CALL', ...at('main.hcl', 8), address: 'network.front', says: /cidrsubnet/ }] },
  { name: 'expression-type-mismatch', expect: [{ code: 'E_TYPE_MISMATCH', ...at('main.hcl', 7), address: 'tsinfra_data.label', says: /number/ }] },
  { name: 'division-by-zero', expect: [{ code: 'E_DIVISION_BY_ZERO', ...at('main.hcl', 2, 3), address: 'local.per_host' }] },

  // Cycles: every member is named in the summary
  {
    name: 'cycle-two',
    expect: [{ code: 'E_CYCLE', ...at('main.hcl', 7), address: 'tsinfra_data.a', summaryHas: ['tsinfra_data.a', 'tsinfra_data.b'] }],
  },
  {
    name: 'cycle-three',
    expect: [{ code: 'E_CYCLE', ...at('main.hcl', 7), address: 'tsinfra_data.a', summaryHas: ['tsinfra_data.a', 'tsinfra_data.b', 'tsinfra_data.c'] }],
  },
  { name: 'self-reference', expect: [{ code: 'E_CYCLE', ...at('main.hcl', 7), address: 'tsinfra_data.me', summaryHas: ['tsinfra_data.me'] }] },

  // Duplicates: the second declaration is the error, the detail points at the first
  { name: 'duplicate-resource-same-file', expect: [{ code: 'E_DUPLICATE', ...at('main.hcl', 11, 1), address: 'network.front', says: /main\.hcl:5/ }] },
  { name: 'duplicate-resource-two-files', expect: [{ code: 'E_DUPLICATE', ...at('b.hcl', 2, 1), address: 'network.front', says: /a\.hcl:5/ }] },
  { name: 'duplicate-resource-hcl-and-ts', expect: [{ code: 'E_DUPLICATE', ...at('extra.infra.ts', 6), address: 'network.front', says: /main\.hcl:5/ }] },
  { name: 'duplicate-variable', expect: [{ code: 'E_DUPLICATE', ...at('main.hcl', 6, 1), address: 'var.subnet', says: /main\.hcl:1/ }] },

  // Variables
  {
    name: 'variable-validation-default',
    expect: [{ code: 'E_VARIABLE_VALIDATION', ...at('main.hcl', 6, 5), address: 'var.web_count', says: /At most 10 web containers\./ }],
  },
  { name: 'variable-bad-type-constraint', expect: [{ code: 'E_INVALID_TYPE', ...at('main.hcl', 2, 3), address: 'var.names', says: /"string"/ }] },
  { name: 'variable-default-wrong-type', expect: [{ code: 'E_TYPE_MISMATCH', ...at('main.hcl', 3, 3), address: 'var.mtu', says: /[Nn]umber/ }] },
  { name: 'var-undeclared', command: 'plan', args: ['--var', 'subnt=10.20.0.0/24'], expect: [{ code: 'E_UNDECLARED_VARIABLE', file: null, says: /"subnet"/ }] },
  {
    name: 'missing-required-variable',
    command: 'plan',
    expect: [{ code: 'E_MISSING_VARIABLE', ...at('main.hcl', 1, 1), address: 'var.subnet', says: /--var/ }],
  },

  // count and for_each
  { name: 'count-negative', expect: [{ code: 'E_INVALID_COUNT', ...at('main.hcl', 6, 3), address: 'tsinfra_data.item', says: /-1/ }] },
  { name: 'count-not-a-number', expect: [{ code: 'E_INVALID_COUNT', ...at('main.hcl', 6, 3), address: 'tsinfra_data.item', says: /string/ }] },
  {
    name: 'count-unknown',
    command: 'plan',
    expect: [{ code: 'E_UNKNOWN_EXPANSION', ...at('main.hcl', 11, 3), address: 'tsinfra_data.item', says: /after apply/ }],
  },
  { name: 'for-each-list', expect: [{ code: 'E_INVALID_FOR_EACH', ...at('main.hcl', 6, 3), address: 'tsinfra_data.item', says: /toset/ }] },
  { name: 'for-each-number', expect: [{ code: 'E_INVALID_FOR_EACH', ...at('main.hcl', 6, 3), address: 'tsinfra_data.item', says: /number/ }] },
  { name: 'count-and-for-each', expect: [{ code: 'E_COUNT_AND_FOR_EACH', ...at('main.hcl', 7, 3), address: 'tsinfra_data.item' }] },

  // Hosts
  { name: 'host-missing', expect: [{ code: 'E_MISSING_HOST', ...at('main.hcl', 9, 1), address: 'network.front', says: /host = host\./ }] },
  { name: 'host-count-without-index', expect: [{ code: 'E_INVALID_HOST', ...at('main.hcl', 7, 3), address: 'network.front', says: /\[0\]/ }] },
  { name: 'host-local-with-address', expect: [{ code: 'E_CONFLICT', ...at('main.hcl', 3, 3), address: 'host.local', says: /address/ }] },
  { name: 'host-unknown-attribute', expect: [{ code: 'E_UNKNOWN_ATTRIBUTE', ...at('main.hcl', 3, 3), address: 'host.web', says: /"address"/ }] },
  { name: 'host-bad-transport', expect: [{ code: 'E_INVALID_VALUE', ...at('main.hcl', 2, 3), address: 'host.web', says: /"local"/ }] },
  { name: 'invalid-netns', expect: [{ code: 'E_INVALID_VALUE', ...at('main.hcl', 3, 3), address: 'host.lab', says: /netns/ }] },

  // lifecycle and moved
  {
    name: 'lifecycle-unknown-attribute',
    expect: [{ code: 'E_UNKNOWN_ATTRIBUTE', ...at('main.hcl', 11, 5), address: 'network.front', says: /"prevent_destroy"/ }],
  },
  { name: 'ignore-changes-bad-entry', expect: [{ code: 'E_INVALID_IGNORE_CHANGES', ...at('main.hcl', 11, 5), address: 'network.front' }] },
  {
    name: 'ignore-changes-unknown-attribute',
    expect: [{ code: 'E_INVALID_IGNORE_CHANGES', ...at('main.hcl', 11, 5), address: 'network.front', says: /"mtu"/ }],
  },
  {
    name: 'prevent-destroy',
    command: 'plan',
    priorState: 'prior-state.json',
    expect: [{ code: 'E_PREVENT_DESTROY', ...at('main.hcl', 11, 5), address: 'tsinfra_data.keep', says: /triggers_replace/ }],
  },
  { name: 'moved-bad-address', expect: [{ code: 'E_INVALID_MOVED', ...at('main.hcl', 12, 3), says: /moved\.from/ }] },

  // Outputs
  { name: 'output-without-value', expect: [{ code: 'E_MISSING_ATTRIBUTE', ...at('main.hcl', 11, 1), address: 'output.bridge', says: /value/ }] },
  { name: 'output-sensitive-variable', expect: [{ code: 'E_SENSITIVE_OUTPUT', ...at('main.hcl', 8, 3), address: 'output.token', says: /sensitive = true/ }] },

  // TypeScript manifests (an attribute's range is its declaration's call site)
  { name: 'ts-syntax-error', expect: [{ code: 'E_TS_SYNTAX', ...at('main.infra.ts', 4, 21) }] },
  { name: 'ts-throws', expect: [{ code: 'E_TS_EVAL', ...at('main.infra.ts', 7, 20), says: /no subnet left for network 3/ }] },
  { name: 'ts-no-default-export', expect: [{ code: 'E_TS_NO_MANIFEST', ...at('main.infra.ts', 1), says: /export default/ }] },
  { name: 'ts-unknown-attribute', expect: [{ code: 'E_UNKNOWN_ATTRIBUTE', ...at('main.infra.ts', 6), address: 'network.front', says: /"mtu"/ }] },
  { name: 'ts-wrong-type', expect: [{ code: 'E_TYPE_MISMATCH', ...at('main.infra.ts', 6), address: 'network.front', says: /mtu/ }] },
  { name: 'ts-bad-value', expect: [{ code: 'E_TS_VALUE', ...at('main.infra.ts', 6), address: 'output.ratio', says: /NaN/ }] },
  {
    name: 'mixed-ts-references-missing-hcl',
    expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('back.infra.ts', 6), address: 'tsinfra_data.names', says: /network\.front/ }],
  },
  {
    name: 'mixed-hcl-references-missing-ts',
    expect: [{ code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 2), address: 'output.back_bridge', says: /network\.back/ }],
  },

  // Several independent errors: all reported by one run
  {
    name: 'several-errors-two-files',
    expect: [
      { code: 'E_UNKNOWN_ATTRIBUTE', ...at('net.hcl', 9, 3), address: 'network.front', says: /"mtu"/ },
      { code: 'E_INVALID_VALUE', ...at('net.hcl', 14, 3), address: 'network.back', says: /bridge/ },
      { code: 'E_UNDECLARED_REFERENCE', ...at('outputs.hcl', 6), address: 'output.missing', says: /network\.middle/ },
      { code: 'E_UNKNOWN_FUNCTION', ...at('outputs.hcl', 10), address: 'output.port', says: /"length"/ },
    ],
  },
  {
    name: 'several-errors-one-file',
    expect: [
      { code: 'E_TYPE_MISMATCH', ...at('main.hcl', 3, 3), address: 'var.mtu' },
      { code: 'E_TYPE_MISMATCH', ...at('main.hcl', 14, 3), address: 'network.a', says: /nat/ },
      { code: 'E_INVALID_GATEWAY', ...at('main.hcl', 21, 3), address: 'network.b' },
      { code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 26), address: 'tsinfra_data.c', says: /missing/ },
    ],
  },
  {
    name: 'several-errors-hcl-and-ts',
    expect: [
      { code: 'E_UNDECLARED_REFERENCE', ...at('main.hcl', 8), address: 'network.front', says: /front_subnet/ },
      { code: 'E_FUNCTION_CALL', ...at('main.hcl', 12), address: 'output.joined', says: /join/ },
      { code: 'E_UNKNOWN_ATTRIBUTE', ...at('back.infra.ts', 6), address: 'network.back', says: /"nat"/ },
      { code: 'E_INVALID_COUNT', ...at('back.infra.ts', 14), address: 'tsinfra_data.names', says: /string/ },
    ],
  },
];

/** Cases whose human-readable `validate` output is pinned by `expected.txt`. */
const GOLDEN = ['syntax-unclosed-brace', 'unknown-attribute-mtuu', 'cycle-three', 'ts-throws', 'several-errors-two-files', 'duplicate-resource-two-files'];

interface DiagnosticJson {
  severity: string;
  code: string;
  summary: string;
  detail?: string;
  address?: string;
  range?: { file: string; start: { line: number; column: number }; end: { line: number; column: number } };
  snippet?: string;
}

const scratch: string[] = [];
after(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

/** A private copy of a fixture (plus its prior state, if any) that the CLI may not modify. */
async function copyFixture(c: Pick<Case, 'name' | 'priorState'>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `tsit-malformed-${c.name}-`));
  scratch.push(dir);
  await cp(join(FIXTURES, c.name), dir, { recursive: true });
  await rm(join(dir, 'expected.txt'), { force: true });
  if (c.priorState) {
    await mkdir(join(dir, '.tsinfra'), { mode: 0o700 });
    await rename(join(dir, c.priorState), join(dir, '.tsinfra', 'state.json'));
    await chmod(join(dir, '.tsinfra', 'state.json'), 0o600);
  }
  return dir;
}

/** Every file and directory under `dir` with a content hash: equal snapshots mean nothing changed. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    const rel = relative(dir, path);
    if (e.isDirectory()) out.set(`${rel}/`, 'dir');
    else
      out.set(
        rel,
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
  }
  return out;
}

function diagnosticsOf(c: Case, stdout: string, stderr: string): DiagnosticJson[] {
  if ((c.command ?? 'validate') === 'validate') {
    const doc = JSON.parse(stdout) as { valid: boolean; error_count: number; diagnostics: DiagnosticJson[] };
    assert.equal(doc.valid, false, 'validate --json must say valid: false');
    assert.equal(doc.error_count, doc.diagnostics.filter((d) => d.severity === 'error').length, 'error_count must count the errors listed');
    return doc.diagnostics;
  }
  // plan --json prints its diagnostics as one JSON document on stderr.
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  assert.ok(line, `no JSON diagnostics on stderr:\n${stderr}`);
  return (JSON.parse(line) as { diagnostics: DiagnosticJson[] }).diagnostics;
}

function describeAll(ds: readonly DiagnosticJson[]): string {
  return ds
    .map((d) => `  ${d.code} ${d.range ? `${d.range.file}:${d.range.start.line}:${d.range.start.column}` : '(no range)'} ${d.address ?? ''} — ${d.summary}`)
    .join('\n');
}

function matches(d: DiagnosticJson, e: ExpectedDiagnostic): boolean {
  if (d.code !== e.code) return false;
  if (e.file === null) return d.range === undefined;
  return d.range?.file === e.file && (e.line === undefined || d.range.start.line === e.line);
}

function checkDiagnostic(d: DiagnosticJson, e: ExpectedDiagnostic): void {
  const where = `${e.code} at ${e.file ?? '(no file)'}:${e.line ?? ''}`;
  assert.equal(d.severity, 'error', where);
  assert.ok(d.summary.trim().length > 0, `${where}: empty summary`);
  if (e.column !== undefined) assert.equal(d.range?.start.column, e.column, `${where}: column`);
  if (e.address !== undefined) assert.equal(d.address, e.address, `${where}: address`);
  if (e.file !== null) {
    assert.ok(d.snippet && d.snippet.trim().length > 0, `${where}: no snippet`);
    assert.match(d.snippet, new RegExp(`^ *${e.line} \\|`, 'm'), `${where}: the snippet must show line ${e.line}`);
  }
  for (const s of e.summaryHas ?? []) assert.ok(d.summary.includes(s), `${where}: summary must name ${s}: ${d.summary}`);
  if (e.says) assert.match(`${d.summary}\n${d.detail ?? ''}`, e.says, `${where}: message`);
}

describe('malformed configurations are refused with precise diagnostics', { concurrency: 4 }, () => {
  test('every fixture directory has a case', async () => {
    const dirs = (await readdir(FIXTURES, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(dirs.sort(), CASES.map((c) => c.name).sort());
    assert.ok(CASES.length >= 40);
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const dir = await copyFixture(c);
      const before = await snapshot(dir);
      const command = c.command ?? 'validate';
      const args = command === 'validate' ? ['validate', '--json', dir] : ['plan', '--json', '--refresh=false', ...(c.args ?? []), dir];
      const r = await tsinfra(args);

      assert.equal(r.code, 1, `exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /TypeError|ReferenceError|^ {4}at .*\.js:\d+/m, 'the CLI crashed instead of reporting a diagnostic');
      const ds = diagnosticsOf(c, r.stdout, r.stderr);
      for (const e of c.expect) {
        const d = ds.find((x) => matches(x, e));
        assert.ok(d, `expected ${e.code} at ${e.file ?? '(no file)'}:${e.line ?? ''}, got:\n${describeAll(ds)}`);
        checkDiagnostic(d, e);
      }
      const errors = ds.filter((d) => d.severity === 'error');
      assert.equal(errors.length, c.expect.length, `no other (cascading) errors expected, got:\n${describeAll(errors)}`);

      const afterRun = await snapshot(dir);
      if (!c.priorState) assert.ok(!afterRun.has('.tsinfra/'), 'a failed run must not create a .tsinfra/ directory');
      assert.deepEqual(afterRun, before, 'a failed run must not change the directory');
    });
  }
});

describe('human-readable validate output (golden files)', { concurrency: 4 }, () => {
  for (const name of GOLDEN) {
    test(name, async () => {
      const dir = await copyFixture({ name });
      const r = await tsinfra(['validate', dir], { env: { NO_COLOR: '1' } });
      assert.equal(r.code, 1);
      assert.ok(!r.stderr.includes(dir), 'the output must not show the temporary directory');
      const expected = await readFile(join(FIXTURES, name, 'expected.txt'), 'utf8');
      assert.equal(r.stderr, expected);
    });
  }
});
