// Phase timings for performance work: TSINFRA_TIMINGS=1 prints, on stderr at exit, how
// long each phase of the run took. Costs nothing when unset.
const enabled = process.env['TSINFRA_TIMINGS'] === '1';
const start = performance.now();
const phases: [string, number][] = [];

/** Records that a phase ended now. */
export function phaseDone(name: string): void {
  if (enabled) phases.push([name, performance.now()]);
}

if (enabled) {
  process.on('exit', () => {
    let prev = start;
    const lines = phases.map(([name, t]) => {
      const line = `  ${name.padEnd(28)} ${(t - prev).toFixed(0).padStart(6)} ms`;
      prev = t;
      return line;
    });
    process.stderr.write(`tsinfra timings (since process start ${start.toFixed(0)} ms):\n${lines.join('\n')}\n`);
  });
}
