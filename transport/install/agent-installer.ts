// Puts the agent on a host over an SSH connection, once per version, with shell scripts.
// The SSH transport takes this path only where the host has no Node.js 20+ (it uploads
// the workstation's); elsewhere agent-bootstrap.ts does the same in the Node.js process
// that then runs the agent, and uses uploadTo below for its SFTP part.
//
//   1. probe (one exec): architecture, SSH user, a Node.js 20+, checksums of
//      <state>/agent/<version>/. Up to date: done, nothing else is sent.
//   2. upload (SFTP): the missing or damaged files, into a temporary directory, and the
//      workstation's own `node` when the host has no Node.js 20+ and the same architecture.
//      With sudo as a non-root user, SFTP cannot write under <state>: uploads go to a
//      fresh 0700 directory in /tmp that the finishing script copies into place as root.
//   3. finish (one exec, see finish-script.ts): verify checksums on the host, rename into
//      place, keep the last three versions.
//
// Never stops or signals anything: running supervisors and containers keep the version
// they started from; the next agent's supervisor adopts the containers.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix, join } from 'node:path';
import type { Client } from 'ssh2';
import { AgentError } from '../types.js';
import { BUNDLE_ENTRY, BUNDLE_MANIFEST, bundleKoffiDirs, hostBundle, loadAgentBundle, type AgentBundle, type HostBundle } from './agent-bundle.js';
import { agentPack, type PackEntry } from './agent-pack.js';
import { finishScript, type FinishPlan } from './finish-script.js';
import { hostArch, type HostArch } from './host-arch.js';
import { parseProbe, probeScript, type HostProbe } from './host-probe.js';
import { DEFAULT_STATE_DIR, NODE_MAJOR, agentDir, nodeDirName, versionDir } from './install-paths.js';
import { runScript, shellQuote } from './remote-script.js';
import { SftpUpload } from './sftp-upload.js';

export interface InstallOptions {
  /** `host.web`, for messages. */
  readonly host: string;
  /** Commands run as `sudo -n -- ...`; a non-root user's uploads are staged (see above). */
  readonly sudo: boolean;
  /** Default /var/lib/tsinfra; another one is also passed to the agent (TSINFRA_AGENT_STATE_DIR). */
  readonly stateDir?: string;
  /** Default: dist/agent-bundle (built on first use when missing). */
  readonly bundle?: AgentBundle;
  /** The Node.js to upload to hosts without one; default: the one running this process. */
  readonly localNode?: LocalNode;
  /** Per remote command. Default 2 min. */
  readonly timeoutMs?: number;
  /** TSINFRA_AGENT_LINGER_MS for the agent: how long it stays resident after the run (0: not at all). */
  readonly lingerMs?: number;
}

export interface LocalNode {
  readonly path: string;
  /** `v20.20.2` */
  readonly version: string;
  /** `process.arch` of that binary. */
  readonly arch: string;
  readonly platform: string;
}

export interface AgentInstallation {
  readonly version: string;
  /** Starts the agent (stdio protocol). With sudo the caller prefixes `sudo -n --`; quote with shellJoin. */
  readonly command: readonly string[];
  /** `uname -m` of the host. */
  readonly machine: string;
  readonly node: { readonly path: string; readonly version: string; readonly uploaded: boolean };
  /** current: nothing to do; installed/replaced/repaired: this run wrote it; raced: another installer did. */
  readonly agent: 'current' | 'installed' | 'raced' | 'replaced' | 'repaired';
  readonly filesUploaded: number;
  readonly bytesUploaded: number;
  /** Old versions removed. */
  readonly pruned: readonly string[];
}

const DEFAULT_TIMEOUT_MS = 120_000;

