// Entry point of the container supervisor: one per host (per run directory), started by
// the agent on first need, detached from it. It listens on <run>/supervisor.sock, adopts
// the containers a previous supervisor left running, and exits on its own once it has
// no containers and no clients for a while. SIGTERM stops it without touching containers.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { format } from 'node:util';
import { AgentFileLog } from '../log.js';
import { RpcServer } from '../rpc/server.js';
import { holdsPidFile, takePidFile } from '../system/pid-file.js';
import { agentBuild } from '../version.js';
import { wireSupervisorDeps } from './supervisor-wiring.js';
import { supervisorMethods } from './protocol.js';
import { SUPERVISOR_PID_FILE, supervisorSocket } from './supervisor-client.js';
import { Supervisor } from './supervisor.js';
import { supervisorImpls } from './supervisor-methods.js';

for (const level of ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const) {
  console[level] = (...args: unknown[]) => void process.stderr.write(format(...args) + '\n');
}
process.umask(0o077);
const stateDir = process.env['TSINFRA_AGENT_STATE_DIR'] || '/var/lib/tsinfra';
const runDir = process.env['TSINFRA_AGENT_RUN_DIR'] || '/run/tsinfra';
const idleMs = Number(process.env['TSINFRA_SUPERVISOR_IDLE_MS'] || 60_000);
for (const dir of [stateDir, runDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });

const log = new AgentFileLog(process.stderr, join(stateDir, 'supervisor.log'));
process.on('uncaughtException', (e) => log.error(`uncaught exception: ${e.stack ?? e.message}`));
process.on('unhandledRejection', (e) => log.error(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));

const socketPath = supervisorSocket(runDir);
const deps = wireSupervisorDeps({ stateDir, runDir, log });
const supervisor = new Supervisor(deps);
const clients = new Set<Socket>();
let lastActivity = Date.now();

const server = createServer((conn) => {
  clients.add(conn);
  lastActivity = Date.now();
  conn.on('error', () => undefined);
  const rpc = new RpcServer(conn, conn, supervisorImpls(supervisor, deps), { log, table: supervisorMethods });
  void rpc.serve().then(() => {
    clients.delete(conn);
    lastActivity = Date.now();
    conn.end();
  });
});

function listen(): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
}

const pidFile = join(runDir, SUPERVISOR_PID_FILE);
// One supervisor per run directory.
if (!takePidFile(pidFile, 'supervisor')) {
  log.info('another supervisor is running; exiting');
  process.exit(0);
}

async function exit(reason: string): Promise<never> {
  log.info(`supervisor stopping: ${reason}; containers keep running`);
  supervisor.detachAll();
  await deps.inits.drain();
  // A successor may already own these: remove them only while they are ours.
  if (holdsPidFile(pidFile)) {
    server.close();
    rmSync(pidFile, { force: true });
  }
  log.close();
  process.exit(0);
}

// No top-level await: the bundled agent is a CommonJS script (see agent-launcher.ts).
async function start(): Promise<void> {
  // Containers are known before the first client can ask about them.
  await supervisor.adopt();
  rmSync(socketPath, { force: true });
  await listen();
  log.info(`supervisor ${agentBuild()} started (pid ${process.pid})`);
  process.on('SIGTERM', () => void exit('SIGTERM'));
  process.on('SIGINT', () => void exit('SIGINT'));
  setInterval(
    () => {
      if (supervisor.size === 0 && clients.size === 0 && Date.now() - lastActivity > idleMs) void exit('idle with no containers');
    },
    Math.min(idleMs, 5000),
  ).unref();
  // Keep the process alive for the idle check even with no clients.
  setInterval(() => undefined, 1 << 30);
}

start().catch((e: Error) => {
  log.error(`supervisor cannot start: ${e.stack ?? e.message}`);
  log.close();
  process.exit(1);
});
