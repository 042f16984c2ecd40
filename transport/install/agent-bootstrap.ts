// Starts the agent over one exec channel, installing it on the way when needed: the fast
// path for every host that has a Node.js 20+ (agent-installer.ts keeps the path that
// uploads a Node.js first).
//
//   exec `sh -s` <- script: find node (the runtime record, else PATH) -> exec it with
//                   host-bootstrap.ts (and launch-agent.ts), which reports the host and
//                   the installed files
//   up to date:  'start'                                  -> the agent, same process
//   otherwise:   SFTP upload of one pack (agent-pack.ts) -> 'install' -> unpacked,
//                verified, moved into place, old versions pruned -> the agent, same process
//
// A fresh host thus costs one shell and one Node.js start, where the script-based
// installer ran about 25 processes (probe, sha256sum, find, mv, chmod, ...) first.
// Undefined means "take the installer's path": no Node.js 20+ here, or it did not start.
import { AgentError } from '../types.js';
import { LAUNCH_FILE_NAMES } from './bundle-files.js';
import type { AgentBundle } from './agent-bundle.js';
import { hostBootstrap, type BootstrapArgs, type BootstrapInstall } from './host-bootstrap.js';
import { agentWork, hostFiles, uploadTo } from './agent-installer.js';
import { DEFAULT_STATE_DIR, KEEP_VERSIONS, NODE_MAJOR, agentDir, nodeRecord, versionDir } from './install-paths.js';
import { launchAgent } from './launch-agent.js';
import { shellQuote } from './remote-script.js';
import type { SshConnection } from '../ssh/ssh-connection.js';
import type { RemoteProcess } from '../ssh/remote-process.js';

export interface BootstrapOptions {
  readonly host: string;
  readonly sudo: boolean;
  readonly bundle: AgentBundle;
  readonly stateDir?: string;
  /** TSINFRA_AGENT_LINGER_MS for the agent (0: it ends with the session). */
  readonly lingerMs: number;
  /** How long each step on the host may take. */
  readonly timeoutMs?: number;
}

export interface BootstrappedAgent {
  /** The agent, speaking the protocol on its stdin/stdout. */
  readonly proc: RemoteProcess;
  /** What was done to the version directory. */
  readonly agent: 'current' | 'installed' | 'raced' | 'replaced' | 'repaired';
  /** The bundle files in the pack (one SFTP file). */
  readonly filesUploaded: number;
  /** What went over SFTP (compressed). */
  readonly bytesUploaded: number;
}

