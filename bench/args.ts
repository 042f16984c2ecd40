// Command-line arguments of the benches.

/** The value of `flag` as a whole number of at least 1, or an error that names the flag. */
export function positiveArg(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`bench: ${flag} needs a positive whole number, not ${JSON.stringify(value)}`);
  return n;
}
