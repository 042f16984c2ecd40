// The nftables side of bridge networks, all in one table `ip tsinfra`:
//
//   table ip tsinfra {
//     chain postrouting { type nat hook postrouting priority 100; policy accept;
//       ip saddr 10.1.0.0/24 oifname != "tsi-a" masquerade comment "tsi:tsi-a" }   # nat = true
//     chain forward { type filter hook forward priority 0; policy accept;
//       iifname "tsi-b" oifname != "tsi-b" drop comment "tsi:tsi-b"                # internal = true
//       oifname "tsi-b" iifname != "tsi-b" drop comment "tsi:tsi-b" }
//   }
//
// The comment `tsi:<bridge>` says which network a rule belongs to. Reading uses
// `nft -j`; every change is one `nft -f -` transaction that creates what is missing,
// replaces the bridge's rules and removes chains (and the table) left empty, so a
// destroy leaves nothing behind. Changes are serialised inside the agent because
// they are computed from a listing (rule handles). Published container ports live in
// their own table (port-forwarding.ts), written by the supervisor, another process.
import { z } from 'zod';
import type { CommandRunner } from '../system/command.js';
import { readNftTable } from './nft-table.js';

export const NFT_TABLE = 'tsinfra';

/** What a bridge should have: masquerading of a subnet, and/or forwarding dropped. */
export interface BridgeRulesWanted {
  /** Canonical CIDR to masquerade, or null for no NAT. */
  readonly masquerade: string | null;
  readonly isolate: boolean;
}

export interface BridgeRulesFound {
  readonly nat: boolean;
  readonly internal: boolean;
}

export interface ChainSpec {
  readonly name: string;
  readonly definition: string;
}
const POSTROUTING: ChainSpec = { name: 'postrouting', definition: 'type nat hook postrouting priority 100; policy accept;' };
const FORWARD: ChainSpec = { name: 'forward', definition: 'type filter hook forward priority 0; policy accept;' };

export interface RuleSpec {
  readonly chain: ChainSpec;
  /** Identity used to compare what is there with what is wanted. */
  readonly signature: string;
  readonly body: string;
}

export interface TableListing {
  readonly exists: boolean;
  readonly chains: readonly string[];
  readonly rules: readonly { chain: string; handle: number; comment: string | null; signature: string }[];
  /** Sets, maps... that someone else put into the table: keep the table then. */
  readonly otherObjects: number;
}

export function ruleComment(bridge: string): string {
  return `tsi:${bridge}`;
}

function wantedRules(bridge: string, want: BridgeRulesWanted): RuleSpec[] {
  const comment = `comment "${ruleComment(bridge)}"`;
  const rules: RuleSpec[] = [];
  if (want.masquerade !== null) {
    rules.push({
      chain: POSTROUTING,
      signature: `masquerade ${want.masquerade}`,
      body: `ip saddr ${want.masquerade} oifname != "${bridge}" masquerade ${comment}`,
    });
  }
  if (want.isolate) {
    rules.push({ chain: FORWARD, signature: 'drop out', body: `iifname "${bridge}" oifname != "${bridge}" drop ${comment}` });
    rules.push({ chain: FORWARD, signature: 'drop in', body: `oifname "${bridge}" iifname != "${bridge}" drop ${comment}` });
  }
  return rules;
}

// ---- reading `nft -j list table` --------------------------------------------

const prefixMatch = z.object({ prefix: z.object({ addr: z.string(), len: z.number() }) });
const payloadSaddr = z.object({ payload: z.looseObject({ field: z.literal('saddr') }) });
const metaKey = z.object({ meta: z.object({ key: z.string() }) });
const match = z.looseObject({ op: z.string(), left: z.unknown(), right: z.unknown() });

