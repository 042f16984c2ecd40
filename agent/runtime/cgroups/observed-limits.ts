// Building the result of observe(): per attribute, the recorded value when the kernel
// holds what it maps to (so that rounding never shows as drift), else the kernel's
// value in user units, absent when the kernel has the default.
import type { CgroupLimits, DeviceRate } from './cgroup-manager.js';
import { ratesFromKernel, resolveRates, sameRates } from './block-devices.js';

type Mutable = { -readonly [K in keyof CgroupLimits]?: CgroupLimits[K] };

export type RateKey = 'deviceReadBps' | 'deviceWriteBps' | 'deviceReadIops' | 'deviceWriteIops';
export const RATE_KEYS: readonly RateKey[] = ['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'];

export class ObservedLimits {
  private readonly out: Mutable = {};

  constructor(private readonly recorded: CgroupLimits) {}

  /** `same`: the kernel holds what the recorded value maps to; `kernel`: its value in user units. */
  keep<K extends keyof CgroupLimits>(key: K, same: boolean, kernel: CgroupLimits[K] | undefined): void {
    const value = same ? this.recorded[key] : kernel;
    if (value !== undefined) this.out[key] = value;
  }

  /** Device rates: compared as MAJ:MIN -> rate, reported with the recorded paths. */
  async keepRates(key: RateKey, kernel: ReadonlyMap<string, number>): Promise<void> {
    let expected: Map<string, number> | undefined;
    try {
      expected = await resolveRates(this.recorded[key], key);
    } catch {
      expected = undefined; // a recorded device is gone: whatever the kernel has is drift
    }
    const same = expected !== undefined && sameRates(expected, kernel);
    const drift: DeviceRate[] | undefined = same || kernel.size === 0 ? undefined : await ratesFromKernel(kernel, this.recorded[key]);
    this.keep(key, same, drift);
  }

  result(): CgroupLimits {
    return this.out;
  }
}
