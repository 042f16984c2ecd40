// Renders diagnostics for people (file, line, snippet, detail) or as JSON.
import type { Diagnostic } from '../../plan-engine/diagnostics.js';
import { snippet } from '../../plan-engine/config/hcl-source.js';
import type { Style } from './style.js';

export function renderDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>, style: Style): string {
  const head = d.severity === 'error' ? style.red(style.bold('Error:')) : style.yellow(style.bold('Warning:'));
  const lines = [`${head} ${style.bold(d.summary)} ${style.dim(`[${d.code}]`)}`];
  if (d.range || d.address) {
    lines.push('');
    const where: string[] = [];
    if (d.range) where.push(`on ${d.range.file} line ${d.range.start.line}${d.range.start.column > 1 ? `, column ${d.range.start.column}` : ''}`);
    if (d.address) where.push(`in ${d.address}`);
    lines.push(`  ${where.join(', ')}:`);
    const source = d.range ? sources.get(d.range.file) : undefined;
    if (d.range && source !== undefined) {
      lines.push(
        snippet(source, d.range)
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n'),
      );
    }
  }
  if (d.detail) lines.push('', d.detail);
  return lines.join('\n') + '\n';
}

export function renderDiagnostics(ds: readonly Diagnostic[], sources: ReadonlyMap<string, string>, style: Style): string {
  return ds.map((d) => renderDiagnostic(d, sources, style)).join('\n');
}

/** The JSON form: the diagnostic itself plus the snippet text when the source is known. */
export function diagnosticJson(d: Diagnostic, sources: ReadonlyMap<string, string>): Record<string, unknown> {
  const source = d.range ? sources.get(d.range.file) : undefined;
  return { ...d, ...(d.range && source !== undefined ? { snippet: snippet(source, d.range) } : {}) };
}
