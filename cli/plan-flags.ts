// Flags shared by plan, apply and destroy, and their translation into a PlanRequest.
import { Errors, Flags } from '@oclif/core';
import type { PlanMode } from '../plan-engine/plan/model.js';
import type { PlanRequest } from '../plan-engine/run.js';

export const planFlags = {
  target: Flags.string({ description: 'Limit the run to this resource and what it depends on (repeatable).', multiple: true, multipleNonGreedy: true }),
  replace: Flags.string({ description: 'Force replacement of this resource instance (repeatable).', multiple: true, multipleNonGreedy: true }),
  refresh: Flags.boolean({
    description: 'Read the real objects from the hosts first (--no-refresh or --refresh=false to skip).',
    default: true,
    allowNo: true,
  }),
  'refresh-only': Flags.boolean({ description: 'Only update the state to match the hosts; change nothing on them.', default: false }),
  parallelism: Flags.integer({ description: 'How many hosts to work on at once (up to 10 operations run at once on each host).', default: 10, min: 1 }),
  lock: Flags.boolean({ description: 'Lock the state during the run.', default: true, allowNo: true }),
};

/**
 * Accepts flags as Terraform users type them: `-var x=1` (one dash, as the SPEC
 * writes it) and `--refresh=false` (oclif's boolean flags take no value).
 */
export function normalizeArgv(argv: string[]): string[] {
  return argv.map((arg) => {
    const a = /^-[a-z][a-z-]+(=.*)?$/.test(arg) ? `-${arg}` : arg;
    if (a === '--refresh=false') return '--no-refresh';
    if (a === '--refresh=true') return '--refresh';
    if (a === '--lock=false') return '--no-lock';
    if (a === '--lock=true') return '--lock';
    return a;
  });
}

export function planRequest(
  flags: { target?: string[] | undefined; replace?: string[] | undefined; refresh: boolean; 'refresh-only': boolean },
  destroy: boolean,
): PlanRequest {
  if (destroy && flags['refresh-only']) throw new Errors.CLIError('--destroy and --refresh-only cannot be used together', { exit: 1 });
  const mode: PlanMode = destroy ? 'destroy' : flags['refresh-only'] ? 'refresh-only' : 'normal';
  return { mode, refresh: flags.refresh, targets: flags.target ?? [], replace: flags.replace ?? [] };
}
