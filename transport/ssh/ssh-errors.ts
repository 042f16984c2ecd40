// Turns what ssh2 and the socket report into AgentErrors with stable codes, naming the
// host (`host.web`) and the network address in every message.
import { AgentError } from '../types.js';
import { endpoint, type SshTarget } from './ssh-target.js';

/** ssh2 errors carry where they came from (`level`) and, for socket errors, the errno `code`. */
export interface Ssh2Error extends Error {
  readonly level?: string;
  readonly code?: string | number;
  /** Channel open failures (forwardOut): the SSH reason code. */
  readonly reason?: number;
}

/** `host.web (root@10.0.0.5:22)`, or for a jump host `host.bastion (...), the jump host of host.web,`. */
export function who(hop: SshTarget, owner: string): string {
  return `${hop.id} (${endpoint(hop)})${owner === hop.id ? '' : `, the jump host of ${owner},`}`;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA']);
const UNREACHABLE = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EACCES', 'EPERM', 'EADDRNOTAVAIL']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** A failure before the connection was ready (connect, key exchange, authentication). */
export function connectError(err: Ssh2Error, hop: SshTarget, owner: string, readyTimeoutMs: number, authTried: string): AgentError {
  const w = who(hop, owner);
  const code = typeof err.code === 'string' ? err.code : '';
  const make = (c: string, msg: string) => new AgentError(c, `${w}: ${msg}`, owner, { host: hop.id, address: endpoint(hop) });
  if (err.level === 'client-dns' || DNS.has(code)) {
    return make('E_SSH_DNS', `cannot resolve the host name ${hop.host} (${code || err.message}); check the address and the DNS of this machine`);
  }
  if (code === 'ECONNREFUSED') return make('E_SSH_REFUSED', `connection refused: nothing listens on port ${hop.port} (is sshd running, is the port right?)`);
  if (UNREACHABLE.has(code)) return make('E_SSH_UNREACHABLE', `${hop.host} is unreachable from here (${code}: no route, or a firewall refuses it)`);
  if (code === 'ETIMEDOUT' || err.level === 'client-timeout') {
    return make('E_SSH_TIMEOUT', `no SSH handshake within ${seconds(readyTimeoutMs)} (host down, packets dropped, or a slow network: ${err.message})`);
  }
  if (err.level === 'client-authentication') {
    return make(
      'E_SSH_AUTH',
      `authentication as ${hop.user} failed (tried: ${authTried}); check that the public key is authorized for ${hop.user} on the host`,
    );
  }
  if (RESET.has(code) || /connection lost|closed/i.test(err.message)) {
    return make(
      'E_SSH_LOST',
      `the connection was closed before login completed (${err.message}); the server may be overloaded (MaxStartups) or refuse this client`,
    );
  }
  return make('E_SSH_HANDSHAKE', `the SSH handshake failed: ${err.message}`);
}

/** A failure of a ready connection: it ended without us closing it. */
export function lostError(hop: SshTarget, owner: string, cause: Ssh2Error | undefined): AgentError {
  let why = 'the server closed it';
  if (cause?.level === 'client-timeout') why = 'the host stopped answering keep-alives';
  else if (cause) why = cause.message;
  return new AgentError('E_SSH_LOST', `${who(hop, owner)}: the SSH connection was lost (${why})`, owner, { host: hop.id, address: endpoint(hop) });
}

/** A jump host could not open a tunnel to the next hop (`forwardOut` / direct-tcpip). */
export function forwardError(err: Ssh2Error, jump: SshTarget, next: SshTarget, owner: string): AgentError {
  const msg = err.message.replace(/^\(SSH\) /, '');
  const w = who(next, owner);
  const via = `through ${jump.id} (${endpoint(jump)})`;
  const make = (c: string, what: string) => new AgentError(c, `${w}: ${what} ${via}: ${msg}`, owner, { host: next.id, address: endpoint(next), via: jump.id });
  if (/administratively prohibited/i.test(msg)) return make('E_SSH_FORWARD_DENIED', 'the jump host does not allow TCP forwarding (AllowTcpForwarding) to');
  if (/refused/i.test(msg)) return make('E_SSH_REFUSED', 'connection refused');
  if (/name or service|not known|resolve|name resolution|getaddrinfo/i.test(msg)) return make('E_SSH_DNS', `cannot resolve ${next.host}`);
  if (/timed out/i.test(msg)) return make('E_SSH_TIMEOUT', 'connect timed out');
  if (/no response from server|not connected|lost/i.test(msg)) return make('E_SSH_LOST', 'the connection to the jump host was lost while connecting');
  return make('E_SSH_UNREACHABLE', 'cannot connect');
}

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
