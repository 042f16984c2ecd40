// The resident agent: after its SSH session, an agent may stay on the host for a while
// and serve the next runs on <run>/agent.sock, which the engine reaches through the same
// SSH connection (a direct-streamlocal channel) without starting anything on the host.
// A run then costs the host an sshd session, not a Node start, which is what makes a
// no-op plan over 50 hosts take about a second.
//
//   exec'd agent (TSINFRA_AGENT_LINGER_MS > 0) -> claim: take <run>/agent.pid (an agent
//   of another build holding it is stopped first: an upgrade) -> listen on agent.sock ->
//   stdio session ends -> stdio onto /dev/null -> serve socket sessions -> no session for
//   LINGER ms, or SIGTERM -> stop listening, finish open sessions, exit
//
// Only root's agent lingers: the socket is root's alone (0600 in the 0700 run directory).
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AgentFileLog } from './log.js';
import { releaseStdio } from './system/stdio-release.js';
import { holdsPidFile, ownCommandLine, pidFileHolder, retire, takePidFile } from './system/pid-file.js';

export const RESIDENT_SOCKET = 'agent.sock';
const PID_FILE = 'agent.pid';
/** How long an older resident may take to finish its sessions when replaced. */
const RETIRE_TIMEOUT_MS = 30_000;

export interface ResidentOptions {
  readonly runDir: string;
  /** Stay this long after the last session ended. */
  readonly lingerMs: number;
  readonly log: AgentFileLog;
  /** Serves one engine session over a connection; resolves when it is over. */
  readonly serve: (conn: Socket) => Promise<void>;
}

export class ResidentAgent {
  /** Open sessions, the stdio one included until `stdioDone`. */
  private sessions = 1;
  private lastActivity = Date.now();
  private stopping = false;

  private constructor(
    private readonly options: ResidentOptions,
    private readonly server: Server,
    private readonly pidFile: string,
  ) {}

  /**
   * Becomes the host's resident agent, replacing one of another build. Undefined when
   * one of this build is already there (it serves the next runs) or the old one would not stop.
   */
  static async claim(options: ResidentOptions): Promise<ResidentAgent | undefined> {
    const { runDir, log } = options;
    const pidFile = join(runDir, PID_FILE);
    const holder = pidFileHolder(pidFile, 'agent');
    if (holder) {
      if (holder.cmdline === ownCommandLine()) return undefined;
      log.info(`replacing the resident agent of another build (pid ${holder.pid})`);
      if (!(await retire(holder, RETIRE_TIMEOUT_MS))) {
        log.warn(`the previous resident agent (pid ${holder.pid}) did not stop; this one serves its session only`);
        return undefined;
      }
    }
    if (!takePidFile(pidFile, 'agent')) return undefined;
    const socketPath = join(runDir, RESIDENT_SOCKET);
    const server = createServer();
    try {
      rmSync(socketPath, { force: true });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => resolve());
      });
    } catch (e) {
      rmSync(pidFile, { force: true });
      log.warn(`cannot listen on ${socketPath}: ${(e as Error).message}; this agent serves its session only`);
      return undefined;
    }
    // Connections are events of a later turn: none is missed by attaching the handler now.
    const resident = new ResidentAgent(options, server, pidFile);
    server.on('connection', (conn: Socket) => resident.accept(conn));
    resident.watch();
    log.info(`resident agent: serving ${socketPath} until ${Math.round(options.lingerMs / 1000)} s without a session`);
    return resident;
  }

  /**
   * The SSH session's stdio is over: from now on stdin, stdout and stderr are /dev/null,
   * so that the engine sees the channel end and nothing is written to a dead pipe.
   */
  async stdioDone(): Promise<void> {
    try {
      if ((await releaseStdio()) === 'dup2') this.options.log.info("the session's stdio went onto /dev/null by dup2: file requests were in flight");
    } catch (e) {
      // Its stdio is in an unknown state: exiting is what releases it for sure.
      this.options.log.error(`cannot let go of the session's stdio: ${(e as Error).message}`);
      this.stop("the session's stdio could not be released");
    }
    this.ended();
  }

  private accept(conn: Socket): void {
    if (this.stopping) {
      conn.destroy();
      return;
    }
    this.sessions++;
    this.lastActivity = Date.now();
    conn.on('error', () => undefined);
    void this.options
      .serve(conn)
      .catch((e: Error) => this.options.log.error(`session failed: ${e.stack ?? e.message}`))
      .finally(() => {
        conn.end();
        this.ended();
      });
  }

  private ended(): void {
    this.sessions--;
    this.lastActivity = Date.now();
    if (this.stopping && this.sessions === 0) this.exit();
  }

  private watch(): void {
    // An SSH session without a terminal gets no SIGHUP, but a wrapper might send one.
    process.on('SIGHUP', () => undefined);
    process.on('SIGTERM', () => this.stop('SIGTERM'));
    setInterval(
      () => {
        if (this.sessions === 0 && Date.now() - this.lastActivity >= this.options.lingerMs) this.stop(`no session for ${this.options.lingerMs} ms`);
      },
      Math.min(this.options.lingerMs, 5000),
    );
  }

  /** Stops taking sessions; exits once the open ones are over. */
  private stop(reason: string): void {
    if (this.stopping) return;
    this.stopping = true;
    this.options.log.info(`resident agent stopping: ${reason}`);
    // A successor may already own these: let go of them only while they are ours.
    if (holdsPidFile(this.pidFile)) {
      this.server.close();
      rmSync(this.pidFile, { force: true });
    }
    if (this.sessions === 0) this.exit();
  }

  private exit(): never {
    this.options.log.close();
    process.exit(0);
  }
}
