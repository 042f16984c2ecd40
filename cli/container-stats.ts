// `tsinfra stats`: one container.stats call per host for its containers; with a
// sampling interval, two calls that far apart give each container's CPU use over it.
import type { ContainerStats } from '../agent/rpc/protocol.js';
import { AgentError } from '../transport/types.js';
import type { ContainerSessions, ContainerTarget } from './container-target.js';
import type { StatsRow } from './views/container-view.js';

interface Sample {
  readonly at: bigint;
  readonly byId: ReadonlyMap<string, ContainerStats>;
}

async function sampleHost(sessions: ContainerSessions, host: string, ids: readonly string[]): Promise<Sample> {
  const session = await sessions.session(host);
  const r = await session.call('container.stats', { ids: [...ids] });
  return { at: process.hrtime.bigint(), byId: new Map(r.items.map((s) => [s.id, s])) };
}

/** Stats of `targets`, in their order; `sampleMs` > 0 adds CPU % over that interval. */
export async function collectStats(sessions: ContainerSessions, targets: readonly ContainerTarget[], sampleMs: number): Promise<StatsRow[]> {
  const byHost = new Map<string, ContainerTarget[]>();
  for (const t of targets) byHost.set(t.host, [...(byHost.get(t.host) ?? []), t]);
  const rows = new Map<ContainerTarget, StatsRow>();
  await Promise.all(
    [...byHost].map(async ([host, list]) => {
      const ids = list.map((t) => t.id);
      try {
        const first = await sampleHost(sessions, host, ids);
        const second = sampleMs > 0 ? await delay(sampleMs).then(() => sampleHost(sessions, host, ids)) : undefined;
        for (const t of list) {
          const a = first.byId.get(t.id);
          const b = second?.byId.get(t.id);
          const cpuPercent = a && b && second ? (Math.max(0, b.cpu_usage_ns - a.cpu_usage_ns) / Number(second.at - first.at)) * 100 : null;
          rows.set(t, { address: t.address, host, id: t.id, stats: b ?? a ?? null, cpuPercent });
        }
      } catch (e) {
        if (!(e instanceof AgentError)) throw e;
        for (const t of list) rows.set(t, { address: t.address, host, id: t.id, stats: null, cpuPercent: null, error: { code: e.code, message: e.message } });
      }
    }),
  );
  return targets.map((t) => rows.get(t)!);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
