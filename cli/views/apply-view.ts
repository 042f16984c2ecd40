// Progress of an apply, one line per event, prefixed with the resource address (and the
// host when there are several), then the summary.
import type { ApplyHooks, ApplySummary, Operation } from '../../plan-engine/apply/apply.js';
import type { Change } from '../../plan-engine/plan/model.js';
import type { Style } from './style.js';

const VERB: Record<Operation, [string, string]> = {
  create: ['Creating...', 'Creation complete'],
  update: ['Modifying...', 'Modifications complete'],
  delete: ['Destroying...', 'Destruction complete'],
};

export function progressHooks(write: (line: string) => void, style: Style, showHost: boolean): ApplyHooks {
  const prefix = (c: Change): string => style.bold(`${showHost ? `${c.host}: ` : ''}${c.address}:`);
  return {
    start: (c, op) => write(`${prefix(c)} ${VERB[op][0]}`),
    complete: (c, op, s) => write(`${prefix(c)} ${VERB[op][1]} after ${s < 10 ? s.toFixed(1) : Math.round(s)}s${idSuffix(c, op)}`),
    failed: (c, op, d) =>
      write(`${prefix(c)} ${style.red(`${op === 'delete' ? 'Destruction' : op === 'create' ? 'Creation' : 'Modification'} failed:`)} ${d.detail ?? d.summary}`),
    skipped: (c, _op, because) => write(`${prefix(c)} ${style.yellow('Skipped')} because ${because} failed`),
  };
}

function idSuffix(c: Change, op: Operation): string {
  if (op === 'delete') return '';
  const id = c.after?.['id'];
  return typeof id === 'string' ? ` [id=${id}]` : '';
}

export function summaryLine(s: ApplySummary, destroy: boolean, style: Style): string {
  const ok = s.failed === 0;
  const head = ok
    ? style.green(style.bold(destroy ? 'Destroy complete!' : 'Apply complete!'))
    : style.red(style.bold(destroy ? 'Destroy failed.' : 'Apply failed.'));
  const counts = destroy ? `Resources: ${s.destroyed} destroyed.` : `Resources: ${s.added} added, ${s.changed} changed, ${s.destroyed} destroyed.`;
  const extra = ok ? '' : ` ${s.failed} failed, ${s.skipped} skipped.`;
  return `${head} ${counts}${extra}`;
}
