// Throw-away network namespaces for real-kernel tests: every test works inside its
// own `tsit-<random>` namespace so it never touches the machine's interfaces or firewall.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalTransport } from '../../transport/local.js';
import type { AgentSession } from '../../transport/types.js';

const run = promisify(execFile);

export async function createNetns(): Promise<string> {
  const name = `tsit-${randomBytes(4).toString('hex')}`;
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return name;
}

export async function deleteNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]).catch(() => undefined);
}

/** Runs a command inside the namespace; resolves with its output whatever the exit code. */
export async function inNetns(netns: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', netns, ...argv]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** Fresh state and run directories for an agent, so tests never write under /var/lib. */
export async function agentDirs(): Promise<{ env: NodeJS.ProcessEnv; remove: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'tsit-agent-'));
  return {
    env: { ...process.env, TSINFRA_AGENT_STATE_DIR: join(base, 'state'), TSINFRA_AGENT_RUN_DIR: join(base, 'run') },
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

/** An agent running inside its own throw-away namespace, and how to tear it all down. */
export interface NetnsAgent {
  readonly netns: string;
  readonly session: AgentSession;
  readonly stateDir: string;
  close(): Promise<void>;
}

export async function startAgentInNetns(options: { timeoutMs?: number } = {}): Promise<NetnsAgent> {
  const netns = await createNetns();
  const dirs = await agentDirs();
  const teardown = async () => {
    await dirs.remove();
    await deleteNetns(netns);
  };
  try {
    const transport = new LocalTransport({ env: dirs.env, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
    const session = await transport.open({ address: 'host.test', transport: 'local', netns, settings: {} });
    return {
      netns,
      session,
      stateDir: dirs.env['TSINFRA_AGENT_STATE_DIR']!,
      close: async () => {
        await session.close().catch(() => undefined);
        await teardown();
      },
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}