export async function installAgent(client: Client, options: InstallOptions): Promise<AgentInstallation> {
  const { host } = options;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const bundle = options.bundle ?? (await loadAgentBundle());
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const run = (script: string, what: string) => runScript(client, script, { host, sudo: options.sudo, what, timeoutMs });

  const probed = await run(probeScript(stateDir, bundle.version), 'check the agent');
  const probe = parseProbe(probed.stdout);
  if (probed.code !== 0 || !probe) {
    throw new AgentError(
      'E_AGENT_INSTALL',
      `${host}: checking the installed agent failed: ${firstLines(probed.stderr || probed.stdout) || `exit ${probed.code}`}`,
      host,
    );
  }
  const files = hostFiles(host, bundle, probe.machine, probe.libc);
  const arch = hostArch(probe.machine, probe.libc)!;
  const work = agentWork(probe.installed, files.files);
  const localNode = options.localNode ?? { path: process.execPath, version: process.version, arch: process.arch, platform: process.platform };
  // The host's own Node.js 20+, else ours (uploaded below) when it can run there.
  const uploadNode = probe.node ? undefined : uploadableNode(host, probe, arch, localNode);
  const node = probe.node ?? { path: posix.join(agentDir(stateDir), nodeDirName(localNode.version), 'node'), version: localNode.version };

  const result = {
    version: bundle.version,
    command: agentCommand(stateDir, bundle.version, node.path, options.lingerMs ?? 0),
    machine: probe.machine,
    node: { ...node, uploaded: uploadNode !== undefined },
  };
  if (work.mode === 'current' && !uploadNode) return { ...result, agent: 'current', filesUploaded: 0, bytesUploaded: 0, pruned: [] };

  const staged = options.sudo && probe.loginUid !== 0;
  const paths = uploadPaths(stateDir, bundle.version, randomBytes(6).toString('hex'), staged, uploadNode);
  const sftp = await SftpUpload.open(client, host);
  let plan: Omit<FinishPlan, 'runtime'>;
  try {
    plan = await upload(sftp, paths, { stateDir, bundle, files, work, localNode: uploadNode });
  } catch (e) {
    // Best effort: what is left is also removed by a later install after an hour.
    await run(`rm -rf -- ${[paths.staging ?? '', paths.agentFrom, paths.nodeFrom].filter(Boolean).map(shellQuote).join(' ')}\n`, 'clean up').catch(
      () => undefined,
    );
    throw e;
  } finally {
    sftp.end();
  }
  const finished = await run(finishScript({ ...plan, runtime: node }), 'install the agent');
  const outcome = finishOutcome(host, finished, localNode, probe.machine);
  return {
    ...result,
    agent: work.mode === 'current' ? 'current' : (outcome.agent ?? 'installed'),
    filesUploaded: sftp.filesUploaded,
    bytesUploaded: sftp.bytesUploaded,
    pruned: outcome.pruned,
  };
}

/** The argv that starts the installed agent. */
export function agentCommand(stateDir: string, version: string, nodePath: string, lingerMs = 0): string[] {
  const command = [nodePath, posix.join(versionDir(stateDir, version), BUNDLE_ENTRY)];
  const env = [
    ...(stateDir === DEFAULT_STATE_DIR ? [] : [`TSINFRA_AGENT_STATE_DIR=${stateDir}`]),
    ...(lingerMs > 0 ? [`TSINFRA_AGENT_LINGER_MS=${lingerMs}`] : []),
  ];
  return env.length === 0 ? command : ['env', ...env, ...command];
}

/** The agent's files for a host of `machine` (`uname -m`), or E_AGENT_ARCH. */
export function hostFiles(host: string, bundle: AgentBundle, machine: string, libc: 'glibc' | 'musl' | undefined): HostBundle {
  const arch = hostArch(machine, libc);
  const files = arch ? hostBundle(bundle, arch) : undefined;
  if (!arch || !files) {
    throw new AgentError(
      'E_AGENT_ARCH',
      `${host} is ${machine}, and this tsinfra has the agent's native module (koffi) only for ${bundleKoffiDirs(bundle).join(', ')}; ` +
        `install koffi's package for that architecture (npm install --os=linux --cpu=<arch> koffi) and rebuild`,
      host,
    );
  }
  return files;
}

export type Work = { mode: 'current' } | { mode: 'install' | 'repair'; files: string[]; extras: string[] };

/** What the version directory needs, from the checksums the probe found there. */
export function agentWork(installed: Readonly<Record<string, string>> | undefined, expected: Readonly<Record<string, string>>): Work {
  if (!installed) return { mode: 'install', files: Object.keys(expected), extras: [] };
  const files = Object.keys(expected).filter((n) => installed[n] !== expected[n]);
  // Names come from `find .` in the version directory: no `..` can be in them, but a newline could.
  const extras = Object.keys(installed).filter((n) => !(n in expected) && !n.includes('\n'));
  return files.length === 0 && extras.length === 0 ? { mode: 'current' } : { mode: 'repair', files, extras };
}

