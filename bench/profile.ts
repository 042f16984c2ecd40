// Reads V8 CPU profiles (`node --cpu-prof`) and says where the time went: self and
// inclusive time per function, and self time per source file. Used by the bench when
// tsinfra misses a target, so that its report names functions and milliseconds.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  /** `name (file:line)`, file relative to the repository. */
  readonly label: string;
  readonly selfMs: number;
  /** Time with this function anywhere on the stack (recursion counted once). */
  readonly totalMs: number;
  /** When it was first and last seen on the stack, in ms since the profile started. */
  readonly firstMs: number;
  readonly lastMs: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly durationMs: number;
  readonly functions: readonly FunctionTime[];
  /** Self time per source file (node internals and native code grouped by kind). */
  readonly files: ReadonlyArray<{ readonly file: string; readonly selfMs: number }>;
}

function displayFile(url: string, repoRoot: string): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(repoRoot)) return path.slice(repoRoot.length).replace(/^\//, '');
  return path;
}

export function summarizeProfile(profile: CpuProfile, file: string, repoRoot: string): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parentOf.set(c, n.id);
  }
  const labelOf = (n: ProfileNode): string => {
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    return f.url ? `${name} (${displayFile(f.url, repoRoot)}:${f.lineNumber + 1})` : name;
  };

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const perFile = new Map<string, number>();
  const seen = new Map<string, [number, number]>();
  let now = 0;
  // timeDeltas[i] is the time before sample i; attribute it to sample i's stack.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    now += dt;
    const leaf = byId.get(profile.samples[i]!);
    if (!leaf) continue;
    const leafLabel = labelOf(leaf);
    self.set(leafLabel, (self.get(leafLabel) ?? 0) + dt);
    const f = displayFile(leaf.callFrame.url, repoRoot);
    perFile.set(f, (perFile.get(f) ?? 0) + dt);
    const onStack = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      onStack.add(labelOf(byId.get(id)!));
    }
    for (const l of onStack) {
      total.set(l, (total.get(l) ?? 0) + dt);
      const span = seen.get(l);
      if (span) span[1] = now;
      else seen.set(l, [now, now]);
    }
  }
  const functions = [...total].map(([label, totalMs]) => {
    const [firstMs, lastMs] = seen.get(label)!;
    return { label, selfMs: self.get(label) ?? 0, totalMs, firstMs, lastMs };
  });
  return {
    file,
    durationMs: (profile.endTime - profile.startTime) / 1000,
    functions,
    files: [...perFile].map(([f, selfMs]) => ({ file: f, selfMs })).sort((a, b) => b.selfMs - a.selfMs),
  };
}

/** Summaries of every profile in `dir` (one per thread), the longest first. */
export async function summarizeProfileDir(dir: string, repoRoot: string): Promise<ProfileSummary[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile'));
  const out: ProfileSummary[] = [];
  for (const n of names) {
    const profile = JSON.parse(await readFile(join(dir, n), 'utf8')) as CpuProfile;
    out.push(summarizeProfile(profile, n, repoRoot));
  }
  return out.sort((a, b) => b.durationMs - a.durationMs);
}

const PSEUDO = new Set(['(root)', '(program)', '(idle)']);

/** A text report: top functions by self time, by inclusive time (project code only), and files. */
export function renderProfile(p: ProfileSummary, top = 15): string {
  const ms = (v: number): string => `${v.toFixed(0).padStart(7)} ms`;
  const lines = [`profile ${p.file}: ${p.durationMs.toFixed(0)} ms`];
  lines.push('  top self time:');
  for (const f of [...p.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) {
    lines.push(`  ${ms(f.selfMs)}  ${f.label}`);
  }
  lines.push('  top inclusive time (project code), with when it was on the stack:');
  const ours = p.functions.filter((f) => !PSEUDO.has(f.label) && !f.label.includes('node_modules') && /\((?!node:)[^()]*\.js:\d+\)$/.test(f.label));
  for (const f of [...ours].sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) {
    const when = `${(f.firstMs / 1000).toFixed(2)}-${(f.lastMs / 1000).toFixed(2)} s`;
    lines.push(`  ${ms(f.totalMs)}  ${f.label}  (self ${f.selfMs.toFixed(0)} ms, ${when})`);
  }
  lines.push('  self time by file:');
  for (const f of p.files.slice(0, 10)) lines.push(`  ${ms(f.selfMs)}  ${f.file}`);
  return lines.join('\n');
}
