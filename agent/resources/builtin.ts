// The resource types this agent manages, wired to the real host.
import type { AgentLog } from '../log.js';
import { BridgeNetwork } from '../network/bridge.js';
import { IpRoute } from '../network/iproute.js';
import { BridgeFirewall } from '../network/nat.js';
import { NetworkResource } from '../network/network.js';
import type { CommandRunner } from '../system/command.js';
import { ResourceRegistry } from './registry.js';

export function builtinResources(runner: CommandRunner, log: AgentLog): ResourceRegistry {
  const ip = new IpRoute(runner);
  const firewall = new BridgeFirewall(runner);
  return new ResourceRegistry((m) => log.error(m)).register('network', new NetworkResource({ bridge: new BridgeNetwork(ip, firewall, log) }, ip));
}
