// One agent session per host per run, opened on first use and shared by refresh,
// plan and apply. Host settings come from the evaluated host blocks.
import { hostInstances } from '../plan-engine/plan/hosts.js';
import type { EvalContext } from '../plan-engine/plan/eval-context.js';
import type { SessionPool } from '../plan-engine/plan/refresh.js';
import { LocalTransport } from './local.js';
import { SshTransport } from './ssh-transport.js';
import { AgentError, type AgentSession, type HostConnection, type Transport } from './types.js';

export class HostSessionPool implements SessionPool {
  private readonly sessions = new Map<string, Promise<AgentSession>>();

  constructor(
    readonly parallelism: number,
    private readonly transports: { local: Transport; ssh: Transport } = { local: new LocalTransport(), ssh: new SshTransport() },
  ) {}

  session(host: string, ctx: EvalContext): Promise<AgentSession> {
    let s = this.sessions.get(host);
    if (!s) {
      s = this.open(host, ctx);
      this.sessions.set(host, s);
    }
    return s;
  }

  private async open(host: string, ctx: EvalContext): Promise<AgentSession> {
    const settings = hostInstances(ctx).get(host);
    if (!settings) {
      throw new AgentError(
        'E_UNKNOWN_HOST',
        `${host} is not declared in the configuration, but the state has objects on it. Keep its host block until they are destroyed (tsinfra destroy --target ... or remove the resources first), or forget them with tsinfra state rm`,
        host,
      );
    }
    const transport = settings['transport'] === 'local' ? 'local' : 'ssh';
    const conn: HostConnection = {
      address: host,
      transport,
      ...(typeof settings['netns'] === 'string' ? { netns: settings['netns'] } : {}),
      settings,
    };
    return (transport === 'local' ? this.transports.local : this.transports.ssh).open(conn);
  }

  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }
}
