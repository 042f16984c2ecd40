// Links and addresses through iproute2: `ip -j ...` for reading (JSON, parsed with
// zod), plain `ip ...` with argv arrays for writing. Callers check link names first.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import type { CommandOutput, CommandRunner } from '../system/command.js';
import { describeIssues } from '../rpc/zod-issues.js';

export interface LinkAddress {
  readonly family: 'inet' | 'inet6';
  readonly address: string;
  readonly prefix: number;
  readonly scope: string;
}

export interface Link {
  readonly name: string;
  /** `bridge`, `veth`, `vxlan`...; null for physical devices. */
  readonly kind: string | null;
  readonly mtu: number;
  /** Administratively up (`ip link set up`). */
  readonly up: boolean;
  /** PROMISC as set with `ip link set promisc on` (not the kernel's internal users). */
  readonly promisc: boolean;
  /** The device this one sits on (a VLAN's base), when it is in this namespace. */
  readonly lower: string | null;
  /** The 802.1Q id of a `vlan` link. */
  readonly vlanId: number | null;
  readonly addresses: readonly LinkAddress[];
}

const ipAddrJson = z.array(
  z.looseObject({
    ifname: z.string(),
    mtu: z.number(),
    flags: z.array(z.string()).optional(),
    link: z.string().nullable().optional(),
    linkinfo: z.looseObject({ info_kind: z.string().optional(), info_data: z.looseObject({ id: z.number().optional() }).optional() }).optional(),
    addr_info: z
      .array(
        z.looseObject({
          family: z.string().optional(),
          local: z.string().optional(),
          prefixlen: z.number().optional(),
          scope: z.string().optional(),
        }),
      )
      .optional(),
  }),
);

function toLinks(stdout: string, argv: readonly string[]): Link[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout || '[]');
  } catch {
    throw new AgentFailure('E_COMMAND_OUTPUT', `${argv.join(' ')} did not print JSON (iproute2 too old for -j?)`);
  }
  // `ip -j addr show` prints one stub object per address-less link family on some versions: skip them.
  const parsed = ipAddrJson.safeParse(Array.isArray(json) ? json.filter((l) => typeof l === 'object' && l !== null && 'ifname' in l) : json);
  if (!parsed.success) {
    throw new AgentFailure('E_COMMAND_OUTPUT', `unexpected output of ${argv.join(' ')}: ${describeIssues(parsed.error, '')}`);
  }
  return parsed.data.map((l) => ({
    name: l.ifname,
    kind: l.linkinfo?.info_kind ?? null,
    mtu: l.mtu,
    up: (l.flags ?? []).includes('UP'),
    promisc: (l.flags ?? []).includes('PROMISC'),
    lower: l.link ?? null,
    vlanId: l.linkinfo?.info_kind === 'vlan' ? (l.linkinfo.info_data?.id ?? null) : null,
    addresses: (l.addr_info ?? []).flatMap((a) =>
      (a.family === 'inet' || a.family === 'inet6') && a.local !== undefined && a.prefixlen !== undefined
        ? [{ family: a.family, address: a.local, prefix: a.prefixlen, scope: a.scope ?? 'global' }]
        : [],
    ),
  }));
}

/** What tryCreateBridge did. */
export type NewBridge =
  { readonly made: true; readonly link: Link } | { readonly made: false; readonly stage: 'add' | 'configure'; readonly output: CommandOutput };

export class IpRoute {
  constructor(private readonly runner: CommandRunner) {}

  /** Every link of this network namespace with its addresses. */
  async links(): Promise<Link[]> {
    const argv = ['ip', '-j', '-d', 'addr', 'show'];
    return toLinks((await this.runner.run(argv)).stdout, argv);
  }

  /** One link (kind, mtu, addresses in one read), or null when there is none of that name. */
  async link(name: string): Promise<Link | null> {
    const argv = ['ip', '-j', '-d', 'addr', 'show', 'dev', name];
    const out = await this.runner.tryRun(argv);
    if (out.code === 0) return toLinks(out.stdout, argv).find((l) => l.name === name) ?? null;
    // Tell "no such device" from a real failure without matching error text.
    if (!(await this.links()).some((l) => l.name === name)) return null;
    // It exists, so the failure was real: run again to report it (or read it after a race).
    const again = await this.runner.run(argv);
    return toLinks(again.stdout, argv).find((l) => l.name === name) ?? null;
  }

