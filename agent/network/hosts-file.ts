// A container's managed /etc/hosts: name resolution between containers of one network
// without a DNS server. The supervisor keeps one file per container under its run
// directory, bind-mounted over /etc/hosts, and rewrites it when peers come and go.
//
// Order matters, as resolvers take the first line that names a host: localhost, then
// the user's extra_hosts (they win over everything else), then the container itself,
// then its peers on this host, then those on other hosts (overlay networks).
import { closeSync, ftruncateSync, openSync, readSync, fstatSync, writeSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { AgentFailure } from '../rpc/failure.js';

export interface HostsPeer {
  readonly ip: string;
  /** Resource name first, then the aliases on the shared network. */
  readonly names: readonly string[];
}

export interface HostsFileInput {
  readonly hostname: string;
  /** The container's addresses, first network first; none: the hostname goes on 127.0.1.1. */
  readonly ownAddresses: readonly string[];
  /** Extra names of the container itself (its resource name, its aliases). */
  readonly ownNames?: readonly string[] | undefined;
  readonly peers: readonly HostsPeer[];
  /** Containers of the same networks on other hosts (see remote-peers.ts). */
  readonly remotePeers?: readonly HostsPeer[] | undefined;
  /** name -> address. */
  readonly extraHosts: Readonly<Record<string, string>>;
}

const HEADER = "# Managed by tsinfra: rewritten when containers join or leave this container's networks.";
const LOCALHOST = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];
// Labels of letters, digits, "-" and "_" (used in practice), separated by dots.
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*$/;

export function checkHostName(name: string, what: string): string {
  if (!HOST_NAME.test(name)) {
    throw new AgentFailure('E_INVALID_HOSTNAME', `${what} ${JSON.stringify(name)} is not a valid host name (letters, digits, "-", "_" and dots)`);
  }
  return name;
}

function checkAddress(ip: string, what: string): string {
  if (isIP(ip) === 0) throw new AgentFailure('E_INVALID_IP', `${what}: ${JSON.stringify(ip)} is not an IP address`);
  return ip;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

export function renderHostsFile(input: HostsFileInput): string {
  const hostname = checkHostName(input.hostname, 'hostname');
  const lines = [HEADER, ...LOCALHOST];

  const extra = Object.entries(input.extraHosts).sort(([a], [b]) => a.localeCompare(b));
  if (extra.length > 0) {
    lines.push('# extra_hosts');
    for (const [name, ip] of extra) lines.push(`${checkAddress(ip, `extra_hosts entry ${name}`)}\t${checkHostName(name, 'extra_hosts name')}`);
  }

  const own = unique([hostname, ...(input.ownNames ?? []).map((n) => checkHostName(n, 'container name'))]);
  if (input.ownAddresses.length === 0) lines.push(`127.0.1.1\t${own.join(' ')}`);
  for (const ip of unique(input.ownAddresses)) lines.push(`${checkAddress(ip, 'container address')}\t${own.join(' ')}`);

  pushPeers(lines, '# containers on the same networks', input.peers);
  pushPeers(lines, '# containers on the same networks on other hosts', input.remotePeers ?? []);
  return lines.join('\n') + '\n';
}

// Sorted so that the file only changes when the set of peers does.
function pushPeers(lines: string[], heading: string, given: readonly HostsPeer[]): void {
  const peers = given
    .map((p) => ({ ip: checkAddress(p.ip, 'peer address'), names: unique(p.names.map((n) => checkHostName(n, 'peer name'))) }))
    .filter((p) => p.names.length > 0)
    .sort((a, b) => a.names[0]!.localeCompare(b.names[0]!) || a.ip.localeCompare(b.ip));
  if (peers.length === 0) return;
  lines.push(heading);
  for (const p of peers) lines.push(`${p.ip}\t${p.names.join(' ')}`);
}

/**
 * Replaces the file's content in place, keeping its inode: the file is bind-mounted into
 * the container, and a rename would leave the container looking at the old inode.
 * Writes first and truncates after, so a reader never sees an empty file; does nothing
 * when the content is already right. Creates the file (0644: read by container users).
 */
export function writeHostsFile(path: string, content: string): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    const wanted = Buffer.from(content, 'utf8');
    const size = fstatSync(fd).size;
    if (size === wanted.length) {
      const current = Buffer.alloc(size);
      let read = 0;
      while (read < size) {
        const n = readSync(fd, current, read, size - read, read);
        if (n === 0) break;
        read += n;
      }
      if (current.equals(wanted)) return;
    }
    let written = 0;
    while (written < wanted.length) written += writeSync(fd, wanted, written, wanted.length - written, written);
    ftruncateSync(fd, wanted.length);
  } finally {
    closeSync(fd);
  }
}
