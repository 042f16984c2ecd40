// `npm run bench`: tsinfra's plan/apply speed and memory beside Terraform's, in one run
// on one machine, with the same configuration shape (see generate.ts).
//
//   node dist/bench/run.js [--runs N] [--small-runs N] [--profile] [--apply-10k] [--keep]
//
// Each measurement alternates the two tools run by run, so that load from elsewhere hits
// both alike, and reports medians. Every run's exit code and output are checked ("Plan:
// 10000 to add", "No changes"), so a failure is reported as one, never timed as a result.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateConfig, HOSTS, terraformState, tsinfraState, writeConfig, type Tool } from './generate.js';
import { ensureGnuTime, measure, summarize, type Sample } from './measure.js';
import { renderProfile, summarizeProfileDir } from './profile.js';
import { formatKb, formatMs, renderComparison, renderDetails, type Cell, type Row } from './report.js';
import { LocalBackend } from '../state/local-backend.js';

// dist/bench/run.js -> the repository root, whose bin/run.js loads dist/cli/commands.
const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const CLI = join(REPO, 'bin', 'run.js');
const HCL2JSON = join(REPO, 'node_modules', '@cdktf', 'hcl2json', 'lib', 'index.js');

const TARGET_PLAN_MS = 2000;
const TARGET_PLAN_RSS_KB = 400 * 1024;
const TARGET_SPEEDUP = 5;