  /**
   * A fresh host's path, in one `ip -batch` process: adds the bridge, gives it `cidr`, sets
   * it up and reads it back. A failure is a result, with the stage that failed: `add` (the
   * link was not made: one of that name exists, say) for the caller to look, `configure`
   * (the link was made, a later step failed) for the caller to remove it.
   */
  async tryCreateBridge(name: string, mtu: number | null, cidr: string): Promise<NewBridge> {
    const argv = ['ip', '-j', '-d', '-batch', '-'];
    const script = [bridgeArgv(name, mtu).slice(1).join(' '), `addr add ${cidr} dev ${name}`, `link set dev ${name} up`, `addr show dev ${name}`];
    const out = await this.runner.tryRun(argv, { stdin: script.join('\n') + '\n', mutates: true });
    if (out.code !== 0) {
      // ip names the batch line that failed; without that, nothing is known to be ours.
      const line = Number(/Command failed -:(\d+)/.exec(out.stderr)?.[1] ?? 1);
      return { made: false, stage: line > 1 ? 'configure' : 'add', output: out };
    }
    // The bridge is made: a read-back that fails is the configure stage's failure, so that
    // the caller removes the bridge rather than leave it half-recorded.
    try {
      const link = toLinks(out.stdout, argv).find((l) => l.name === name);
      if (link) return { made: true, link };
      return { made: false, stage: 'configure', output: { ...out, stderr: `bridge ${name} is not in what ip read back` } };
    } catch (e) {
      return { made: false, stage: 'configure', output: { ...out, stderr: (e as Error).message } };
    }
  }

  /** The 802.1Q sub-interface `name` of `base`, left down. */
  async addVlan(base: string, name: string, id: number): Promise<void> {
    await this.runner.run(['ip', 'link', 'add', 'link', base, 'name', name, 'type', 'vlan', 'id', String(id)], { mutates: true });
  }

  async setPromisc(name: string, on: boolean): Promise<void> {
    await this.runner.run(['ip', 'link', 'set', 'dev', name, 'promisc', on ? 'on' : 'off'], { mutates: true });
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    await this.runner.run(['ip', 'link', 'set', 'dev', name, 'mtu', String(mtu)], { mutates: true });
  }

  async setUp(name: string): Promise<void> {
    await this.runner.run(['ip', 'link', 'set', 'dev', name, 'up'], { mutates: true });
  }

  /** `cidr` with the host part: `10.1.0.1/24`. */
  async addAddress(name: string, cidr: string): Promise<void> {
    await this.runner.run(['ip', 'addr', 'add', cidr, 'dev', name], { mutates: true });
  }

  async deleteAddress(name: string, cidr: string): Promise<void> {
    await this.runner.run(['ip', 'addr', 'del', cidr, 'dev', name], { mutates: true });
  }

  /** Deletes a link; false when it was already gone. */
  async deleteLink(name: string): Promise<boolean> {
    const argv = ['ip', 'link', 'del', 'dev', name];
    const out = await this.runner.tryRun(argv, { mutates: true });
    if (out.code === 0) return true;
    if ((await this.link(name)) === null) return false;
    await this.runner.run(argv, { mutates: true });
    return true;
  }
}

function bridgeArgv(name: string, mtu: number | null): string[] {
  // A fixed address: a bridge without one takes the lowest of its ports' addresses, so it
  // would change as containers come and go, leaving stale gateway entries in their ARP caches.
  const argv = ['ip', 'link', 'add', 'name', name, 'address', bridgeMac(name)];
  if (mtu !== null) argv.push('mtu', String(mtu));
  argv.push('type', 'bridge');
  return argv;
}

/** A locally administered unicast MAC derived from the bridge's name. */
export function bridgeMac(name: string): string {
  const h = createHash('sha256').update(name).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
