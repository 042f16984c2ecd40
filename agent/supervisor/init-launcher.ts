// The supervisor's side of the init handshake (../runtime/init/init-protocol.ts):
// starting inits inside fresh namespaces, keeping a few started ahead of time so a
// container start never waits for Node to boot, and talking to one over its pipes.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { mkfifo } from '../runtime/libc.js';
import { LineSplitter, decodeLine } from '../rpc/line-splitter.js';
import { AgentFailure } from '../rpc/failure.js';
import { findProgram } from '../system/command.js';
import { fromInit, toInit, type FromInit, type ToInit } from '../runtime/init/init-messages.js';
import { entryArgs } from '../entry-points.js';
import type { AgentLog } from '../log.js';

/** At most this many inits are started ahead of time, and those not taken stop after a minute. */
const MAX_PREWARM = 32;
const PREWARM_TTL_MS = 60_000;
/** How long an init may take to boot and say ready. */
const READY_TIMEOUT_MS = 30_000;

export type InitEvent = FromInit | { type: 'eof' };

/** One init process, from spawn to execve (or failure). */
export class InitHandle {
  private readonly queue: InitEvent[] = [];
  private waiter: ((e: InitEvent) => void) | undefined;
  private readonly fromInit: Socket;
  private inFd: number | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hostPid = 0;
  /** The init's first message: ready, or why it could not start. */
  first: Promise<InitEvent> = Promise.resolve({ type: 'eof' });

  constructor(
    readonly child: ChildProcess,
    channel: InitChannelFiles,
  ) {
    this.inFd = channel.inFd;
    this.fromInit = new Socket({ fd: channel.outFd, readable: true, writable: false });
    const lines = new LineSplitter(1024 * 1024, {
      line: (bytes) => {
        let message: unknown = null;
        try {
          message = JSON.parse(decodeLine(bytes) ?? 'null');
        } catch {
          // reported below
        }
        const parsed = fromInit.safeParse(message);
        this.push(parsed.success ? parsed.data : { type: 'error', stage: 'start', message: 'the init sent an invalid message' });
      },
      overlong: () => this.push({ type: 'error', stage: 'start', message: 'the init sent an overlong message' }),
    });
    this.fromInit.on('data', (c: Buffer) => lines.push(c));
    this.fromInit.on('end', () => this.push({ type: 'eof' }));
    this.fromInit.on('error', () => this.push({ type: 'eof' }));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // An init that dies before it opened its FIFOs never ends them: its exit does.
    void this.exited.then(() => setTimeout(() => this.push({ type: 'eof' }), 100).unref());
  }

  get unsharePid(): number {
    return this.child.pid ?? 0;
  }

  send(message: ToInit): void {
    if (this.inFd === undefined) throw new Error('bug: the channel to the init is closed');
    writeSync(this.inFd, JSON.stringify(toInit.parse(message)) + '\n');
  }