/** The workstation's Node.js for a host without one, or E_NO_NODE_RUNTIME. */
function uploadableNode(host: string, probe: HostProbe, arch: HostArch, local: LocalNode): LocalNode {
  if (local.platform === 'linux' && local.arch === arch.node && Number(local.version.replace(/^v/, '').split('.')[0]) >= NODE_MAJOR) return local;
  const seen = probe.oldNodes.map((n) => `${n.path} is ${n.version}`).join(', ');
  throw new AgentError(
    'E_NO_NODE_RUNTIME',
    `${host} has no Node.js ${NODE_MAJOR} or newer${seen ? ` (${seen})` : ''}, and this machine's Node.js (${local.platform} ${local.arch}) ` +
      `cannot run there (${host} is ${probe.machine}); install Node.js ${NODE_MAJOR}+ on ${host}`,
    host,
    { machine: probe.machine },
  );
}

export interface AgentUpload {
  /** The pack (agent-pack.ts) on the host. */
  readonly pack: string;
  /** The login user's staging directory (sudo, not root), which holds the pack. */
  readonly staging: string | undefined;
  readonly nonce: string;
  /** What is in the pack, for host-bootstrap.ts to unpack. */
  readonly entries: readonly PackEntry[];
  readonly files: number;
  readonly bytes: number;
}

/**
 * Sends the agent files `work` needs over SFTP as one pack (agent-pack.ts), to a
 * temporary name next to the version directory (or a staging directory, see
 * uploadPaths), for host-bootstrap.ts to unpack, verify and move into place. What it
 * sent is removed again when it fails.
 */
export async function uploadTo(
  client: Client,
  host: string,
  input: {
    stateDir: string;
    bundle: AgentBundle;
    files: HostBundle;
    work: Exclude<Work, { mode: 'current' }>;
    staged: boolean;
    sudo: boolean;
    agentDirExists: boolean;
  },
): Promise<AgentUpload> {
  const { stateDir, bundle, files, work, staged } = input;
  const nonce = randomBytes(6).toString('hex');
  const paths = uploadPaths(stateDir, bundle.version, nonce, staged, undefined);
  const pack = staged ? `${paths.staging}/agent.pack` : `${paths.agentFrom}.pack`;
  // Made (once per run) before the session opens: a failure leaves no SFTP session behind.
  const contents = await agentPack(bundle, files, work.files).catch((e: Error) => {
    throw new AgentError('E_AGENT_BUNDLE', `cannot read the agent to install on ${host}: ${e.message}`, host);
  });
  const sftp = await SftpUpload.open(client, host);
  try {
    if (paths.staging !== undefined) await sftp.mkdir(paths.staging, 0o700, 'fail');
    else if (!input.agentDirExists) {
      await sftp.mkdir(stateDir, 0o700, 'ok');
      await sftp.mkdir(agentDir(stateDir), 0o700, 'ok');
    }
    await sftp.putData(pack, contents.data, 0o600);
    return { pack, staging: paths.staging, nonce, entries: contents.entries, files: contents.entries.length, bytes: contents.data.length };
  } catch (e) {
    // Best effort: what is left is also removed by a later install after an hour.
    await runScript(client, `rm -rf -- ${shellQuote(paths.staging ?? pack)}\n`, {
      host,
      sudo: input.sudo,
      what: 'clean up',
      timeoutMs: DEFAULT_TIMEOUT_MS,
    }).catch(() => undefined);
    throw e;
  } finally {
    sftp.end();
  }
}

interface UploadPaths {
  readonly nonce: string;
  /** The SSH user's upload directory (sudo, not root). */
  readonly staging: string | undefined;
  readonly agentFrom: string;
  readonly nodeFrom: string;
}

/** Where uploads go: temporary names next to their final place, or a staging directory in /tmp. */
function uploadPaths(stateDir: string, version: string, nonce: string, staged: boolean, localNode: LocalNode | undefined): UploadPaths {
  if (staged) {
    const staging = `/tmp/tsinfra-upload-${nonce}`;
    return { nonce, staging, agentFrom: `${staging}/agent`, nodeFrom: `${staging}/node` };
  }
  const nodeFrom = localNode ? posix.join(agentDir(stateDir), `${nodeDirName(localNode.version)}.tmp-${nonce}`) : '';
  return { nonce, staging: undefined, agentFrom: `${versionDir(stateDir, version)}.tmp-${nonce}`, nodeFrom };
}

interface UploadInput {
  readonly stateDir: string;
  readonly bundle: AgentBundle;
  readonly files: HostBundle;
  readonly work: Work;
  readonly localNode: LocalNode | undefined;
}

