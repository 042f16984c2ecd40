// A container's managed /etc/hosts: itself, the peers on its networks (by resource name
// and aliases, on this host and on others) and its extra_hosts. Written in place: the
// file is bind-mounted.
import { renderHostsFile, writeHostsFile, type HostsPeer } from '../network/hosts-file.js';
import type { ContainerSpec } from './protocol.js';

export interface HostsView {
  readonly ownAddresses: readonly string[];
  readonly peers: readonly HostsPeer[];
  readonly remotePeers: readonly HostsPeer[];
}

export function renderHosts(spec: ContainerSpec, view: HostsView, writeTo?: string): string {
  const text = renderHostsFile({
    hostname: spec.hostname,
    ownAddresses: view.ownAddresses,
    peers: view.peers,
    remotePeers: view.remotePeers,
    extraHosts: spec.extraHosts,
  });
  if (writeTo !== undefined) writeHostsFile(writeTo, text);
  return text;
}
