// Runs security-child.js with a config and returns its report and the output of the
// command it exec'd. spawnSync waits for the child (and kills it on timeout), so no
// process outlives a test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ChildConfig, ChildReport } from './security-child.js';

const CHILD = new URL('./security-child.js', import.meta.url).pathname;

export interface ChildOutcome {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly report: ChildReport;
  /** What the exec'd command wrote, after the report line. */
  readonly execOutput: string;
  readonly stderr: string;
}

export function runSecurityChild(config: ChildConfig): ChildOutcome {
  const r = spawnSync(process.execPath, [CHILD], {
    env: { ...process.env, TSI_SECURITY_CHILD: JSON.stringify(config) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const newline = r.stdout.indexOf('\n');
  assert.ok(newline > 0, `child printed no report (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return {
    status: r.status,
    signal: r.signal,
    report: JSON.parse(r.stdout.slice(0, newline)) as ChildReport,
    execOutput: r.stdout.slice(newline + 1),
    stderr: r.stderr,
  };
}
