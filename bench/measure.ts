// Runs one command and measures its wall time, CPU time and peak memory.
//
// Peak memory comes from GNU time's %M: the kernel's own high-water mark of resident
// memory (ru_maxrss from wait4), so a peak that lasts a microsecond is still counted,
// which no /proc polling can promise. Its limit: for a tree of processes it is the
// largest single process, not the sum. Both tools run as one process here (tsinfra's
// parser workers are threads, terraform_data is built into Terraform), and a slow
// /proc scan during the run checks that: if it ever sees more than one process, the
// sample carries the process count and the largest sum of VmRSS seen, so a report
// never shows a single-process figure for a tree without saying so.
//
// Wall time is taken here (monotonic clock, spawn to exit) because %e has only 10 ms
// resolution; the extra fork of `time` costs well under a millisecond.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const TREE_POLL_MS = 200;

export interface Sample {
  readonly wallMs: number;
  readonly userS: number;
  readonly sysS: number;
  /** Kernel high-water mark of the largest process in the tree, in KiB. */
  readonly peakRssKb: number;
  /** Most processes seen at once (by polling); 1 for a single-process tool. */
  readonly maxProcesses: number;
  /** Largest polled sum of VmRSS over the tree, in KiB; only set when maxProcesses > 1. */
  readonly polledTreeRssKb?: number;
  readonly exitCode: number;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr are written here (not piped through this process). */
  readonly stdoutFile: string;
  readonly stderrFile: string;
}

/** Installs Debian's `time` package when /usr/bin/time is missing (needs root and apt). */
export function ensureGnuTime(): void {
  if (existsSync(GNU_TIME)) return;
  process.stderr.write('bench: /usr/bin/time is missing, installing Debian package "time"...\n');
  const apt = spawnSync('sh', ['-c', 'apt-get install -y -q time || (apt-get update -q && apt-get install -y -q time)'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (apt.status !== 0 || !existsSync(GNU_TIME)) {
    throw new Error('bench: could not install GNU time (apt-get install time); install it and rerun');
  }
}

export async function measure(command: string, args: readonly string[], opts: RunOptions): Promise<Sample> {
  const scratch = await mkdtemp(join(tmpdir(), 'tsinfra-bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const out = openSync(opts.stdoutFile, 'w');
  const err = openSync(opts.stderrFile, 'w');
  try {
    const started = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%e %U %S %M', '-o', timeFile, '--', command, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', out, err],
    });
    const tree = watchTree(child.pid!);
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const seen = tree.stop();
    const [, user, sys, rss] = parseTimeOutput(await readFile(timeFile, 'utf8'));
    return {
      wallMs,
      userS: user,
      sysS: sys,
      peakRssKb: rss,
      maxProcesses: seen.maxProcesses,
      ...(seen.maxProcesses > 1 ? { polledTreeRssKb: seen.maxRssKb } : {}),
      exitCode,
    };
  } finally {
    closeSync(out);
    closeSync(err);
    await rm(scratch, { recursive: true, force: true });
  }
}

/** GNU time writes "Command exited with non-zero status N" before the figures on failure. */
function parseTimeOutput(text: string): [number, number, number, number] {
  const line = text.trim().split('\n').at(-1) ?? '';
  const fields = line.split(' ').map(Number);
  if (fields.length !== 4 || fields.some((f) => !Number.isFinite(f))) {
    throw new Error(`bench: unexpected GNU time output: ${JSON.stringify(text)}`);
  }
  return fields as [number, number, number, number];
}

interface TreeWatch {
  stop(): { maxProcesses: number; maxRssKb: number };
}

/**
 * Polls /proc for the descendants of `rootPid` (the `time` process, not counted). This
 * kernel has no /proc/PID/task/TID/children, so each poll reads every /proc/N/stat:
 * about 2 ms, which is why it runs only every TREE_POLL_MS.
 */
function watchTree(rootPid: number): TreeWatch {
  let maxProcesses = 0;
  let maxRssKb = 0;
  const poll = (): void => {
    const parentOf = new Map<number, number>();
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Fields after the command name, which is in parentheses and may hold spaces.
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        parentOf.set(pid, Number(rest[1]));
      } catch {
        // The process exited between readdir and read.
      }
    }
    const inTree = new Set([rootPid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, ppid] of parentOf) {
        if (!inTree.has(pid) && inTree.has(ppid)) {
          inTree.add(pid);
          grew = true;
        }
      }
    }
    inTree.delete(rootPid);
    let rss = 0;
    for (const pid of inTree) rss += readVmRssKb(pid);
    maxProcesses = Math.max(maxProcesses, inTree.size);
    maxRssKb = Math.max(maxRssKb, rss);
  };
  const timer = setInterval(poll, TREE_POLL_MS);
  return {
    stop() {
      clearInterval(timer);
      return { maxProcesses: Math.max(1, maxProcesses), maxRssKb };
    },
  };
}

function readVmRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Medians over repeated runs, with the spread of the wall time. */
export interface Summary {
  readonly runs: number;
  readonly wallMs: number;
  readonly wallMinMs: number;
  readonly wallMaxMs: number;
  readonly cpuS: number;
  readonly peakRssKb: number;
  readonly maxProcesses: number;
  readonly polledTreeRssKb?: number;
}

export function summarize(samples: readonly Sample[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const walls = samples.map((s) => s.wallMs);
  const tree = samples.map((s) => s.polledTreeRssKb).filter((v): v is number => v !== undefined);
  return {
    runs: samples.length,
    wallMs: median(walls),
    wallMinMs: Math.min(...walls),
    wallMaxMs: Math.max(...walls),
    cpuS: median(samples.map((s) => s.userS + s.sysS)),
    peakRssKb: median(samples.map((s) => s.peakRssKb)),
    maxProcesses: Math.max(...samples.map((s) => s.maxProcesses)),
    ...(tree.length ? { polledTreeRssKb: Math.max(...tree) } : {}),
  };
}
