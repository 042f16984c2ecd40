// The resource types this agent manages, wired to the real host.
import { join } from 'node:path';
import type { AgentLog } from '../log.js';
import { ImageResource } from '../images/image-resource.js';
import { ImageStore } from '../images/image-store.js';
import { BridgeNetwork } from '../network/bridge.js';
import { IpRoute } from '../network/iproute.js';
import { Ipam } from '../network/ipam.js';
import { MacvlanNetwork } from '../network/macvlan.js';
import { BridgeFirewall } from '../network/nat.js';
import { NetworkRecords } from '../network/network-records.js';
import { NetworkResource } from '../network/network.js';
import { OverlayNetwork } from '../network/overlay.js';
import { Filesystems } from '../storage/filesystem.js';
import { LogicalVolumeResource } from '../storage/logical-volume-resource.js';
import { Lvm } from '../storage/lvm.js';
import { ThinPoolResource } from '../storage/thin-pool-resource.js';
import { ThinVolumes } from '../storage/thin-volume.js';
import { VolumeDirectory } from '../storage/volume-directory.js';
import { VolumeGroupResource } from '../storage/volume-group-resource.js';
import { ContainerVolumes } from '../storage/container-volumes.js';
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
  // lvm2 is looked for when a storage resource is used: hosts without it manage the rest.
  const lvm = new Lvm(runner);
  const filesystems = new Filesystems(runner);
  const networkDrivers = {
    bridge: new BridgeNetwork(ip, firewall, log),
    // The supervisor reads these records when it connects containers (supervisor-wiring.ts).
    macvlan: new MacvlanNetwork(ip, new NetworkRecords(dirs.stateDir), log),
    overlay: new OverlayNetwork(runner, ip, firewall, log),
  };
  return new ResourceRegistry((m) => log.error(m))
    .register('network', new NetworkResource(networkDrivers, ip, new Ipam(dirs.stateDir)))
    .register('image', new ImageResource(images, log))
    .register(
      'volume',
      new VolumeDirectory(dirs.stateDir, new ThinVolumes(lvm, filesystems, log, async () => void (await supervisor.callIfRunning('inits.recycle', {})))),
    )
    .register('volume_group', new VolumeGroupResource(lvm, log))
    .register('thin_pool', new ThinPoolResource(lvm))
    .register('logical_volume', new LogicalVolumeResource(lvm, filesystems, log, dirs.stateDir))
    .register('container', new ContainerResource(supervisor, images, new ContainerVolumes(lvm, dirs.stateDir)));
}
