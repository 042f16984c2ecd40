// The storage inventories of a plan: `storage.inventory` once per host that has
// storage resources, read when the plan refreshes, hosts in parallel (at most
// --parallelism at once). Hosts known before planning are read ahead, alongside the
// refresh; a host found only while planning (its resources' host depends on
// count.index) is read when first needed. A host that cannot be read plans without its
// model: percentages stay unknown and its capacity is not checked, after an error (or,
// when unreachable hosts are tolerated, a warning).
import { HostStorage } from '../../providers/storage-model.js';
import { AgentError } from '../../transport/types.js';
import type { Diagnostics } from '../diagnostics.js';
import type { EvalContext } from './eval-context.js';
import type { SessionPool } from './refresh.js';

type Outcome = { readonly model: HostStorage } | { readonly error: AgentError };

export class StorageInventories {
  private readonly reads = new Map<string, Promise<Outcome>>();
  private readonly reported = new Set<string>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly sessions: SessionPool,
    private readonly ctx: EvalContext,
    private readonly diags: Diagnostics,
    private readonly unreachable?: Map<string, AgentError>,
  ) {}

  /** Starts reading these hosts' inventories. */
  prefetch(hosts: Iterable<string>): void {
    for (const h of hosts) this.read(h);
  }

  /** The host's model; undefined (and a diagnostic, once) when its inventory could not be read. */
  async model(host: string): Promise<HostStorage | undefined> {
    const outcome = await this.read(host);
    if ('model' in outcome) return outcome.model;
    this.report(host, outcome.error);
    return undefined;
  }

  /** The models read so far, by host. */
  async models(): Promise<Map<string, HostStorage>> {
    const out = new Map<string, HostStorage>();
    for (const [host, read] of this.reads) {
      const outcome = await read;
      if ('model' in outcome) out.set(host, outcome.model);
    }
    return out;
  }

  private read(host: string): Promise<Outcome> {
    let r = this.reads.get(host);
    if (!r) {
      r = this.limited(async () => {
        try {
          const session = await this.sessions.session(host, this.ctx);
          return { model: new HostStorage(host, await session.call('storage.inventory', {})) };
        } catch (e) {
          if (e instanceof AgentError) return { error: e };
          throw e;
        }
      });
      // Read ahead and maybe never asked for (the plan stopped): never an unhandled rejection.
      r.catch(() => undefined);
      this.reads.set(host, r);
    }
    return r;
  }

  private report(host: string, e: AgentError): void {
    if (this.reported.has(host)) return;
    this.reported.add(host);
    // Refresh already said the host cannot be reached.
    if (this.unreachable?.has(host) || this.diags.items.some((d) => d.address === host && d.severity === 'error')) return;
    if (this.unreachable) {
      this.unreachable.set(host, e);
      this.diags.add({
        severity: 'warning',
        code: e.code,
        summary: `Cannot reach ${host}: its storage is not checked, and the other hosts go on`,
        detail: e.message,
        address: host,
      });
      return;
    }
    this.diags.error(e.code, `Cannot read the storage (LVM) of ${host}: ${e.message}`, {
      detail: "The plan needs the host's volume groups and devices to resolve sizes and check capacity. Plan with --refresh=false to skip them.",
      address: host,
    });
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    // A finished read hands its slot to the next one waiting.
    if (this.active >= Math.max(1, this.sessions.parallelism)) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
