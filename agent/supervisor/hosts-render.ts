// A container's managed /etc/hosts: itself, the peers on its networks (by resource name
// and aliases) and its extra_hosts. Written in place: the file is bind-mounted.
import { renderHostsFile, writeHostsFile } from '../network/hosts-file.js';
import type { ContainerSpec } from './protocol.js';

export function renderHosts(spec: ContainerSpec, ownAddresses: readonly string[], peers: readonly { ip: string; names: string[] }[], writeTo?: string): string {
  const text = renderHostsFile({ hostname: spec.hostname, ownAddresses: [...ownAddresses], peers: [...peers], extraHosts: spec.extraHosts });
  if (writeTo !== undefined) writeHostsFile(writeTo, text);
  return text;
}
