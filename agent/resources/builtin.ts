// The resource types this agent manages, wired to the real host. Each type's code is
// imported on first use (lazyHandler): a session that only manages networks never
// loads the image, storage or container modules, nor koffi.
import { join } from 'node:path';
import type { AgentLog } from '../log.js';
import type { SupervisorClient } from '../supervisor/supervisor-client.js';
import type { CommandRunner } from '../system/command.js';
import { lazyHandler, once, ResourceRegistry } from './registry.js';

export interface HostDirs {
  readonly stateDir: string;
  readonly runDir: string;
}

export function builtinResources(runner: CommandRunner, log: AgentLog, dirs: HostDirs, supervisor: SupervisorClient): ResourceRegistry {
  // Shared by several types, made once per session.
  const ip = once(async () => new (await import('../network/iproute.js')).IpRoute(runner));
  const firewall = once(async () => new (await import('../network/nat.js')).BridgeFirewall(runner));
  const images = once(async () => new (await import('../images/image-store.js')).ImageStore(join(dirs.stateDir, 'images'), log));
  // lvm2 is looked for when a storage resource is used: hosts without it manage the rest.
  const lvm = once(async () => new (await import('../storage/lvm.js')).Lvm(runner));
  const filesystems = once(async () => new (await import('../storage/filesystem.js')).Filesystems(runner));

  return new ResourceRegistry((m) => log.error(m))
    .register(
      'network',
      lazyHandler(async () => {
        const [{ NetworkResource }, { Ipam }] = await Promise.all([import('../network/network.js'), import('../network/ipam.js')]);
        // Each driver's code is loaded when a network of its kind is first met.
        const drivers = {
          bridge: lazyHandler(async () => new (await import('../network/bridge.js')).BridgeNetwork(await ip(), await firewall(), log)),
          macvlan: lazyHandler(async () => {
            const [{ MacvlanNetwork }, { NetworkRecords }] = await Promise.all([import('../network/macvlan.js'), import('../network/network-records.js')]);
            // The supervisor reads these records when it connects containers (supervisor-wiring.ts).
            return new MacvlanNetwork(await ip(), new NetworkRecords(dirs.stateDir), log);
          }),
          overlay: lazyHandler(async () => new (await import('../network/overlay.js')).OverlayNetwork(runner, await ip(), await firewall(), log)),
        };
        return new NetworkResource(drivers, await ip(), new Ipam(dirs.stateDir));
      }),
    )
    .register(
      'image',
      lazyHandler(async () => new (await import('../images/image-resource.js')).ImageResource(await images(), log)),
    )
    .register(
      'volume',
      lazyHandler(async () => {
        const [{ VolumeDirectory }, { ThinVolumes }] = await Promise.all([import('../storage/volume-directory.js'), import('../storage/thin-volume.js')]);
        const recycleInits = async () => void (await supervisor.callIfRunning('inits.recycle', {}));
        return new VolumeDirectory(dirs.stateDir, new ThinVolumes(await lvm(), await filesystems(), log, recycleInits));
      }),
    )
    .register(
      'volume_group',
      lazyHandler(async () => new (await import('../storage/volume-group-resource.js')).VolumeGroupResource(await lvm(), log)),
    )
    .register(
      'thin_pool',
      lazyHandler(async () => new (await import('../storage/thin-pool-resource.js')).ThinPoolResource(await lvm())),
    )
    .register(
      'logical_volume',
      lazyHandler(
        async () => new (await import('../storage/logical-volume-resource.js')).LogicalVolumeResource(await lvm(), await filesystems(), log, dirs.stateDir),
      ),
    )
    .register(
      'container',
      lazyHandler(async () => {
        const [{ ContainerResource }, { ContainerVolumes }] = await Promise.all([
          import('../supervisor/container-resource.js'),
          import('../storage/container-volumes.js'),
        ]);
        return new ContainerResource(supervisor, await images(), new ContainerVolumes(await lvm(), dirs.stateDir));
      }),
    );
}