interface Probe {
  readonly t: 'probe';
  readonly machine: string;
  readonly libc?: 'glibc' | 'musl';
  readonly uid: number;
  readonly node: { readonly path: string; readonly version: string };
  readonly installed: Record<string, string> | null;
  /** The bootstrap made (or found) <state>/agent. */
  readonly agentDir?: boolean;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export async function bootstrapAgent(conn: SshConnection, options: BootstrapOptions): Promise<BootstrappedAgent | undefined> {
  const { sudo, bundle } = options;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const proc = await conn.exec('sh -s', { sudo });
  const lines = new LineReader(proc);
  proc.stdin.write(bootstrapScript(stateDir, bundle.version, options.lingerMs));
  const first = await lines.next(timeoutMs);
  if (first?.t !== 'probe') {
    // No Node.js 20+ ('nonode', 'oldnode'), or it did not get as far as a word: the
    // installer's path uploads one or explains. A sudo refusal or a lost connection is the answer itself.
    proc.kill();
    const exit = await proc.exit;
    if (first === undefined && exit.error) throw exit.error;
    return undefined;
  }
  try {
    return await finish(conn, proc, lines, first as unknown as Probe, { ...options, stateDir, timeoutMs });
  } catch (e) {
    // The bootstrap waits for a word that will not come: end it with the channel.
    proc.kill();
    throw e;
  }
}

/** After the probe: start the installed agent, or upload and install first. */
async function finish(
  conn: SshConnection,
  proc: RemoteProcess,
  lines: LineReader,
  probe: Probe,
  options: BootstrapOptions & { stateDir: string; timeoutMs: number },
): Promise<BootstrappedAgent> {
  const { host, sudo, bundle, stateDir } = options;
  const files = hostFiles(host, bundle, probe.machine, probe.libc);
  const work = agentWork(probe.installed ?? undefined, files.files);
  if (work.mode === 'current') {
    send(proc, { t: 'start' });
    return { proc: lines.release(), agent: 'current', filesUploaded: 0, bytesUploaded: 0 };
  }
  const staged = sudo && probe.uid !== 0;
  const upload = await uploadTo(conn.sshClient, host, { stateDir, bundle, files, work, staged, sudo, agentDirExists: probe.agentDir === true });
  const install: BootstrapInstall = {
    t: 'install',
    mode: work.mode,
    pack: upload.pack,
    ...(upload.staging !== undefined ? { staging: upload.staging } : {}),
    nonce: upload.nonce,
    entries: upload.entries,
    all: files.files,
    extras: work.extras,
  };
  send(proc, install);
  const done = await lines.next(options.timeoutMs);
  if (done?.t !== 'installed') {
    const why = typeof done?.['message'] === 'string' ? done['message'] : await exitText(proc);
    throw new AgentError('E_AGENT_INSTALL', `${host}: installing the agent failed: ${why}`, host);
  }
  return { proc: lines.release(), agent: done['agent'] as BootstrappedAgent['agent'], filesUploaded: upload.files, bytesUploaded: upload.bytes };
}

/** The script `sh -s` reads: finds a Node.js without starting anything, then becomes host-bootstrap.ts. */
export function bootstrapScript(stateDir: string, version: string, lingerMs: number): string {
  const args: BootstrapArgs = {
    stateDir,
    version,
    minNodeMajor: NODE_MAJOR,
    keepVersions: KEEP_VERSIONS,
    launch: LAUNCH_FILE_NAMES,
  };
  const code = `(${hostBootstrap.toString()})(require, ${JSON.stringify(args)}, ${launchAgent.toString()})`;
  const env = [
    `TSINFRA_AGENT_BOOTSTRAP=${shellQuote(code)}`,
    'TSINFRA_AGENT_NODE="$p"',
    ...(stateDir === DEFAULT_STATE_DIR ? [] : [`TSINFRA_AGENT_STATE_DIR=${shellQuote(stateDir)}`]),
    ...(lingerMs > 0 ? [`TSINFRA_AGENT_LINGER_MS=${lingerMs}`] : []),
  ];
  // No command substitution: each would fork a shell.
  return `umask 077
A=${shellQuote(agentDir(stateDir))}
R=${shellQuote(nodeRecord(stateDir))}
p=
[ -r "$R" ] && read -r p <"$R"
if [ -z "$p" ] || [ ! -x "$p" ]; then
  p=
  IFS=:
  for d in $PATH; do [ -x "$d/node" ] && [ ! -d "$d/node" ] && p=$d/node && break; done
  unset IFS
fi
[ -n "$p" ] || { echo '{"t":"nonode"}'; exit 0; }
${env.join(' ')} exec "$p" -e 'eval(process.env.TSINFRA_AGENT_BOOTSTRAP)' ${shellQuote(versionDir(stateDir, version) + '/agent.mjs')}
`;
}

function send(proc: RemoteProcess, message: object): void {
  proc.stdin.write(JSON.stringify(message) + '\n');
}

async function exitText(proc: RemoteProcess): Promise<string> {
  const err: Buffer[] = [];
  proc.stderr.on('data', (c: Buffer) => err.push(c));
  const exit = await proc.exit;
  const text = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join('; ');
  return exit.error?.message ?? (text || `exit ${exit.code ?? exit.signal}`);
}

/** JSON lines from the bootstrap; `release` hands the process, and what was not read yet, to the agent's client. */
class LineReader {
  private buffered = Buffer.alloc(0);
  private waiting: ((line: Record<string, unknown> | undefined) => void) | undefined;
  private ended = false;
  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.deliver();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.deliver();
  };

  constructor(private readonly proc: RemoteProcess) {
    proc.stdout.on('data', this.onData);
    proc.stdout.on('end', this.onEnd);
    proc.stdout.on('close', this.onEnd);
  }

  /** The next message; undefined when the stream ended or timed out first, or the line is not JSON. */
  next(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (line: Record<string, unknown> | undefined) => {
        clearTimeout(timer);
        this.waiting = undefined;
        resolve(line);
      };
      this.waiting = finish;
      this.deliver();
    });
  }

  release(): RemoteProcess {
    const out = this.proc.stdout;
    out.removeListener('data', this.onData);
    out.removeListener('end', this.onEnd);
    out.removeListener('close', this.onEnd);
    out.pause();
    if (this.buffered.length > 0) out.unshift(this.buffered);
    return this.proc;
  }

  private deliver(): void {
    if (!this.waiting) return;
    const nl = this.buffered.indexOf(0x0a);
    if (nl < 0) {
      if (this.ended) this.waiting(undefined);
      return;
    }
    const line = this.buffered.subarray(0, nl).toString('utf8');
    this.buffered = this.buffered.subarray(nl + 1);
    let parsed: Record<string, unknown> | undefined;
    try {
      const value: unknown = JSON.parse(line);
      parsed = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    this.waiting(parsed);
  }
}
