// Strict host key checking: a pinned `host_key`, else the known_hosts file. There is no
// trust on first use: an unknown key is refused, a changed key refused loudly, both with
// the fingerprint shown, and both before authentication, so nothing runs on the host.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { AgentError } from '../types.js';
import { blobKeyType, decodeKey, entriesFor, knownHostsName, parseKnownHosts, type KnownHostEntry, type KnownHostsFile } from './known-hosts.js';
import { who } from './ssh-errors.js';
import type { SshTarget } from './ssh-target.js';

/** The OpenSSH form of a key's fingerprint: `SHA256:` + unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export interface HostKeyCheck {
  /** Host key algorithms to offer, those of the keys we know for this host first. */
  readonly algorithms: ServerHostKeyAlgorithm[];
  /** Undefined when the key is accepted, otherwise the error to fail the connection with. */
  verify(blob: Buffer): AgentError | undefined;
}

/** ssh2's default host key algorithms, in its order. */
const DEFAULT_ALGORITHMS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsFor(keyType: string): ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_ALGORITHMS.filter((a) => a === keyType);
}

/** Known key types first, so a host with several keys shows one we can check. */
function preferring(keyTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  const first = [...new Set(keyTypes.flatMap(algorithmsFor))];
  return [...first, ...DEFAULT_ALGORITHMS.filter((a) => !first.includes(a))];
}

/**
 * Prepares the check for one hop. `owner` is the host the session is for (`host.web`),
 * which differs from `target.id` when `target` is one of its jump hosts.
 */
export async function hostKeyCheck(target: SshTarget, owner: string): Promise<HostKeyCheck> {
  const w = who(target, owner);
  const where = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const presented = (blob: Buffer) => `${blobKeyType(blob) ?? 'unknown-type'} ${fingerprint(blob)}`;
  const trust = (blob: Buffer) => {
    const type = blobKeyType(blob) ?? 'ssh-ed25519';
    const short = type.replace(/^ssh-|-.*$/g, ''); // ssh-ed25519 -> ed25519, ecdsa-sha2-nistp256 -> ecdsa
    return (
      `If that fingerprint is the host's (check on the host: ssh-keygen -lf /etc/ssh/ssh_host_${short}_key.pub), ` +
      `trust it by adding its key to ${target.knownHostsFile} (ssh-keyscan -p ${target.port} -t ${short} ${target.host} >> ${target.knownHostsFile}) ` +
      `or by pinning it in the host block: host_key = "${type} ${blob.toString('base64')}"`
    );
  };
  const changed = (blob: Buffer, expected: string) =>
    new AgentError(
      'E_HOST_KEY_CHANGED',
      `WARNING: THE SSH HOST KEY OF ${w} HAS CHANGED. ${where} presented ${presented(blob)}, but ${expected}. ` +
        `Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled. Refused; nothing was done on the host. ` +
        `If the change is expected, verify the new fingerprint on the host, then replace the old key (ssh-keygen -R ${knownHostsName(target.host, target.port)} -f ${target.knownHostsFile}, or edit host_key).`,
      owner,
      { host: target.id, address: where, presented: fingerprint(blob) },
    );

  if (target.hostKey !== undefined) {
    const pinned = parsePinnedKey(target, owner);
    const want = `host_key pins ${pinned.type} ${fingerprint(pinned.key)}`;
    return {
      algorithms: preferring([pinned.type]),
      verify: (blob) => (blob.equals(pinned.key) ? undefined : changed(blob, want)),
    };
  }

  const file = await readKnownHosts(target.knownHostsFile, owner, w);
  const name = knownHostsName(target.host, target.port);
  const matching = entriesFor(file.contents, name).filter((e) => e.marker !== 'cert-authority');
  const known = matching.filter((e) => e.marker === undefined);
  return {
    algorithms: preferring(known.map((e) => e.keyType)),
    verify(blob) {
      const revoked = matching.find((e) => e.marker === 'revoked' && e.key.equals(blob));
      if (revoked) {
        return new AgentError(
          'E_HOST_KEY_REVOKED',
          `${w}: ${where} presented ${presented(blob)}, which ${target.knownHostsFile} line ${revoked.line} marks @revoked. Refused; nothing was done on the host.`,
          owner,
          { host: target.id, address: where, presented: fingerprint(blob) },
        );
      }
      if (known.some((e) => e.key.equals(blob))) return undefined;
      if (known.length > 0) return changed(blob, `${target.knownHostsFile} expects ${known.map((e) => describeEntry(e)).join(', ')}`);
      const missing = file.missing ? `${target.knownHostsFile} does not exist` : `${target.knownHostsFile} has no entry for ${name}`;
      const skipped = file.contents.skipped.length
        ? ` ${file.contents.skipped.length} unreadable line(s) in it were ignored (line ${file.contents.skipped[0]!.line}: ${file.contents.skipped[0]!.reason}).`
        : '';
      return new AgentError(
        'E_HOST_KEY_UNKNOWN',
        `${w}: the SSH host key of ${where} is not known (${missing}): it presented ${presented(blob)}. Refused; nothing was done on the host.${skipped} ${trust(blob)}`,
        owner,
        { host: target.id, address: where, presented: fingerprint(blob), hostKey: `${blobKeyType(blob)} ${blob.toString('base64')}` },
      );
    },
  };
}

function describeEntry(e: KnownHostEntry): string {
  return `${e.keyType} ${fingerprint(e.key)} (line ${e.line})`;
}

function parsePinnedKey(target: SshTarget, owner: string): { type: string; key: Buffer } {
  const [type, b64] = (target.hostKey ?? '').trim().split(/\s+/);
  const key = type !== undefined && b64 !== undefined ? decodeKey(type, b64) : 'expected "TYPE BASE64-KEY", as in a .pub file';
  if (typeof key === 'string') {
    throw new AgentError(
      'E_SSH_CONFIG',
      `${target.id}: host_key is not a public key: ${key} (write it as in the host's /etc/ssh/ssh_host_ed25519_key.pub: host_key = "ssh-ed25519 AAAA...")`,
      owner,
    );
  }
  return { type: type!, key };
}

async function readKnownHosts(path: string, owner: string, w: string): Promise<{ contents: KnownHostsFile; missing: boolean }> {
  try {
    return { contents: parseKnownHosts(await readFile(path, 'utf8')), missing: false };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { contents: { entries: [], skipped: [] }, missing: true };
    throw new AgentError('E_SSH_KNOWN_HOSTS', `${w}: cannot read the known_hosts file ${path}: ${err.message}`, owner);
  }
}
