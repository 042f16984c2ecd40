// The resource types this agent manages, wired to the real host.
import { join } from 'node:path';
import type { AgentLog } from '../log.js';
import { ImageResource } from '../images/image-resource.js';
import { ImageStore } from '../images/image-store.js';
import { BridgeNetwork } from '../network/bridge.js';
import { IpRoute } from '../network/iproute.js';
import { Ipam } from '../network/ipam.js';
import { BridgeFirewall } from '../network/nat.js';
import { NetworkResource } from '../network/network.js';
import { VolumeDirectory } from '../storage/volume-directory.js';
import { ContainerResource } from '../supervisor/container-resource.js';
import type { SupervisorClient } from '../supervisor/supervisor-client.js';
import type { CommandRunner } from '../system/command.js';
import { ResourceRegistry } from './registry.js';

export interface HostDirs {
  readonly stateDir: string;
  readonly runDir: string;
}

export function builtinResources(runner: CommandRunner, log: AgentLog, dirs: HostDirs, supervisor: SupervisorClient): ResourceRegistry {
  const ip = new IpRoute(runner);
  const firewall = new BridgeFirewall(runner);
  const images = new ImageStore(join(dirs.stateDir, 'images'), log);
  return new ResourceRegistry((m) => log.error(m))
    .register('network', new NetworkResource({ bridge: new BridgeNetwork(ip, firewall, log) }, ip, new Ipam(dirs.stateDir)))
    .register('image', new ImageResource(images, log))
    .register('volume', new VolumeDirectory(dirs.stateDir))
    .register('container', new ContainerResource(supervisor, images));
}
