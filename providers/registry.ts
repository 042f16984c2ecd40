// All resource types tsinfra knows, by type name.
import { containerProvider } from './container.js';
import { imageProvider } from './image.js';
import { logicalVolumeProvider } from './logical-volume.js';
import { networkProvider } from './network.js';
import { overlayNetworkProvider } from './overlay-network.js';
import { thinPoolProvider } from './thin-pool.js';
import { volumeGroupProvider } from './volume-group.js';
import { volumeProvider } from './volume.js';
import type { ResourceProvider } from './provider.js';
import { tsinfraDataProvider } from './tsinfra-data.js';

const providers: ReadonlyMap<string, ResourceProvider> = new Map(
  [
    containerProvider,
    imageProvider,
    logicalVolumeProvider,
    networkProvider,
    overlayNetworkProvider,
    thinPoolProvider,
    tsinfraDataProvider,
    volumeGroupProvider,
    volumeProvider,
  ].map((p) => [p.type, p]),
);

export function providerFor(type: string): ResourceProvider | undefined {
  return providers.get(type);
}

export function resourceTypes(): string[] {
  return [...providers.keys()].sort();
}