/** The identity of a rule we wrote, recovered from its JSON expression. */
function signatureOf(chain: string, expr: readonly Record<string, unknown>[]): string {
  const matches = expr.flatMap((e) => {
    const m = match.safeParse(e['match']);
    return m.success ? [m.data] : [];
  });
  if (chain === POSTROUTING.name && expr.some((e) => 'masquerade' in e)) {
    for (const m of matches) {
      const right = prefixMatch.safeParse(m.right);
      if (payloadSaddr.safeParse(m.left).success && m.op === '==') {
        return right.success ? `masquerade ${right.data.prefix.addr}/${right.data.prefix.len}` : `masquerade ${String(m.right)}/32`;
      }
    }
    return 'masquerade ?';
  }
  if (chain === FORWARD.name && expr.some((e) => 'drop' in e)) {
    const first = matches.find((m) => m.op === '==' && metaKey.safeParse(m.left).success);
    const key = first ? metaKey.parse(first.left).meta.key : '';
    return key === 'iifname' ? 'drop out' : key === 'oifname' ? 'drop in' : 'drop ?';
  }
  return 'other';
}

export class BridgeFirewall {
  constructor(private readonly runner: CommandRunner) {}

  async read(bridge: string): Promise<BridgeRulesFound> {
    const listing = await this.list();
    const ours = listing.rules.filter((r) => r.comment === ruleComment(bridge));
    return {
      nat: ours.some((r) => r.signature.startsWith('masquerade')),
      internal: ours.some((r) => r.signature.startsWith('drop')),
    };
  }

  /** Makes the bridge's rules exactly `want` (no rules at all: masquerade null, isolate false). */
  set(bridge: string, want: BridgeRulesWanted): Promise<void> {
    return serialised(async () => {
      try {
        await this.converge(bridge, want);
      } catch (e) {
        // A handle may have gone stale if something else edited the table meanwhile: retry once.
        await this.converge(bridge, want).catch(() => Promise.reject(e));
      }
    });
  }

  remove(bridge: string): Promise<void> {
    return this.set(bridge, { masquerade: null, isolate: false });
  }

  private async converge(bridge: string, want: BridgeRulesWanted): Promise<void> {
    const listing = await this.list();
    const script = planScript(listing, ruleComment(bridge), wantedRules(bridge, want));
    if (script.length === 0) return;
    await this.runner.run(['nft', '-f', '-'], { stdin: script.join('\n') + '\n', mutates: true });
  }

  private async list(): Promise<TableListing> {
    const table = await readNftTable(this.runner, NFT_TABLE);
    return {
      exists: table.exists,
      chains: table.chains,
      rules: table.rules.map((r) => ({ chain: r.chain, handle: r.handle, comment: r.comment, signature: signatureOf(r.chain, r.expr) })),
      otherObjects: table.otherObjects,
    };
  }
}

/** The nft commands that turn `listing` into one where the bridge has exactly `wanted`; empty when nothing changes. */
export function planScript(listing: TableListing, comment: string, wanted: readonly RuleSpec[]): string[] {
  const ours = listing.rules.filter((r) => r.comment === comment);
  const same = ours.length === wanted.length && wanted.every((w) => ours.some((r) => r.chain === w.chain.name && r.signature === w.signature));
  if (same) return [];

  const t = `ip ${NFT_TABLE}`;
  const script: string[] = [];
  const neededChains = [...new Map(wanted.map((w) => [w.chain.name, w.chain])).values()];
  if (!listing.exists && neededChains.length > 0) script.push(`add table ${t}`);
  for (const chain of neededChains) {
    if (!listing.chains.includes(chain.name)) script.push(`add chain ${t} ${chain.name} { ${chain.definition} }`);
  }
  for (const r of ours) script.push(`delete rule ${t} ${r.chain} handle ${r.handle}`);
  for (const w of wanted) script.push(`add rule ${t} ${w.chain.name} ${w.body}`);

  // Chains (and then the table) that end up empty go, so that nothing is left behind.
  const remaining = listing.rules.filter((r) => r.comment !== comment);
  const emptyChains = listing.chains.filter((c) => !remaining.some((r) => r.chain === c) && !wanted.some((w) => w.chain.name === c));
  const chainsLeft = listing.chains.length - emptyChains.length + neededChains.filter((c) => !listing.chains.includes(c.name)).length;
  if (listing.exists && chainsLeft === 0 && listing.otherObjects === 0) {
    script.push(`delete table ${t}`);
  } else {
    for (const c of emptyChains) script.push(`delete chain ${t} ${c}`);
  }
  return script;
}

let queue: Promise<unknown> = Promise.resolve();
/** Runs table changes one after another within this agent. */
function serialised<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}
