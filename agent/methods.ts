// The agent's method implementations, wired to a resource registry and the host. The
// code of the rarer methods (facts, inventory, packages) is imported when called: every
// fresh host starts an agent, and what it does not load costs it nothing.
import { arch, hostname } from 'node:os';
import type { ResourceRegistry } from './resources/registry.js';
import { PROTOCOL_VERSION } from './rpc/protocol.js';
import type { CallContext, MethodImpls } from './rpc/server.js';
import type { CommandRunner } from './system/command.js';
import { AgentFailure } from './rpc/failure.js';
import type { SupervisorClient } from './supervisor/supervisor-client.js';
import { agentBuild } from './version.js';

export interface AgentContext {
  readonly registry: ResourceRegistry;
  readonly runner: CommandRunner;
  readonly stateDir: string;
  /** Containers are the supervisor's; undefined where the agent runs without one (tests). */
  readonly supervisor?: SupervisorClient;
}

function supervisorOf(ctx: AgentContext): SupervisorClient {
  if (!ctx.supervisor) throw new AgentFailure('E_UNSUPPORTED', 'this agent runs without a container supervisor');
  return ctx.supervisor;
}

/**
 * A streaming call that must end with the engine's session: when the engine goes, the
 * connection to the supervisor is closed, which ends the stream there (a follow stops,
 * an exec'd command is killed) and lets this agent exit.
 */
async function streamFromSupervisor<T>(supervisor: SupervisorClient, call: CallContext, work: () => Promise<T>): Promise<T> {
  const onGone = () => supervisor.close();
  call.signal.addEventListener('abort', onGone, { once: true });
  try {
    return await work();
  } finally {
    call.signal.removeEventListener('abort', onGone);
  }
}

export function agentMethods(ctx: AgentContext): MethodImpls {
  return {
    // Answered whatever the client's protocol: the client compares and reports both versions.
    hello: async () => ({
      agentVersion: agentBuild(),
      protocol: PROTOCOL_VERSION,
      hostname: hostname(),
      arch: arch(),
      nodeVersion: process.version,
    }),
    facts: async () => (await import('./facts.js')).collectFacts({ runner: ctx.runner, stateDir: ctx.stateDir }),
    'resource.read': async (p) => ({ items: await ctx.registry.readBatch(p.items) }),
    'resource.apply': async (p, call) => ({ state: await ctx.registry.apply(p.type, p.action, p.prior, p.planned, call.progress, p.address) }),
    'resource.import': async (p) => ({ state: await ctx.registry.import(p.type, p.id) }),
    'storage.inventory': async () => (await import('./storage/inventory.js')).storageInventory(ctx.runner),
    'host.install_tools': async (p) => new (await import('./system/packages.js')).HostPackages(ctx.runner).ensure(p.tools),
    // Streamed output is passed on as it comes (progress data).
    'container.logs': (p, call) =>
      streamFromSupervisor(supervisorOf(ctx), call, () => supervisorOf(ctx).call('container.logs', p, (m, d) => call.progress(m, d))),
    'container.exec': (p, call) =>
      streamFromSupervisor(supervisorOf(ctx), call, () => supervisorOf(ctx).call('container.exec', p, (m, d) => call.progress(m, d))),
    'container.stats': (p) => supervisorOf(ctx).call('container.stats', p),
    'container.prewarm': (p) => supervisorOf(ctx).call('prewarm', p),
    // The supervisor keeps them: it writes the containers' /etc/hosts.
    'network.peers': (p) => supervisorOf(ctx).call('network.peers', p),
  };
}
