// The agent's method implementations, wired to a resource registry and the host.
import { arch, hostname } from 'node:os';
import { collectFacts } from './facts.js';
import type { ResourceRegistry } from './resources/registry.js';
import { PROTOCOL_VERSION } from './rpc/protocol.js';
import type { MethodImpls } from './rpc/server.js';
import type { CommandRunner } from './system/command.js';
import { AGENT_VERSION } from './version.js';

export interface AgentContext {
  readonly registry: ResourceRegistry;
  readonly runner: CommandRunner;
  readonly stateDir: string;
}

export function agentMethods(ctx: AgentContext): MethodImpls {
  return {
    // Answered whatever the client's protocol: the client compares and reports both versions.
    hello: async () => ({
      agentVersion: AGENT_VERSION,
      protocol: PROTOCOL_VERSION,
      hostname: hostname(),
      arch: arch(),
      nodeVersion: process.version,
    }),
    facts: () => collectFacts({ runner: ctx.runner, stateDir: ctx.stateDir }),
    'resource.read': async (p) => ({ items: await ctx.registry.readBatch(p.items) }),
    'resource.apply': async (p, call) => ({ state: await ctx.registry.apply(p.type, p.action, p.prior, p.planned, call.progress) }),
    'resource.import': async (p) => ({ state: await ctx.registry.import(p.type, p.id) }),
    // Wired to the supervisor in the runtime work (in progress).
    'container.logs': async () => Promise.reject(new Error('bug: container.logs not wired yet')),
    'container.exec': async () => Promise.reject(new Error('bug: container.exec not wired yet')),
    'container.stats': async () => Promise.reject(new Error('bug: container.stats not wired yet')),
  };
}
