// Diagnostics are values, not exceptions: every phase returns its result together
// with the problems it found, so that a run can report all user errors at once.
// Code throws only for bugs.

export type Severity = 'error' | 'warning';

/** A 1-based line and column in a source file. */
export interface SourcePos {
  readonly line: number;
  readonly column: number;
}

export interface SourceRange {
  readonly file: string;
  readonly start: SourcePos;
  readonly end: SourcePos;
}

export interface Diagnostic {
  readonly severity: Severity;
  /** Stable, documented identifier (for example `E_UNKNOWN_ATTRIBUTE`); tests and tools match on it. */
  readonly code: string;
  readonly summary: string;
  readonly detail?: string;
  /** The resource, host, variable... address in HCL syntax, when one applies. */
  readonly address?: string;
  readonly range?: SourceRange;
}

/** A value together with the diagnostics produced while computing it. */
export interface Result<T> {
  readonly value: T;
  readonly diagnostics: readonly Diagnostic[];
}

/** Collects diagnostics across a phase; `hasErrors` decides whether to go on. */
export class Diagnostics {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): this {
    this.items.push(d);
    return this;
  }

  error(code: string, summary: string, extra: Omit<Diagnostic, 'severity' | 'code' | 'summary'> = {}): this {
    return this.add({ severity: 'error', code, summary, ...extra });
  }

  warning(code: string, summary: string, extra: Omit<Diagnostic, 'severity' | 'code' | 'summary'> = {}): this {
    return this.add({ severity: 'warning', code, summary, ...extra });
  }

  append(ds: Iterable<Diagnostic>): this {
    for (const d of ds) this.items.push(d);
    return this;
  }

  /** Appends the diagnostics of a result and returns its value. */
  take<T>(r: Result<T>): T {
    this.append(r.diagnostics);
    return r.value;
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}

/** Fills in the address and range of diagnostics that lack them (a validator reports a path, the caller knows where). */
export function withContext(ds: readonly Diagnostic[], ctx: { address?: string | undefined; range?: SourceRange | undefined }): Diagnostic[] {
  return ds.map((d) => {
    const out: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { ...d };
    if (out.address === undefined && ctx.address !== undefined) out.address = ctx.address;
    if (out.range === undefined && ctx.range !== undefined) out.range = ctx.range;
    return out;
  });
}

/**
 * A diagnostic about an expression or attribute that involves a secret must not quote
 * values: quoted strings and the numbers after "got" are replaced, and the reader is told why.
 */
export function redactValues(d: Diagnostic): Diagnostic {
  const scrub = (s: string): string =>
    s.replace(/"(?:[^"\\]|\\.)*"/g, '(sensitive value)').replace(/\b(got|Got)( [a-z]+)? -?\d+(\.\d+)?/g, '$1$2 (sensitive value)');
  return {
    ...d,
    summary: scrub(d.summary),
    detail: `${d.detail ? `${scrub(d.detail)} ` : ''}(Values are hidden: this involves a sensitive value.)`,
  };
}

/** Error class for failures that are the user's or the environment's, carrying diagnostics up to the CLI. */
export class DiagnosticError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.summary).join('; '));
    this.name = 'DiagnosticError';
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate within a small edit distance, or undefined. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  const limit = Math.max(2, Math.floor(name.length / 3));
  return bestDist <= limit ? best : undefined;
}