interface Options {
  runs: number;
  smallRuns: number;
  profile: boolean;
  apply10k: boolean;
  keep: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { runs: 3, smallRuns: 5, profile: false, apply10k: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const count = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${a} needs a positive whole number`);
      return n;
    };
    if (a === '--runs') o.runs = count();
    else if (a === '--small-runs') o.smallRuns = count();
    else if (a === '--profile') o.profile = true;
    else if (a === '--apply-10k') o.apply10k = true;
    else if (a === '--keep') o.keep = true;
    else throw new Error(`bench: unknown argument ${a} (known: --runs N, --small-runs N, --profile, --apply-10k, --keep)`);
  }
  return o;
}

/** One tool's command in one measurement, with what its output must show. */
interface Job {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Runs before every measured run, unmeasured (e.g. remove the state of the last apply). */
  readonly before?: () => Promise<void>;
  /** A text the output must contain. */
  readonly expect: RegExp;
}

class Bench {
  readonly rows: Row[] = [];
  readonly failures: string[] = [];
  private logCount = 0;

  constructor(readonly work: string) {}

  /** Runs the jobs `runs` times, alternating tools, and records one comparison row. */
  async compare(label: string, runs: number, jobs: Partial<Record<Tool, Job>>, skipped: Partial<Record<Tool, string>> = {}): Promise<Row> {
    process.stderr.write(`bench: ${label} ...`);
    const samples: Record<Tool, Sample[]> = { tsinfra: [], terraform: [] };
    const failed: Partial<Record<Tool, string>> = {};
    for (let i = 0; i < runs; i++) {
      for (const tool of ['tsinfra', 'terraform'] as const) {
        const job = jobs[tool];
        if (!job || failed[tool]) continue;
        const r = await this.runChecked(job);
        if (r.sample) samples[tool].push(r.sample);
        else {
          failed[tool] = `failed: ${r.error}`;
          this.failures.push(`${label} (${tool}): ${r.error}`);
        }
      }
    }
    const cell = (tool: Tool): Cell => failed[tool] ?? (samples[tool].length ? summarize(samples[tool]) : (skipped[tool] ?? 'not measured'));
    const row: Row = { label, tsinfra: cell('tsinfra'), terraform: cell('terraform') };
    this.rows.push(row);
    const brief = (c: Cell): string => (typeof c === 'string' ? c.split(':')[0]! : `${formatMs(c.wallMs)} ${formatKb(c.peakRssKb)}`);
    const tf = row.terraform === '' ? '' : ` | terraform ${brief(row.terraform)}`;
    process.stderr.write(` tsinfra ${brief(row.tsinfra)}${tf}\n`);
    return row;
  }

  /** One measured run; `error` says why it does not count. */
  async runChecked(job: Job): Promise<{ sample?: Sample; error?: string; stderr: string }> {
    await job.before?.();
    const n = this.logCount++;
    const stdoutFile = join(this.work, 'logs', `${n}.out`);
    const stderrFile = join(this.work, 'logs', `${n}.err`);
    const sample = await measure(job.command, job.args, { cwd: job.cwd, env: job.env, stdoutFile, stderrFile });
    const stdout = await readFile(stdoutFile, 'utf8');
    const stderr = await readFile(stderrFile, 'utf8');
    const tail = (stderr.trim() || stdout.trim()).split('\n').slice(-3).join(' / ');
    if (sample.exitCode !== 0) return { error: `exit code ${sample.exitCode}: ${tail}`, stderr };
    if (!job.expect.test(stdout)) return { error: `output lacks /${job.expect.source}/: ${tail}`, stderr };
    return { sample, stderr };
  }

  /** An unmeasured command that must succeed (terraform init, warm-up). */
  setup(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): void {
    const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) {
      throw new Error(`bench: ${command} ${args.join(' ')} failed in ${cwd}:\n${r.stderr || r.stdout}`);
    }
  }
}

function tsinfraEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // A user's state key or variables would change what is measured.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TSINFRA_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

function terraformEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TF_')) env[k] = v;
  // No prompts, no "next steps" hints, no CLI config warning, no version check over the network.
  return { ...env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' };
}

function terraformVersion(): string | undefined {
  const r = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8', env: terraformEnv() });
  if (r.status !== 0 || r.error) return undefined;
  return (JSON.parse(r.stdout) as { terraform_version: string }).terraform_version;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  ensureGnuTime();
  if (!existsSync(join(REPO, 'dist', 'cli', 'commands'))) throw new Error('bench: dist/ is not built; run `npm run bench` (it builds first)');
  const tfVersion = terraformVersion();
  const work = join(REPO, 'bench', 'out', `run-${process.pid}`);
  await mkdir(join(work, 'logs'), { recursive: true });
  const bench = new Bench(work);
  const noTf = tfVersion ? undefined : 'not measured: terraform is not on PATH';

  console.log('tsinfra vs Terraform: plan/apply of terraform_data-like resources');
  console.log(
    `node ${process.version}, terraform ${tfVersion ?? '(not installed)'}, ${availableParallelism()} cores, ` +
      `${formatKb(totalmem() / 1024)}, load average at start ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log(`shape: ${HOSTS} hosts, ${HOSTS} roots, every other resource references its group's root\n`);

  const started = Date.now();
  try {
    await runAll(bench, opts, work, tfVersion !== undefined, noTf);
  } finally {
    if (!opts.keep) {
      await rm(work, { recursive: true, force: true });
      await rmdir(join(REPO, 'bench', 'out')).catch(() => undefined); // only when empty
    } else console.log(`\nwork directory kept: ${work}`);
  }
  console.log(`\nbench took ${formatMs(Date.now() - started)}`);
  if (bench.failures.length) {
    console.log('\nFAILED runs (not timed):');
    for (const f of bench.failures) console.log(`  ${f}`);
    return 1;
  }
  return 0;
}

async function runAll(bench: Bench, opts: Options, work: string, haveTf: boolean, noTf: string | undefined): Promise<void> {
  // tsinfra caches parse results by content hash: "cold" rows clear the cache before each run.
  const parseCache = join(work, 'parse-cache');
  const tsEnv = tsinfraEnv({ TSINFRA_CACHE_DIR: parseCache });
  const clearCache = (): Promise<void> => rm(parseCache, { recursive: true, force: true });
  const tfEnv = terraformEnv();
  const skipped = noTf ? { terraform: noTf } : {};

  // ---- configurations ----
  const dirs = new Map<string, string>();
  const prepare = async (tool: Tool, count: number, files: number): Promise<string> => {
    const dir = join(work, `${tool}-${count}-${files}f`);
    await writeConfig(dir, generateConfig(tool, count, files));
    if (tool === 'terraform' && haveTf) bench.setup('terraform', ['init', '-input=false', '-no-color'], dir, tfEnv);
    dirs.set(`${tool}-${count}-${files}`, dir);
    return dir;
  };
  for (const [count, files] of [
    [1000, 1],
    [10000, 1],
    [10000, 10],
  ] as const) {
    await prepare('tsinfra', count, files);
    if (haveTf) await prepare('terraform', count, files);
  }
  const dir = (tool: Tool, count: number, files = 1): string => dirs.get(`${tool}-${count}-${files}`)!;

  const tsJob = (args: readonly string[], cwd: string, expect: RegExp, before?: () => Promise<void>): Job => ({
    command: process.execPath,
    args: [CLI, ...args],
    cwd,
    env: tsEnv,
    expect,
    ...(before ? { before } : {}),
  });
  const tfJob = (args: readonly string[], cwd: string, expect: RegExp, before?: () => Promise<void>): Job | undefined =>
    haveTf ? { command: 'terraform', args, cwd, env: tfEnv, expect, ...(before ? { before } : {}) } : undefined;
  const tsPlan = (count: number, files: number, expect: RegExp, cold = false): Job =>
    tsJob(['plan', '--refresh=false', '--no-color', dir('tsinfra', count, files)], work, expect, cold ? clearCache : undefined);
  const tfPlan = (count: number, files: number, expect: RegExp): Job | undefined =>
    haveTf
      ? tfJob(['plan', '-refresh=false', '-input=false', '-lock=false', '-no-color', '-out=bench.tfplan'], dir('terraform', count, files), expect)
      : undefined;
  const jobs = (ts: Job, tf: Job | undefined): Partial<Record<Tool, Job>> => (tf ? { tsinfra: ts, terraform: tf } : { tsinfra: ts });
  const toAdd = (n: number): RegExp => new RegExp(`Plan: ${n} to add, 0 to change, 0 to destroy`);
  const noChanges = /No changes\./;

  // Warm-up: page cache, and the first-run costs neither tool pays again.
  await bench.runChecked(tsPlan(1000, 1, toAdd(1000)));
  const tfWarm = tfPlan(1000, 1, toAdd(1000));
  if (tfWarm) await bench.runChecked(tfWarm);

  // ---- 1. plan, no state ----
  await bench.compare('plan 1,000, no state, cold cache', opts.smallRuns, jobs(tsPlan(1000, 1, toAdd(1000), true), tfPlan(1000, 1, toAdd(1000))), skipped);
  const plan10k = await bench.compare(
    'plan 10,000, no state, cold cache',
    opts.runs,
    jobs(tsPlan(10000, 1, toAdd(10000), true), tfPlan(10000, 1, toAdd(10000))),
    skipped,
  );
  await bench.compare('plan 10,000, no state, warm cache', opts.runs, jobs(tsPlan(10000, 1, toAdd(10000)), tfPlan(10000, 1, toAdd(10000))), skipped);
  await bench.compare('plan 10,000 in 10 files, cold cache', opts.runs, jobs(tsPlan(10000, 10, toAdd(10000), true), tfPlan(10000, 10, toAdd(10000))), skipped);

  // ---- 2. apply 1,000 from nothing (each run starts without state) ----
  const ts1k = dir('tsinfra', 1000);
  const applied = /Apply complete! Resources: 1000 added, 0 changed, 0 destroyed/;
  const tsApply = tsJob(['apply', '--auto-approve', '--parallelism=10', '--no-color', ts1k], work, applied, () =>
    rm(join(ts1k, '.tsinfra'), { recursive: true, force: true }),
  );
  const tfApply = haveTf
    ? tfJob(['apply', '-auto-approve', '-parallelism=10', '-input=false', '-no-color'], dir('terraform', 1000), applied, async () => {
        for (const f of ['terraform.tfstate', 'terraform.tfstate.backup']) await rm(join(dir('terraform', 1000), f), { force: true });
      })
    : undefined;
  await bench.compare('apply 1,000 (parallelism 10)', opts.runs, jobs(tsApply, tfApply), skipped);

  // ---- 3. re-plan with a full state ----
  await bench.compare('re-plan 1,000 (state from apply)', opts.smallRuns, jobs(tsPlan(1000, 1, noChanges), tfPlan(1000, 1, noChanges)), skipped);

  const ts10k = dir('tsinfra', 10000);
  let tsStateHow = 'generated';
  if (opts.apply10k) {
    tsStateHow = 'from apply';
    await bench.compare(
      'apply 10,000 (tsinfra only)',
      1,
      {
        tsinfra: tsJob(['apply', '--auto-approve', '--parallelism=10', '--no-color', ts10k], work, /Apply complete! Resources: 10000 added/),
      },
      { terraform: 'not measured: takes Terraform minutes' },
    );
  } else {
    // A real 10k apply takes tsinfra a while (--apply-10k measures it);
    // tsinfraState() builds the state it leaves.
    await new LocalBackend({ dir: ts10k, stateKey: null }).writeState(tsinfraState(10000));
  }
  if (haveTf) await writeFile(join(dir('terraform', 10000), 'terraform.tfstate'), terraformState(10000));
  await bench.compare(
    `re-plan 10,000 (state ${tsStateHow}${opts.apply10k ? ' | generated' : ''})`,
    opts.runs,
    jobs(tsPlan(10000, 1, noChanges), tfPlan(10000, 1, noChanges)),
    skipped,
  );

  // ---- 4. tsinfra breakdown, measured from outside ----
  const nodeStart = await bench.compare(
    '  node -e 0',
    opts.smallRuns,
    {
      tsinfra: { command: process.execPath, args: ['-e', '0'], cwd: work, env: tsEnv, expect: /^/ },
    },
    { terraform: '' },
  );
  const hclImport = await bench.compare(
    '  node: import @cdktf/hcl2json',
    opts.smallRuns,
    {
      tsinfra: {
        command: process.execPath,
        args: ['--input-type=module', '-e', `await import(${JSON.stringify(HCL2JSON)})`],
        cwd: REPO,
        env: tsEnv,
        expect: /^/,
      },
    },
    { terraform: '' },
  );
  const cliStart = await bench.compare(
    '  tsinfra --version (CLI start)',
    opts.smallRuns,
    {
      tsinfra: tsJob(['--version'], work, /tsinfra\//),
    },
    { terraform: '' },
  );
  const validate10k = await bench.compare(
    '  tsinfra validate 10,000',
    opts.runs,
    {
      tsinfra: tsJob(['validate', '--no-color', ts10k], work, /./),
    },
    { terraform: '' },
  );
  const timings = await engineTimings(bench, tsJob(['plan', '--refresh=false', '--no-color', dir('tsinfra', 10000)], work, noChanges));

  printResults(bench, plan10k, [nodeStart, hclImport, cliStart, validate10k], timings);

  const missed = targetsMissed(plan10k);
  if (opts.profile || missed.length) await profileTsinfra(work, dir('tsinfra', 10000, 1), ts1k, opts.profile);
}

/** Phase timings the engine prints itself when TSINFRA_TIMINGS=1, if it does. */
async function engineTimings(bench: Bench, job: Job): Promise<string> {
  const withTimings: Job = { ...job, env: tsinfraEnv({ TSINFRA_TIMINGS: '1' }) };
  const r = await bench.runChecked(withTimings);
  if (r.error) return `plan with TSINFRA_TIMINGS=1 failed: ${r.error}`;
  const stderr = r.stderr.trim();
  return stderr ? `\n${stderr}` : 'none (with TSINFRA_TIMINGS=1 the engine printed nothing on stderr)';
}

function targetsMissed(plan10k: Row): string[] {
  const ts = plan10k.tsinfra;
  if (typeof ts === 'string') return ['plan 10,000 did not run'];
  const missed: string[] = [];
  if (ts.wallMs >= TARGET_PLAN_MS) missed.push(`time ${formatMs(ts.wallMs)} (target < ${formatMs(TARGET_PLAN_MS)})`);
  if (ts.peakRssKb >= TARGET_PLAN_RSS_KB) missed.push(`memory ${formatKb(ts.peakRssKb)} (target < ${formatKb(TARGET_PLAN_RSS_KB)})`);
  const tf = plan10k.terraform;
  if (typeof tf !== 'string' && tf.wallMs / ts.wallMs < TARGET_SPEEDUP) {
    missed.push(`speed-up ${(tf.wallMs / ts.wallMs).toFixed(2)}x over Terraform (target >= ${TARGET_SPEEDUP}x)`);
  }
  return missed;
}

function printResults(bench: Bench, plan10k: Row, breakdown: readonly Row[], timings: string): void {
  const main = bench.rows.filter((r) => !breakdown.includes(r));
  console.log('\nMedians; tf÷ts above 1 means tsinfra is faster / smaller by that factor.\n');
  console.log(renderComparison(main));
  console.log('\nDetails\n');
  console.log(renderDetails(bench.rows));

  const missed = targetsMissed(plan10k);
  console.log(
    `\nTargets for plan 10,000 (< ${formatMs(TARGET_PLAN_MS)}, < ${formatKb(TARGET_PLAN_RSS_KB)}, >= ${TARGET_SPEEDUP}x Terraform): ` +
      (missed.length ? `MISSED: ${missed.join('; ')}` : 'met'),
  );

  const [nodeStart, hclImport, cliStart, validate] = breakdown.map((r) => r.tsinfra);
  const plan = plan10k.tsinfra;
  const replan = bench.rows.find((r) => r.label.startsWith('re-plan 10,000'))?.tsinfra;
  console.log('\ntsinfra breakdown, from outside (medians; differences of whole runs):');
  const ms = (c: Cell | undefined): number | undefined => (c && typeof c !== 'string' ? c.wallMs : undefined);
  const line = (what: string, a: number | undefined, b = 0): void =>
    console.log(`  ${what.padEnd(58)} ${a === undefined ? 'n/a' : formatMs(a - b).padStart(9)}`);
  line('node start (node -e 0)', ms(nodeStart));
  line('importing @cdktf/hcl2json starts its WASM (import - node)', ms(hclImport), ms(nodeStart));
  line('CLI start: oclif and command modules (--version - node)', ms(cliStart), ms(nodeStart));
  line('load + validate 10,000 (validate - --version)', ms(validate), ms(cliStart));
  line('plan beyond validate: graph, diff, render (plan - validate)', ms(plan), ms(validate));
  line('re-plan 10,000 with state beyond validate (re-plan - validate)', ms(replan), ms(validate));
  console.log(`  engine-reported phase timings: ${timings}`);
}

async function profileTsinfra(work: string, plan10kDir: string, apply1kDir: string, alsoApply: boolean): Promise<void> {
  const profiles: Array<[string, string[]]> = [['plan 10,000, no state', ['plan', '--refresh=false', '--no-color', plan10kDir]]];
  if (alsoApply) profiles.push(['apply 1,000', ['apply', '--auto-approve', '--no-color', apply1kDir]]);
  for (const [what, args] of profiles) {
    const profDir = join(work, `profile-${profiles.findIndex((p) => p[0] === what)}`);
    if (what.startsWith('apply')) await rm(join(apply1kDir, '.tsinfra'), { recursive: true, force: true });
    if (what.startsWith('plan')) await rm(join(plan10kDir, '.tsinfra'), { recursive: true, force: true });
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, CLI, ...args], {
      cwd: work,
      env: tsinfraEnv(),
      encoding: 'utf8',
      maxBuffer: 256 << 20,
    });
    console.log(`\nCPU profile of tsinfra ${what} (exit code ${r.status}; profiling slows it down):`);
    const summaries = await summarizeProfileDir(profDir, REPO);
    if (!summaries.length) {
      console.log('  no profile was written');
      continue;
    }
    console.log(renderProfile(summaries[0]!, 15));
    for (const s of summaries.slice(1)) console.log(`  other thread ${s.file}: ${formatMs(s.durationMs)}`);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
