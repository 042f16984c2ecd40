// All resource types tsinfra knows, by type name.
import { containerProvider } from './container.js';
import { imageProvider } from './image.js';
import { networkProvider } from './network.js';
import { volumeProvider } from './volume.js';
import type { ResourceProvider } from './provider.js';
import { tsinfraDataProvider } from './tsinfra-data.js';

const providers: ReadonlyMap<string, ResourceProvider> = new Map(
  [containerProvider, imageProvider, networkProvider, tsinfraDataProvider, volumeProvider].map((p) => [p.type, p]),
);

export function providerFor(type: string): ResourceProvider | undefined {
  return providers.get(type);
}

export function resourceTypes(): string[] {
  return [...providers.keys()].sort();
}
