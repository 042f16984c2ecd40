// One authenticated, host-key-checked SSH connection to a `host`, possibly through a
// chain of jump hosts, and what runs over it: exec channels and SFTP.
//
//   workstation --tcp--> jump[0] --direct-tcpip--> jump[1] ... --direct-tcpip--> host
//
// Each hop is a full SSH connection of its own (own host key check, own credentials),
// carried by a `forwardOut` channel of the hop before it, as `ssh -J` does.
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import type { Duplex } from 'node:stream';
import { Client, type AuthenticationType, type AuthMethod, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { AgentError, type HostConnection } from '../types.js';
import { fingerprint, hostKeyCheck } from './host-key-check.js';
import { PrivateKeys } from './private-key.js';
import { commandLine, RemoteProcess } from './remote-process.js';
import { connectError, forwardError, lostError, seconds, who, type Ssh2Error } from './ssh-errors.js';
import { expandHome, sshTarget, type SshTarget } from './ssh-target.js';

export interface SshConnectOptions {
  /** Per hop: TCP connect, key exchange and authentication must finish within this. Default 20 s. */
  readonly readyTimeoutMs?: number;
  /** Keep-alive interval; 0 turns keep-alives off. Default 15 s. */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keep-alives before the connection counts as lost. Default 3. */
  readonly keepaliveCountMax?: number;
  /** SSH_AUTH_SOCK and TSINFRA_SSH_PASSPHRASE come from here; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Home directory for `~` and the default key files; default os.homedir(). */
  readonly home?: string;
  /** Shared key cache, so that a key is decrypted (and its passphrase asked) once per run. */
  readonly keys?: PrivateKeys;
  /** ssh2's debug output. */
  readonly debug?: (line: string) => void;
}

export interface RunOptions {
  /** Run through `sudo -n`; default: the host's `sudo` setting. */
  readonly sudo?: boolean;
  /** Kill the command and fail with E_SSH_COMMAND_TIMEOUT after this long. Default 60 s. */
  readonly timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string | Buffer;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_READY_TIMEOUT_MS = 20_000;
const DEFAULT_KEEPALIVE_MS = 15_000;
const DEFAULT_KEEPALIVE_COUNT = 3;
const DEFAULT_RUN_TIMEOUT_MS = 60_000;
const CLOSE_GRACE_MS = 5_000;
/** Tried in this order when the host block names neither a key nor the agent, as ssh does. */
const DEFAULT_KEY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];
const sharedKeys = new PrivateKeys();

export class SshConnection {
  private closing = false;
  private lostWith: AgentError | undefined;
  private lastError: Ssh2Error | undefined;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  /** Settles when the connection has ended: with the loss, or undefined when closed by close(). */
  readonly ended: Promise<AgentError | undefined>;

  private constructor(
    readonly target: SshTarget,
    /** The host this connection serves (differs from target.id for a jump host). */
    private readonly owner: string,
    private readonly client: Client,
    private readonly jump: SshConnection | undefined,
    /** The fingerprint of the host key the server showed (`SHA256:...`). */
    readonly hostKey: string,
  ) {
    client.on('error', (e: Ssh2Error) => {
      this.lastError = e;
    });
    this.ended = new Promise((resolve) => {
      client.once('close', () => {
        if (!this.closing) {
          const viaJump = this.jump?.lost ? new Error(`the connection to its jump host ${this.jump.target.id} was lost`) : undefined;
          this.lostWith = lostError(target, owner, viaJump ?? this.lastError);
        }
        resolve(this.lostWith);
        void this.jump?.close();
      });
    });
  }

  /** Connects to the host of an evaluated `host` block (its settings, jump_host chain included). */
  static open(host: Pick<HostConnection, 'address' | 'settings'>, options: SshConnectOptions = {}): Promise<SshConnection> {
    return SshConnection.connect(sshTarget(host.address, host.settings, options.home), options);
  }

  /** Connects to `target`, through its jump hosts first. */
  static async connect(target: SshTarget, options: SshConnectOptions = {}, owner: string = target.id): Promise<SshConnection> {
    const jump = target.jump ? await SshConnection.connect(target.jump, options, owner) : undefined;
    try {
      const sock = jump ? await jump.forwardTo(target, owner, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) : undefined;
      const { client, hostKey } = await handshake(target, owner, sock, options);
      return new SshConnection(target, owner, client, jump, hostKey);
    } catch (e) {
      await jump?.close();
      throw e;
    }
  }

  /** `host.web (root@10.0.0.5:22)`, for messages. */
  /** The ssh2 client, for the agent installer's exec and SFTP round trips. */
  get sshClient(): Client {
    return this.client;
  }

  get who(): string {
    return who(this.target, this.owner);
  }

  /** The loss of this connection, once it is lost. */
  get lost(): AgentError | undefined {
    return this.lostWith;
  }

  /**
   * Starts `command` on the host (a shell command line, or an argv array that is quoted).
   * With sudo (default: the host's `sudo` setting) it runs as `sudo -n -- command`, and
   * a sudo that wants a password ends with exit.error E_SUDO_PASSWORD.
   */
  exec(command: string | readonly string[], options: { readonly sudo?: boolean } = {}): Promise<RemoteProcess> {
    const sudo = options.sudo ?? this.target.sudo;
    const line = commandLine(command, sudo);
    return new Promise((resolve, reject) => {
      if (this.lostWith) return reject(this.lostWith);
      try {
        this.client.exec(line, (err, channel) => {
          if (err) return reject(this.lostWith ?? this.channelError(err, `cannot start a command`));
          resolve(new RemoteProcess(channel, line, sudo, { host: this.owner, who: this.who, user: this.target.user, lost: () => this.lostWith }));
        });
      } catch (e) {
        reject(this.lostWith ?? this.channelError(e as Error, 'cannot start a command'));
      }
    });
  }

  /**
   * A channel to a Unix socket on the host (OpenSSH's direct-streamlocal), opened by sshd
   * as the login user. Undefined when the server refuses it: no such socket, no
   * permission, or stream forwarding disabled (AllowStreamLocalForwarding no).
   */
  openUnixSocket(path: string): Promise<ClientChannel | undefined> {
    return new Promise((resolve, reject) => {
      if (this.lostWith) return reject(this.lostWith);
      try {
        this.client.openssh_forwardOutStreamLocal(path, (err, channel) => resolve(err ? undefined : channel));
      } catch (e) {
        reject(this.lostWith ?? this.channelError(e as Error, `cannot open ${path}`));
      }
    });
  }

  /**
   * Runs `command` to its end and collects its output (UTF-8). A non-zero exit is a
   * result, not an error; a sudo refusal, a lost connection or the timeout are errors.
   */
  async run(command: string | readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const proc = await this.exec(command, options.sudo !== undefined ? { sudo: options.sudo } : {});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c: Buffer) => err.push(c));
    proc.stdin.end(options.input ?? '');
    const timeoutMs = options.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const exit = await Promise.race([proc.exit, timedOut]).finally(() => clearTimeout(timer));
    if (exit === 'timeout') {
      proc.kill('KILL');
      throw new AgentError('E_SSH_COMMAND_TIMEOUT', `${this.who}: ${proc.command} did not finish within ${seconds(timeoutMs)}; it was stopped`, this.owner);
    }
    if (exit.error) throw exit.error;
    return { code: exit.code, signal: exit.signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
  }

  /** The connection's SFTP session, opened on first use. */
  sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      const session = new Promise<SFTPWrapper>((resolve, reject) => {
        if (this.lostWith) return reject(this.lostWith);
        this.client.sftp((err, sftp) => {
          if (err)
            return reject(
              this.lostWith ?? this.channelError(err, 'cannot open an SFTP session (is "Subsystem sftp" set in the host\'s sshd_config?)', 'E_SSH_SFTP'),
            );
          sftp.once('close', () => {
            if (this.sftpSession === session) this.sftpSession = undefined;
          });
          resolve(sftp);
        });
      });
      this.sftpSession = session;
      session.catch(() => {
        if (this.sftpSession === session) this.sftpSession = undefined;
      });
    }
    return this.sftpSession;
  }

  /** Ends the connection (and its jump hosts' connections). Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.client.end();
      const timer = setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS);
      await this.ended;
      clearTimeout(timer);
    }
    await this.ended;
    await this.jump?.close();
  }

  /** Opens a tunnel from this host to `next` (a direct-tcpip channel), within `timeoutMs`. */
  private forwardTo(next: SshTarget, owner: string, timeoutMs: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        reject(
          new AgentError(
            'E_SSH_TIMEOUT',
            `${who(next, owner)}: no connection through ${this.target.id} (${this.target.host}) within ${seconds(timeoutMs)}`,
            owner,
            {
              host: next.id,
              via: this.target.id,
            },
          ),
        );
      }, timeoutMs);
      this.client.forwardOut('127.0.0.1', 0, next.host, next.port, (err, channel) => {
        clearTimeout(timer);
        if (done) return channel?.close();
        if (err) return reject(this.lostWith ?? forwardError(err as Ssh2Error, this.target, next, owner));
        return resolve(channel);
      });
    });
  }

  private channelError(err: Error, what: string, code = 'E_SSH_CHANNEL'): AgentError {
    return new AgentError(code, `${this.who}: ${what}: ${err.message.replace(/^\(SSH\) /, '')}`, this.owner);
  }
}

