// Network sysctls of the namespace the commands run in, through `sysctl` (procps).
// Going through the command runner rather than /proc/sys keeps them in the same
// namespace as the `ip` and `nft` commands of the same code (and logs the writes).
import type { CommandRunner } from '../system/command.js';

// net.ipv4.ip_forward, net.ipv4.conf.<link>.route_localnet...: no spaces, no "=".
const KEY = /^net\.ipv4\.[a-z0-9_]+(?:\.[a-z0-9_-]+\.[a-z0-9_]+)?$/;

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error(`bug: unexpected sysctl key ${JSON.stringify(key)}`);
  return key;
}

export class NetSysctl {
  constructor(private readonly runner: CommandRunner) {}

  /** The values of the keys, in order. */
  async read(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const out = await this.runner.run(['sysctl', '-n', ...keys.map(checkKey)]);
    return out.stdout.split('\n').slice(0, keys.length);
  }

  /** Writes the keys whose value differs; returns the keys written. */
  async ensure(values: Readonly<Record<string, string>>): Promise<string[]> {
    const keys = Object.keys(values);
    const current = await this.read(keys);
    const changes = keys.filter((k, i) => current[i]?.trim() !== values[k]);
    if (changes.length > 0) await this.runner.run(['sysctl', '-w', ...changes.map((k) => `${k}=${values[k]}`)], { mutates: true });
    return changes;
  }
}
