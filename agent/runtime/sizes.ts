// Sizes as the configuration writes them: plain bytes or a number followed by a binary
// unit (K = 1024, M, G, T, P), e.g. `512K`, `200M`, `1.5G`, `10G`, `1T`. A trailing `B` or
// `iB` is accepted (`200MiB`, `200MB`: still binary, as Docker reads them).
// Sizes are whole bytes: `0.3K` (307.2 bytes) is refused rather than rounded.

export class SizeFormatError extends Error {
  constructor(readonly input: string) {
    super(
      `invalid size ${JSON.stringify(input)}: expected a whole number of bytes or a number followed by K, M, G, T or P (binary units), e.g. 512K, 200M, 10G`,
    );
    this.name = 'SizeFormatError';
  }
}

const UNITS = ['', 'K', 'M', 'G', 'T', 'P'] as const;
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i;

function unitFactor(unit: string): number {
  return 1024 ** UNITS.indexOf(unit.toUpperCase() as (typeof UNITS)[number]);
}

/** Bytes of `value` (a number is taken as bytes); throws SizeFormatError. */
export function parseSize(value: string | number): number {
  const bytes = tryParseSize(value);
  if (bytes === undefined) throw new SizeFormatError(String(value));
  return bytes;
}

/** Bytes of `value`, or undefined when it is not a size. */
export function tryParseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE.exec(value.trim());
  if (!m) return undefined;
  const [, digits, unit] = m as unknown as [string, string, string];
  // Exact arithmetic on the decimal digits: 1.1G must not pick up binary float noise.
  const [whole, fraction = ''] = digits.split('.');
  const scaled = BigInt(whole + fraction) * BigInt(unitFactor(unit));
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) return undefined;
  const bytes = scaled / divisor;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : undefined;
}

/**
 * `bytes` in the largest unit that divides it exactly (`209715200` -> `200M`, `1536M`
 * for 1.5 GiB, `1000` stays `1000`): parseSize(formatSize(n)) === n. With
 * `approximate`, the largest unit not above the value with one decimal at most
 * (`1.5G`, `12.3M`), for display only.
 */
export function formatSize(bytes: number, options: { approximate?: boolean } = {}): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`bug: formatSize of ${bytes}`);
  if (options.approximate) {
    let i = 0;
    while (i < UNITS.length - 1 && bytes >= 1024 ** (i + 1)) i++;
    const value = bytes / 1024 ** i;
    const shown = Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
    return shown + UNITS[i];
  }
  if (bytes === 0) return '0';
  for (let i = UNITS.length - 1; i > 0; i--) {
    const factor = 1024 ** i;
    if (bytes % factor === 0) return `${bytes / factor}${UNITS[i]}`;
  }
  return String(bytes);
}