/** Key exchange (host key checked) and authentication; resolves with a ready client. */
async function handshake(target: SshTarget, owner: string, sock: Duplex | undefined, options: SshConnectOptions): Promise<{ client: Client; hostKey: string }> {
  const check = await hostKeyCheck(target, owner);
  const auth = await authMethods(target, owner, options);
  const readyTimeout = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const client = new Client();
  return new Promise((resolve, reject) => {
    let settled = false;
    let refused: AgentError | undefined;
    let presented = '';
    const fail = (e: AgentError) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.destroy();
      reject(e);
    };
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      resolve({ client, hostKey: presented });
    });
    client.on('error', (err: Ssh2Error) => fail(refused ?? connectError(err, target, owner, readyTimeout, auth.tried)));
    client.on('close', () =>
      fail(refused ?? connectError(Object.assign(new Error('connection lost before login'), { level: 'protocol' }), target, owner, readyTimeout, auth.tried)),
    );
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      readyTimeout,
      keepaliveInterval: options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_MS,
      keepaliveCountMax: options.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
      algorithms: { serverHostKey: check.algorithms },
      hostVerifier: (key: Buffer) => {
        presented = fingerprint(key);
        refused = check.verify(key);
        return refused === undefined;
      },
      authHandler: auth.methods,
      ...(sock ? { sock } : {}),
      ...(options.debug ? { debug: options.debug } : {}),
    };
    // Requests and answers are small and go back and forth: Nagle would hold some for a delayed ACK (40 ms).
    client.once('connect', () => client.setNoDelay(true));
    try {
      client.connect(config);
    } catch (e) {
      fail(new AgentError('E_SSH_CONFIG', `${who(target, owner)}: ${(e as Error).message}`, owner));
    }
  });
}

