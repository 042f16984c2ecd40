// The "ssh" transport: one SSH connection per host per run (host key checked strictly,
// jump hosts followed), the agent installed or upgraded over it when needed, then the
// agent run over one exec channel, speaking the same protocol as the local transport.
//
//   connect (ssh/ssh-connection.ts) -> install (install/agent-installer.ts: one probe,
//   uploads only when the version or a checksum differs) -> exec `[sudo -n --] node agent.mjs`
//   -> AgentClient over the channel's stdin/stdout -> close: shutdown, then the connection
import { AgentClient } from './agent-client.js';
import { installAgent } from './install/agent-installer.js';
import { SshConnection, type SshConnectOptions } from './ssh/ssh-connection.js';
import { AgentError, type AgentSession, type HostConnection, type Transport } from './types.js';

export interface SshTransportOptions {
  readonly connect?: SshConnectOptions;
  /** Per-call inactivity timeout of the agent session (see AgentClientOptions.timeoutMs). */
  readonly timeoutMs?: number;
}

export class SshTransport implements Transport {
  constructor(private readonly options: SshTransportOptions = {}) {}

  async open(host: HostConnection): Promise<AgentSession> {
    const conn = await SshConnection.open(host, this.options.connect ?? {});
    try {
      const sudo = host.settings['sudo'] === true;
      const installed = await installAgent(conn.sshClient, { host: host.address, sudo });
      const proc = await conn.exec(installed.command, { sudo });
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
          dispose: () => conn.close(),
        },
      );
    } catch (e) {
      await conn.close();
      if (e instanceof AgentError) throw e;
      throw new AgentError('E_AGENT_START', `${host.address}: cannot start the agent over SSH: ${(e as Error).message}`, host.address);
    }
  }
}
