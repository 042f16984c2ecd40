// The "local" transport: runs the agent on this machine as a child process and talks
// to it over its stdin/stdout, exactly as the SSH transport will over an exec channel.
// With `netns` set the agent runs inside that network namespace (`nsenter --net`),
// which is how tests keep away from the machine's own interfaces.
//
// Closing: shutdown request -> end of stdin -> wait for exit (grace) -> SIGTERM by pid
// -> SIGKILL after another grace period.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { findProgram } from '../agent/system/command.js';
import { AgentClient } from './agent-client.js';
import { AgentError, type AgentSession, type HostConnection, type Transport } from './types.js';

export interface LocalTransportOptions {
  /** The agent's main.js; default: the one compiled next to this module. */
  readonly agentMain?: string;
  /** Environment of the agent; default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Per-call inactivity timeout (see AgentClientOptions.timeoutMs). */
  readonly timeoutMs?: number;
  readonly helloTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  /** How long a closing agent may take to exit before it is signalled. Default 5 s. */
  readonly graceMs?: number;
}

const DEFAULT_AGENT_MAIN = fileURLToPath(new URL('../agent/main.js', import.meta.url));
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export class LocalTransport implements Transport {
  constructor(private readonly options: LocalTransportOptions = {}) {}

  async open(host: HostConnection): Promise<AgentSession> {
    const argv = this.command(host);
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: this.options.env ?? process.env });
    } catch (e) {
      throw new AgentError('E_AGENT_START', `cannot start the agent for ${host.address}: ${(e as Error).message}`, host.address);
    }
    let exit: string | undefined;
    let spawnError: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        exit = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve();
      });
      child.on('error', (e) => {
        spawnError = e.message;
        if (child.pid === undefined) resolve();
      });
    });
    const grace = this.options.graceMs ?? 5000;
    return AgentClient.open(
      { fromAgent: child.stdout, toAgent: child.stdin, stderr: child.stderr },
      {
        host: host.address,
        ...(this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {}),
        ...(this.options.helloTimeoutMs !== undefined ? { helloTimeoutMs: this.options.helloTimeoutMs } : {}),
        ...(this.options.closeTimeoutMs !== undefined ? { closeTimeoutMs: this.options.closeTimeoutMs } : {}),
        describeExit: async () => {
          await exited;
          return spawnError ? `could not start ${argv.join(' ')}: ${spawnError}` : exit;
        },
        dispose: () => reap(child, exited, grace),
      },
    );
  }

  private command(host: HostConnection): string[] {
    const agent = [process.execPath, this.options.agentMain ?? DEFAULT_AGENT_MAIN];
    if (host.netns === undefined) return agent;
    if (!NETNS_NAME.test(host.netns)) {
      throw new AgentError('E_INVALID_NETNS', `${host.address}: ${JSON.stringify(host.netns)} is not a valid network namespace name`, host.address);
    }
    // nsenter switches only the network namespace. `ip netns exec` would also give the
    // agent a mount namespace with a fresh /sys, without the cgroup file systems.
    const nsenter = findProgram('nsenter');
    if (!nsenter) throw new AgentError('E_AGENT_START', `${host.address}: running the agent in a network namespace needs util-linux (nsenter)`, host.address);
    return [nsenter, `--net=/run/netns/${host.netns}`, '--', ...agent];
  }
}

/** Waits for the agent to exit on its own, then signals it by pid, TERM before KILL. */
async function reap(child: ChildProcessWithoutNullStreams, exited: Promise<void>, graceMs: number): Promise<void> {
  const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  if (await within(graceMs)) return;
  child.kill('SIGTERM');
  if (await within(graceMs)) return;
  child.kill('SIGKILL');
  await within(graceMs);
}