/** The credentials to offer, in order, and how to name them in an E_SSH_AUTH message. */
async function authMethods(target: SshTarget, owner: string, options: SshConnectOptions): Promise<{ methods: AuthMethod[]; tried: string }> {
  const env = options.env ?? process.env;
  const keys = options.keys ?? sharedKeys;
  const username = target.user;
  const methods: AuthMethod[] = [];
  const tried: string[] = [];
  const agentSock = env['SSH_AUTH_SOCK'];
  const addAgent = () => {
    methods.push({ type: 'agent' as AuthenticationType, username, agent: agentSock } as AuthMethod);
    tried.push(`ssh-agent at ${agentSock}`);
  };
  if (target.agent) {
    if (!agentSock) {
      throw new AgentError(
        'E_SSH_AGENT_UNAVAILABLE',
        `${who(target, owner)}: agent = true, but SSH_AUTH_SOCK is not set: start ssh-agent and add the key (ssh-add)`,
        owner,
      );
    }
    addAgent();
  }
  if (target.privateKeyFile !== undefined) {
    const key = await keys.load(target.privateKeyFile, owner);
    methods.push({ type: 'publickey', username, key } as AuthMethod);
    tried.push(`key ${target.privateKeyFile} (${key.type} ${fingerprint(key.getPublicSSH())})`);
  }
  if (methods.length > 0) return { methods, tried: tried.join(', ') };

  // Neither named: the agent if there is one, then the usual key files that load
  // without asking (as ssh does); an unreadable or locked default key is skipped.
  if (agentSock) addAgent();
  const home = options.home ?? homedir();
  for (const file of DEFAULT_KEY_FILES.map((f) => expandHome(f, home))) {
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    const key = await keys.load(file, owner, { interactive: false }).catch(() => undefined);
    if (!key) continue;
    methods.push({ type: 'publickey', username, key } as AuthMethod);
    tried.push(`key ${file}`);
  }
  if (methods.length === 0) {
    throw new AgentError(
      'E_SSH_NO_CREDENTIALS',
      `${who(target, owner)}: no credentials to log in with: set private_key_file, or agent = true with ssh-agent running (no SSH_AUTH_SOCK, and none of ${DEFAULT_KEY_FILES.join(', ')} is a usable key)`,
      owner,
    );
  }
  return { methods, tried: tried.join(', ') };
}
