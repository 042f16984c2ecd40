// Entry point of the agent: `node dist/agent/main.js`, started by a transport with
// stdin/stdout as the protocol channel (see rpc/protocol.ts) and stderr for logs.
//
// Environment: TSINFRA_AGENT_STATE_DIR (default /var/lib/tsinfra), TSINFRA_AGENT_RUN_DIR
// (default /run/tsinfra), TSINFRA_AGENT_LINGER_MS (stay resident that long after the
// session, see resident.ts; the SSH transport sets it from the host's agent_idle_timeout).
import { mkdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { format } from 'node:util';
import { config as zodConfig } from 'zod';
import { AgentFileLog } from './log.js';
import { agentMethods } from './methods.js';
import { builtinResources } from './resources/builtin.js';
import { ResidentAgent } from './resident.js';
import { RpcServer } from './rpc/server.js';
import { ProcessRunner } from './system/command.js';
import { SupervisorClient } from './supervisor/supervisor-client.js';
import { agentBuild } from './version.js';

// zod compiles a fast parser (`new Function`) for each object schema on its first parse,
// which pays only over many parses; a session agent parses each kind of message a few times.
zodConfig({ jitless: true });

// stdout carries protocol lines only: anything a library prints goes to stderr.
for (const level of ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const) {
  console[level] = (...args: unknown[]) => void process.stderr.write(format(...args) + '\n');
}

process.umask(0o077);
const stateDir = process.env['TSINFRA_AGENT_STATE_DIR'] || '/var/lib/tsinfra';
const runDir = process.env['TSINFRA_AGENT_RUN_DIR'] || '/run/tsinfra';
const dirProblems: string[] = [];
for (const dir of [stateDir, runDir]) {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    dirProblems.push(`cannot create ${dir}: ${(e as Error).message}`);
  }
}

// Once the engine is gone, writes to stdout and stderr fail with EPIPE. Nobody is left to
// tell: drop them (the log file keeps the record), finish what is in progress, and let
// the end of stdin stop the agent. Unhandled, each failed write would be logged to
// stderr again, failing again, forever.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

const log = new AgentFileLog(process.stderr, dirProblems.length === 0 ? join(stateDir, 'agent.log') : undefined);
for (const p of dirProblems) log.warn(p);
// The agent must outlive a bug in one request: log it and keep serving the others.
process.on('uncaughtException', (e) => log.error(`uncaught exception: ${e.stack ?? e.message}`));
process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));

const runner = new ProcessRunner(log);

/** One engine session: its own supervisor connection, so that ending one session's stream ends no other's. */
async function serveSession(input: Readable, output: Writable): Promise<'eof' | 'shutdown'> {
  const supervisor = new SupervisorClient(runDir, log);
  const registry = builtinResources(runner, log, { stateDir, runDir }, supervisor);
  const server = new RpcServer(input, output, agentMethods({ registry, runner, stateDir, supervisor }), { log });
  try {
    return await server.serve();
  } finally {
    supervisor.close();
  }
}

log.info(`agent ${agentBuild()} started (node ${process.version}, pid ${process.pid})`);
// Root's agent may stay to serve the next runs (see resident.ts); the engine asks for it.
const lingerMs = Number(process.env['TSINFRA_AGENT_LINGER_MS'] ?? 0);
const residency =
  lingerMs > 0 && process.getuid?.() === 0 && dirProblems.length === 0
    ? ResidentAgent.claim({ runDir, lingerMs, log, serve: (conn) => serveSession(conn, conn).then(() => undefined) })
    : Promise.resolve(undefined);

// No top-level await: the bundled agent is a CommonJS script (see agent-launcher.ts).
async function main(): Promise<void> {
  const reason = await serveSession(process.stdin, process.stdout);
  log.info(`agent session over: ${reason === 'eof' ? 'end of input' : 'shutdown requested'}`);
  const resident = await residency.catch((e: Error) => {
    log.warn(`cannot stay resident: ${e.message}`);
    return undefined;
  });
  if (resident) {
    // Let the last response reach the pipe, then let go of the SSH session's stdio.
    process.stdout.write('', () => void resident.stdioDone());
  } else {
    log.close();
    // Let the last response reach the pipe before exiting, but exit in any case.
    process.stdout.end(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000);
  }
}

void main();