/** Sends what the host lacks; returns where it went, for the finishing script. */
async function upload(sftp: SftpUpload, paths: UploadPaths, input: UploadInput): Promise<Omit<FinishPlan, 'runtime'>> {
  const { stateDir, bundle, files, work, localNode } = input;
  const { nonce, staging, agentFrom, nodeFrom } = paths;
  if (staging !== undefined) {
    await sftp.mkdir(staging, 0o700, 'fail');
  } else {
    await sftp.mkdir(stateDir, 0o700, 'ok');
    await sftp.mkdir(agentDir(stateDir), 0o700, 'ok');
  }
  let agent: FinishPlan['agent'];
  if (work.mode !== 'current') {
    const uploaded: Record<string, string> = {};
    if (work.files.length > 0) {
      await sftp.mkdir(agentFrom, 0o700, 'fail');
      for (const dir of [...new Set(work.files.map((n) => posix.dirname(n)).filter((d) => d !== '.'))].sort()) {
        await mkdirs(sftp, agentFrom, dir);
      }
      // All at once: their requests share round trips instead of waiting for each other.
      // Settled, all of them, before a failure is reported: the caller's clean-up must not
      // race a write still in flight.
      const puts = await Promise.allSettled(
        work.files.map(async (name) => {
          if (name === BUNDLE_MANIFEST) await sftp.putData(posix.join(agentFrom, name), files.manifest, 0o600);
          else await sftp.put(join(bundle.dir, name), posix.join(agentFrom, name), 0o600);
        }),
      );
      const failed = puts.find((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (failed) throw failed.reason;
      for (const name of work.files) uploaded[name] = files.files[name]!;
    }
    agent = { mode: work.mode, from: agentFrom, uploaded, all: files.files, extras: work.extras };
  }
  let node: FinishPlan['node'];
  if (localNode) {
    await sftp.mkdir(nodeFrom, 0o700, 'fail');
    await sftp.put(localNode.path, posix.join(nodeFrom, 'node'), 0o700);
    node = { from: nodeFrom, sha256: await sha256File(localNode.path), version: localNode.version };
  }
  return { stateDir, version: bundle.version, nonce, ...(staging !== undefined ? { staging } : {}), ...(agent ? { agent } : {}), ...(node ? { node } : {}) };
}

async function mkdirs(sftp: SftpUpload, root: string, relative: string): Promise<void> {
  let path = root;
  for (const part of relative.split('/')) {
    path = posix.join(path, part);
    await sftp.mkdir(path, 0o700, 'ok');
  }
}

const fileSums = new Map<string, Promise<string>>();

/** The sha256 of a large file (the node binary, ~100 MB), computed once per process. */
function sha256File(path: string): Promise<string> {
  let sum = fileSums.get(path);
  if (!sum) {
    sum = new Promise<string>((resolve, reject) => {
      const hash = createHash('sha256');
      createReadStream(path)
        .on('data', (c) => hash.update(c))
        .on('end', () => resolve(hash.digest('hex')))
        .on('error', reject);
    });
    fileSums.set(path, sum);
  }
  return sum;
}

function finishOutcome(
  host: string,
  finished: { code: number | null; stdout: string; stderr: string },
  localNode: LocalNode,
  machine: string,
): { agent: AgentInstallation['agent'] | undefined; pruned: string[] } {
  const lines = finished.stdout.split('\n');
  const nodeFailure = lines.find((l) => l.startsWith('nodefail '));
  if (nodeFailure) {
    throw new AgentError(
      'E_NO_NODE_RUNTIME',
      `${host} has no Node.js ${NODE_MAJOR}+, and this machine's Node.js ${localNode.version} (${localNode.path}) does not run there (${machine}): ` +
        `${nodeFailure.slice('nodefail '.length) || 'no output'}; install Node.js ${NODE_MAJOR}+ on ${host}`,
      host,
    );
  }
  const error = lines.find((l) => l.startsWith('error '));
  if (finished.code !== 0 || error) {
    // What the script printed before giving up: the files sha256sum found different.
    const before = error ? lines.slice(0, lines.indexOf(error)).filter((l) => l.trim() !== '' && !/^(agent|node|pruned) /.test(l)) : [];
    const why = error ? error.slice('error '.length) : firstLines(finished.stderr || finished.stdout) || `exit ${finished.code}`;
    throw new AgentError('E_AGENT_INSTALL', `${host}: installing the agent failed: ${why}${before.length ? ` (${before.slice(-5).join('; ')})` : ''}`, host, {
      stdout: finished.stdout,
      stderr: finished.stderr,
    });
  }
  const agent = lines.find((l) => l.startsWith('agent '))?.slice('agent '.length) as AgentInstallation['agent'] | undefined;
  const pruned = lines.filter((l) => l.startsWith('pruned ')).map((l) => l.slice('pruned '.length));
  return { agent, pruned };
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 3).join('; ');
}