  /** The next message (or eof), failing after `timeoutMs`. */
  next(timeoutMs = READY_TIMEOUT_MS): Promise<InitEvent> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new AgentFailure('E_CONTAINER_START', `the container init did not answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
    });
  }

  /** Ends the handshake on our side; an init still waiting for a message exits. */
  closeChannel(): void {
    if (this.inFd !== undefined) closeSync(this.inFd);
    this.inFd = undefined;
    this.fromInit.destroy();
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private push(e: InitEvent): void {
    if (e.type === 'eof' && this.queue.some((q) => q.type === 'eof')) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(e);
    } else {
      this.queue.push(e);
    }
  }
}

interface InitChannelFiles {
  readonly dir: string;
  readonly inPath: string;
  readonly outPath: string;
  /** Our end of `in`, opened read-write so that opening it never blocks and the init's open does not either. */
  readonly inFd: number;
  /** Our end of `out`, non-blocking. */
  readonly outFd: number;
}

/** Two FIFOs in a directory of their own; our ends are open before the init starts. */
function makeChannel(runDir: string): InitChannelFiles {
  const dir = join(runDir, 'inits', randomBytes(6).toString('hex'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const inPath = join(dir, 'in');
  const outPath = join(dir, 'out');
  mkfifo(inPath, 0o600);
  mkfifo(outPath, 0o600);
  const outFd = openSync(outPath, constants.O_RDONLY | constants.O_NONBLOCK);
  const inFd = openSync(inPath, constants.O_RDWR);
  return { dir, inPath, outPath, inFd, outFd };
}

function spawnInit(runDir: string, argv: (ch: InitChannelFiles) => string[], stdio: StdioOptions): InitHandle {
  const ch = makeChannel(runDir);
  const cmd = argv(ch);
  const child = spawn(cmd[0]!, cmd.slice(1), {
    stdio,
    // Its own session: a terminal's signals (the operator's Ctrl-C) never reach containers.
    detached: true,
  });
  child.on('error', () => undefined);
  const handle = new InitHandle(child, ch);
  // Both sides have the FIFOs open (or the init is gone) once it says anything: the names can go.
  handle.first = handle.next().then(
    (first) => {
      rmSync(ch.dir, { recursive: true, force: true });
      if (first.type === 'ready') handle.hostPid = first.hostPid;
      return first;
    },
    (e: Error): InitEvent => {
      rmSync(ch.dir, { recursive: true, force: true });
      return { type: 'error', stage: 'start', message: e.message };
    },
  );
  return handle;
}

/** Waits for `ready` and records the init's host pid. */
async function awaitReady(init: InitHandle): Promise<InitHandle> {
  const e = await init.first;
  if (e.type === 'ready') return init;
  init.kill();
  const why = e.type === 'error' ? e.message : 'it exited before it was ready';
  throw new AgentFailure('E_CONTAINER_START', `the container init could not start: ${why}`);
}

/** Inits for new containers, started ahead of time. */
export class InitPool {
  private readonly warm: Promise<InitHandle>[] = [];
  private extra = 0;
  private expiry: NodeJS.Timeout | undefined;
  private readonly unshare: string;

  constructor(
    private readonly runDir: string,
    private readonly log: AgentLog,
    private readonly minWarm = 1,
  ) {
    const found = findProgram('unshare');
    if (!found) throw new AgentFailure('E_MISSING_TOOL', 'util-linux "unshare" is not installed on this host: containers need it');
    this.unshare = found;
  }

  /** A ready init in fresh namespaces; the pool starts a replacement in the background. */
  async take(): Promise<InitHandle> {
    this.fill();
    const next = this.warm.shift()!;
    if (this.extra > 0) this.extra--;
    this.fill();
    return next;
  }

  /** Starts `count` inits ahead of time (an apply about to create that many containers). Unused ones go after a minute. */
  prewarm(count: number): void {
    this.extra = Math.min(MAX_PREWARM, Math.max(this.extra, count));
    this.fill();
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => void this.shrink(), PREWARM_TTL_MS);
    this.expiry.unref();
  }

  /** Back to the standing pool: inits asked for but not taken are stopped. */
  private async shrink(): Promise<void> {
    this.extra = 0;
    const surplus = this.warm.splice(this.minWarm);
    for (const p of surplus) {
      const init = await p.catch(() => undefined);
      init?.closeChannel();
      init?.kill();
    }
  }

  /**
   * Replaces the waiting inits with new ones. A waiting init holds a copy of the host's
   * mount table as it was when it started (until its container's pivot_root drops it), so
   * a filesystem unmounted on the host since then stays mounted there: a volume being
   * removed needs them gone.
   */
  async recycle(): Promise<void> {
    const waiting = this.warm.splice(0);
    this.fill();
    for (const p of waiting) {
      const init = await p.catch(() => undefined);
      init?.closeChannel();
      init?.kill();
      await init?.exited;
    }
  }

  /** Kills the waiting inits (supervisor exit). */
  async drain(): Promise<void> {
    clearTimeout(this.expiry);
    const waiting = this.warm.splice(0);
    for (const p of waiting) {
      const init = await p.catch(() => undefined);
      if (init) {
        init.closeChannel();
        init.kill();
      }
    }
  }

  private fill(): void {
    while (this.warm.length < this.minWarm + this.extra) {
      const p = awaitReady(
        spawnInit(
          this.runDir,
          (ch) => [
            this.unshare,
            '--pid',
            '--fork',
            '--kill-child',
            '--mount',
            '--uts',
            '--ipc',
            '--net',
            process.execPath,
            ...entryArgs('init'),
            'create',
            ch.inPath,
            ch.outPath,
          ],
          ['ignore', 'ignore', 'inherit'],
        ),
      );
      p.catch((e: Error) => this.log.warn(`a container init failed to start: ${e.message}`));
      this.warm.push(p);
    }
  }
}

/** An init for `exec`: joins the namespaces of the container whose pid 1 is `targetPid`. */
export async function launchExecInit(runDir: string, targetPid: number): Promise<InitHandle> {
  const nsenter = findProgram('nsenter');
  if (!nsenter) throw new AgentFailure('E_MISSING_TOOL', 'util-linux "nsenter" is not installed on this host: exec needs it');
  return awaitReady(
    spawnInit(runDir, (ch) => [nsenter, `--target=${targetPid}`, '--pid', '--', process.execPath, ...entryArgs('init'), 'exec', ch.inPath, ch.outPath], [
      'pipe',
      'pipe',
      'pipe',
    ]),
  );
}
