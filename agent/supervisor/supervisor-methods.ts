// The supervisor's answers to the agent (protocol.ts), one line each where possible.
import type { ImplsOf } from '../rpc/server.js';
import { agentBuild } from '../version.js';
import type { SupervisorMethods } from './protocol.js';
import type { SupervisorDeps } from './runtime-deps.js';
import type { Supervisor } from './supervisor.js';

export function supervisorImpls(supervisor: Supervisor, deps: SupervisorDeps): ImplsOf<SupervisorMethods> {
  return {
    ping: async () => ({ pid: process.pid, version: agentBuild() }),
    prewarm: async (p) => {
      deps.inits.prewarm(p.count);
      return {};
    },
    'inits.recycle': async () => {
      await deps.inits.recycle();
      return {};
    },
    'container.create': (p) => supervisor.create(p.spec),
    'container.update': (p) => supervisor.update(p.id, p.limits, p.restart, p.state),
    'container.delete': async (p) => {
      await supervisor.delete(p.id);
      return {};
    },
    'container.inspect': async (p) => ({ items: await Promise.all(p.ids.map(async (id) => ({ id, info: await supervisor.inspect(id) }))) }),
    'container.logs': async (p, call) => {
      const entries = supervisor.logs(p.id, p.tail);
      if (!p.follow) return { entries };
      for (const e of entries) call.progress('log', e);
      await supervisor.followLogs(p.id, (e) => call.progress('log', e), call.signal);
      return { entries: [] };
    },
    'container.exec': async (p, call) => ({ exit_code: await supervisor.exec(p.id, p, (e) => call.progress('output', e), call.signal) }),
    'container.stats': async (p) => ({ items: await supervisor.stats(p.ids) }),
    'network.peers': async (p) => supervisor.setNetworkPeers(p.network, p.peers),
  };
}
