// A `host` block's SSH settings, read from the evaluated host object into a typed
// target. `jump_host = host.bastion` evaluates to the bastion's host object, so a jump
// chain is a chain of such objects, each read the same way.
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { parseDuration } from '../../agent/runtime/durations.js';
import { AgentError } from '../types.js';

export interface SshTarget {
  /** The host's address in the configuration (`host.web`), for messages. */
  readonly id: string;
  /** Network name or IP the connection goes to. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Absolute path of the private key (`private_key_file`, `~` expanded). */
  readonly privateKeyFile?: string;
  /** `agent = true`: authenticate with the user's ssh-agent (SSH_AUTH_SOCK). */
  readonly agent: boolean;
  /** Absolute path of the known_hosts file (default ~/.ssh/known_hosts). */
  readonly knownHostsFile: string;
  /** `host_key = "ssh-ed25519 AAAA..."`: this key only, known_hosts is not read. */
  readonly hostKey?: string;
  readonly sudo: boolean;
  /** `agent_idle_timeout` in ms: how long the agent stays resident after a run (0: not at all). */
  readonly agentIdleMs: number;
  /** The host this one is reached through (`jump_host`), itself possibly behind another. */
  readonly jump?: SshTarget;
}

export const DEFAULT_PORT = 22;
export const DEFAULT_USER = 'root';
const MAX_JUMPS = 8;
/** The agent stays this long after a run: GitOps pipelines and operators run again within minutes. */
export const DEFAULT_AGENT_IDLE_MS = 10 * 60_000;

/** `root@10.0.0.5:22` (IPv6 in brackets), for messages. */
export function endpoint(t: Pick<SshTarget, 'host' | 'port' | 'user'>): string {
  return `${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** Expands `~` and `~/...` to the home directory and makes the path absolute. */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * Reads the SSH settings of the host `id` from its evaluated host object.
 * `home` is the workstation user's home (tests override it).
 */
export function sshTarget(id: string, settings: Readonly<Record<string, unknown>>, home: string = homedir()): SshTarget {
  return read(id, settings, home, [id]);
}

function read(id: string, s: Readonly<Record<string, unknown>>, home: string, chain: string[]): SshTarget {
  const bad = (attr: string, want: string): never => {
    throw new AgentError('E_SSH_CONFIG', `${id}: ${attr} must be ${want}, got ${JSON.stringify(s[attr])}`, chain[0]!);
  };
  const str = (attr: string): string | undefined => {
    const v = s[attr];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' && v !== '' ? v : bad(attr, 'a non-empty string');
  };
  const bool = (attr: string): boolean => {
    const v = s[attr];
    if (v === undefined || v === null) return false;
    return typeof v === 'boolean' ? v : bad(attr, 'true or false');
  };
  const duration = (attr: string, fallback: number): number => {
    const v = str(attr);
    if (v === undefined) return fallback;
    return parseDuration(v) ?? bad(attr, 'a duration such as "10m", "30s" or "0s"');
  };
  if (s['transport'] === 'local') {
    throw new AgentError('E_SSH_CONFIG', `${id} uses transport = "local" and cannot serve as a jump host for ${chain[0]}`, chain[0]!);
  }
  const host = str('address') ?? bad('address', 'the host name or IP address to connect to');
  const port = s['port'] ?? DEFAULT_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) bad('port', 'a port number from 1 to 65535');
  const keyFile = str('private_key_file');
  const hostKey = str('host_key');
  const target: SshTarget = {
    id,
    host,
    port: port as number,
    user: str('user') ?? DEFAULT_USER,
    ...(keyFile !== undefined ? { privateKeyFile: expandHome(keyFile, home) } : {}),
    agent: bool('agent'),
    knownHostsFile: expandHome(str('known_hosts_file') ?? '~/.ssh/known_hosts', home),
    ...(hostKey !== undefined ? { hostKey } : {}),
    sudo: bool('sudo'),
    agentIdleMs: duration('agent_idle_timeout', DEFAULT_AGENT_IDLE_MS),
  };
  const jump = s['jump_host'];
  if (jump === undefined || jump === null) return target;
  if (typeof jump !== 'object' || Array.isArray(jump)) bad('jump_host', 'a host (jump_host = host.bastion)');
  const j = jump as Record<string, unknown>;
  const jumpId = typeof j['id'] === 'string' ? j['id'] : `jump host of ${id}`;
  if (chain.includes(jumpId)) {
    throw new AgentError('E_SSH_CONFIG', `${chain[0]}: the jump_host chain loops: ${[...chain, jumpId].join(' -> ')}`, chain[0]!);
  }
  if (chain.length > MAX_JUMPS) {
    throw new AgentError('E_SSH_CONFIG', `${chain[0]}: the jump_host chain is longer than ${MAX_JUMPS} hosts`, chain[0]!);
  }
  return { ...target, jump: read(jumpId, j, home, [...chain, jumpId]) };
}
