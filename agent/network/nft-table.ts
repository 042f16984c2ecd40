// Reading one of tsinfra's nftables tables with `nft -j`: its chains, its rules (handle,
// comment, expression) and how many other objects (sets, maps) someone put into it.
import { z } from 'zod';
import { AgentFailure } from '../rpc/failure.js';
import { findProgram, type CommandRunner } from '../system/command.js';

export interface NftRule {
  readonly chain: string;
  readonly handle: number;
  readonly comment: string | null;
  readonly expr: readonly Record<string, unknown>[];
}

export interface NftTable {
  readonly exists: boolean;
  readonly chains: readonly string[];
  readonly rules: readonly NftRule[];
  /** Sets, maps... that someone else put into the table: keep the table then. */
  readonly otherObjects: number;
}

const ABSENT: NftTable = { exists: false, chains: [], rules: [], otherObjects: 0 };

const nftListing = z.object({ nftables: z.array(z.record(z.string(), z.unknown())) });
const nftChain = z.looseObject({ name: z.string() });
const nftRule = z.looseObject({
  chain: z.string(),
  handle: z.number(),
  comment: z.string().optional(),
  expr: z.array(z.record(z.string(), z.unknown())).optional(),
});
const nftTableName = z.looseObject({ name: z.string() });

export function parseNftListing(stdout: string): Record<string, unknown>[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new AgentFailure('E_COMMAND_OUTPUT', 'nft -j did not print JSON (nftables too old?)');
  }
  const parsed = nftListing.safeParse(json);
  if (!parsed.success) throw new AgentFailure('E_COMMAND_OUTPUT', 'unexpected output of nft -j');
  return parsed.data.nftables;
}

/** The `ip` family table `name`; `exists: false` when there is none (or no nftables at all). */
export async function readNftTable(runner: CommandRunner, name: string): Promise<NftTable> {
  // Without nftables there can be no rules of ours; adding one still fails (E_MISSING_TOOL).
  if (findProgram('nft') === undefined) return ABSENT;
  const argv = ['nft', '-j', 'list', 'table', 'ip', name];
  const out = await runner.tryRun(argv);
  let stdout = out.stdout;
  if (out.code !== 0) {
    // nft names a missing table with ENOENT's text (commands run with LC_ALL=C): a fresh
    // host's answer, taken without a second process.
    if (/^Error: No such file or directory\b/m.test(out.stderr) && out.stderr.includes(`list table ip ${name}`)) return ABSENT;
    // Another failure: ask for the table names rather than guess from the text.
    const tables = await runner.run(['nft', '-j', 'list', 'tables', 'ip']);
    if (!parseNftListing(tables.stdout).some((o) => nftTableName.safeParse(o['table']).data?.name === name)) return ABSENT;
    stdout = (await runner.run(argv)).stdout;
  }
  const chains: string[] = [];
  const rules: NftRule[] = [];
  let otherObjects = 0;
  for (const o of parseNftListing(stdout)) {
    if ('chain' in o) {
      const c = nftChain.safeParse(o['chain']);
      if (c.success) chains.push(c.data.name);
    } else if ('rule' in o) {
      const r = nftRule.safeParse(o['rule']);
      if (r.success) rules.push({ chain: r.data.chain, handle: r.data.handle, comment: r.data.comment ?? null, expr: r.data.expr ?? [] });
    } else if (!('metainfo' in o) && !('table' in o)) {
      otherObjects++;
    }
  }
  return { exists: true, chains, rules, otherObjects };
}
