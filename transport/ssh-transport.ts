// The "ssh" transport: one SSH connection per host per run (host key checked strictly,
// jump hosts followed), then the agent, reached one of two ways:
//
//   resident (root logins): a direct-streamlocal channel to <run>/agent.sock, served by
//     the agent a previous run left on the host (agent/resident.ts). Used when it is of
//     this tsinfra's build: nothing is started or checked on the host, one round trip.
//   exec: `[sudo -n --] sh -s` -> node running install/host-bootstrap.ts, which checks the
//     installed agent's checksums, installs an SFTP upload when they differ, then becomes
//     the agent in the same process (install/agent-bootstrap.ts). A host without Node.js
//     20+ takes install/agent-installer.ts's path, which uploads one. The agent stays
//     resident afterwards for agent_idle_timeout, replacing one of an older build.
//
// Either way the AgentClient speaks the same protocol as the local transport.
import type { ClientChannel } from 'ssh2';
import { AgentClient } from './agent-client.js';
import { loadAgentBundle, type AgentBundle } from './install/agent-bundle.js';
import { bootstrapAgent } from './install/agent-bootstrap.js';
import { installAgent } from './install/agent-installer.js';
import { DEFAULT_RUN_DIR } from './install/install-paths.js';
import { SshConnection, type SshConnectOptions } from './ssh/ssh-connection.js';
import { AgentError, type AgentSession, type HostConnection, type Transport } from './types.js';

const RESIDENT_SOCKET = `${DEFAULT_RUN_DIR}/agent.sock`;
/** The resident agent answers at once; a slow answer means it is busy or stuck: start a fresh one. */
const RESIDENT_HELLO_TIMEOUT_MS = 10_000;

export interface SshTransportOptions {
  readonly connect?: SshConnectOptions;
  /** Per-call inactivity timeout of the agent session (see AgentClientOptions.timeoutMs). */
  readonly timeoutMs?: number;
  /** The agent to install; default dist/agent-bundle. */
  readonly bundleDir?: string;
}

export class SshTransport implements Transport {
  private bundle: Promise<AgentBundle> | undefined;

  constructor(private readonly options: SshTransportOptions = {}) {}

  async open(host: HostConnection): Promise<AgentSession> {
    // Read and checked once per run, not once per host.
    this.bundle ??= loadAgentBundle(this.options.bundleDir ?? process.env['TSINFRA_AGENT_BUNDLE_DIR']).catch((e: Error) => {
      throw new AgentError('E_AGENT_BUNDLE', `cannot read the agent to install: ${e.message}`, host.address);
    });
    const bundle = await this.bundle;
    const conn = await SshConnection.open(host, this.options.connect ?? {});
    try {
      const { sudo, user, agentIdleMs } = conn.target;
      // Only root reaches root's socket; a sudo login starts the agent every run.
      const resident = agentIdleMs > 0 && !sudo && user === 'root' ? await this.resident(conn, host, bundle) : undefined;
      if (resident) return resident;
      const lingerMs = sudo ? 0 : agentIdleMs;
      // One shell and one Node.js start where the host has Node.js 20+; else the installer uploads one.
      let proc = (await bootstrapAgent(conn, { host: host.address, sudo, bundle, lingerMs }))?.proc;
      if (!proc) {
        const installed = await installAgent(conn.sshClient, { host: host.address, sudo, bundle, lingerMs });
        proc = await conn.exec(installed.command, { sudo });
      }
      return await AgentClient.open(
        { fromAgent: proc.stdout, toAgent: proc.stdin, stderr: proc.stderr },
        {
          host: host.address,
          ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
          describeExit: async () => {
            const exit = await proc.exit;
            // A refused sudo or a lost connection says more than "the agent exited".
            if (exit.error) return exit.error.message;
            return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
          },
          connectionLost: () => lostConnection(conn),
          dispose: () => conn.close(),
        },
      );
    } catch (e) {
      await conn.close();
      if (e instanceof AgentError) throw e;
      throw new AgentError('E_AGENT_START', `${host.address}: cannot start the agent over SSH: ${(e as Error).message}`, host.address);
    }
  }

  /** A session with the resident agent when one of this build is there; undefined otherwise. */
  private async resident(conn: SshConnection, host: HostConnection, bundle: AgentBundle): Promise<AgentSession | undefined> {
    const channel = await conn.openUnixSocket(RESIDENT_SOCKET);
    if (!channel) return undefined;
    // Until the session is taken, closing it must leave the SSH connection for the exec path.
    let taken = false;
    let client: AgentClient;
    try {
      client = await AgentClient.open(
        { fromAgent: channel, toAgent: channel },
        {
          host: host.address,
          helloTimeoutMs: RESIDENT_HELLO_TIMEOUT_MS,
          ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
          describeExit: () => 'the resident agent closed the session',
          connectionLost: () => lostConnection(conn),
          dispose: async () => (taken ? conn.close() : endChannel(channel)),
        },
      );
    } catch {
      return undefined;
    }
    if (client.agent?.agentVersion === bundle.version) {
      taken = true;
      return client;
    }
    // Another build: the agent started by exec replaces it.
    await client.close();
    return undefined;
  }
}

/** The connection's loss, given a moment to be noticed after the channel ended. */
async function lostConnection(conn: SshConnection): Promise<AgentError | undefined> {
  await Promise.race([conn.ended, new Promise((r) => setTimeout(r, 500).unref())]);
  return conn.lost;
}

function endChannel(channel: ClientChannel): void {
  channel.on('error', () => undefined);
  channel.destroy();
}
