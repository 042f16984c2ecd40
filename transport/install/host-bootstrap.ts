// The code that runs first on a host, inside the Node.js that will run the agent: it
// checks the installed agent, installs an upload, then becomes the agent, all in one
// process on one exec channel (see agent-bootstrap.ts for the engine's side).
//
// It is sent as source text: `hostBootstrap.toString()`. So it imports nothing, refers to
// nothing of this module, and needs only Node's own modules through `require`. Its syntax
// stays plain enough for an old Node.js to parse, so that one can say it is too old.
//
// Messages are JSON lines on stdout; the engine answers on stdin:
//
//   -> {t:'probe', machine, libc, uid, node:{path,version}, installed:{name:sha256}|null,
//       agentDir: <state>/agent made or there}
//   <- {t:'start'}                        the installed agent is the right one
//   <- {t:'install', ...BootstrapInstall}  after an SFTP upload (one pack, agent-pack.ts):
//   -> {t:'installed', agent, pruned}      unpack, verify, move into place, prune old
//                                          versions, then start
//   <- {t:'stop'}                          nothing to do here (the engine gives up)
//   -> {t:'error', message} | {t:'oldnode', version, path}
//
// Starting = running <version>/agent.mjs's code in this process (launchAgent, passed in as
// source too), whose stdin/stdout become the agent protocol's. Its argv ends with agent.mjs's
// path, as if Node.js had been started with it.

import type { PackEntry } from './agent-pack.js';
import type { LaunchFiles, launchAgent } from './launch-agent.js';

export interface BootstrapArgs {
  readonly stateDir: string;
  readonly version: string;
  readonly minNodeMajor: number;
  readonly keepVersions: number;
  /** The bundle's file names launchAgent needs (see launch-agent.ts); its host-cache/ is also what the checksums leave out. */
  readonly launch: Omit<LaunchFiles, 'dir' | 'entry'>;
}

export interface BootstrapInstall {
  readonly t: 'install';
  /** install: a new version directory; repair: some of its files replaced. */
  readonly mode: 'install' | 'repair';
  /** The uploaded pack (a temporary name next to the version directory, or in `staging`). */
  readonly pack: string;
  /** A sudo login's upload: its own 0700 directory in /tmp, read and removed as root. */
  readonly staging?: string;
  readonly nonce: string;
  /** The files in the pack. */
  readonly entries: readonly PackEntry[];
  /** Every file the version directory must hold: name -> sha256. */
  readonly all: Readonly<Record<string, string>>;
  /** Files in the version directory that do not belong there (repair). */
  readonly extras: readonly string[];
}

export function hostBootstrap(require: NodeJS.Require, args: BootstrapArgs, launch: typeof launchAgent): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const crypto = require('node:crypto') as typeof import('node:crypto');
  const os = require('node:os') as typeof import('node:os');
  const zlib = require('node:zlib') as typeof import('node:zlib');

  const send = (message: object): void => {
    fs.writeSync(1, JSON.stringify(message) + '\n');
  };
  const nodePath = process.env['TSINFRA_AGENT_NODE'] || process.execPath;
  if (!(Number(process.versions.node.split('.')[0]) >= args.minNodeMajor)) {
    send({ t: 'oldnode', version: process.version, path: nodePath });
    return;
  }
  process.umask(0o077);
  const A = path.join(args.stateDir, 'agent');
  const D = path.join(A, args.version);

  const sha256 = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  /** name -> sha256 of every file under dir (names `/`-separated), host-made caches left out. */
  const sums = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (sub: string): void => {
      for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
        const name = sub ? sub + '/' + e.name : e.name;
        if (e.isDirectory()) {
          if (name !== args.launch.hostCacheDir) walk(name);
        } else if (e.isFile()) out[name] = sha256(path.join(dir, name));
      }
    };
    walk('');
    return out;
  };
  /** The names whose checksum differs from `expected` (missing files included). */
  const differing = (dir: string, expected: Readonly<Record<string, string>>): string[] =>
    Object.keys(expected).filter((name) => {
      try {
        return sha256(path.join(dir, name)) !== expected[name];
      } catch {
        return true;
      }
    });
  const libc = (): string | undefined => {
    const has = (dir: string, prefix: string): boolean => {
      try {
        return fs.readdirSync(dir).some((n) => n.indexOf(prefix) === 0);
      } catch {
        return false;
      }
    };
    const glibc = fs
      .readdirSync('/')
      .filter((d) => d.indexOf('lib') === 0)
      .some((d) => has('/' + d, 'ld-linux'));
    const musl = has('/lib', 'ld-musl-');
    return glibc && !musl ? 'glibc' : musl && !glibc ? 'musl' : undefined;
  };
  /** The Node.js chosen, for the next runs' sh to find without a PATH search (host-probe.ts reads it too). */
  const recordRuntime = (): void => {
    const record = path.join(A, 'node-runtime');
    const st = fs.statSync(nodePath);
    const text = `${nodePath}\n${Math.floor(st.mtimeMs / 1000)}.${st.size}\n${process.version}\n`;
    let old = '';
    try {
      old = fs.readFileSync(record, 'utf8');
    } catch {
      // first run
    }
    if (old === text || !fs.existsSync(A)) return;
    fs.writeFileSync(record + '.tmp' + process.pid, text);
    fs.renameSync(record + '.tmp' + process.pid, record);
  };

  const install = (plan: BootstrapInstall): { agent: string; pruned: string[] } => {
    fs.mkdirSync(A, { recursive: true, mode: 0o700 });
    // Unpacked into a new directory, each file checked before it is written.
    const T = D + '.tmp-' + plan.nonce;
    try {
      const pack = fs.readFileSync(plan.pack);
      fs.mkdirSync(T, { mode: 0o700 });
      for (const e of plan.entries) {
        const stored = pack.subarray(e.offset, e.offset + e.length);
        let bytes: Buffer | undefined;
        try {
          bytes = e.brotli ? zlib.brotliDecompressSync(stored) : stored;
        } catch {
          // A damaged stream: reported below like any other difference.
        }
        if (!bytes || crypto.createHash('sha256').update(bytes).digest('hex') !== e.sha256)
          throw new Error(`the uploaded ${e.name} differs from the bundle (the transfer was damaged; try again)`);
        fs.mkdirSync(path.dirname(path.join(T, e.name)), { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(T, e.name), bytes, { mode: 0o600, flag: 'wx' });
      }
    } catch (e) {
      fs.rmSync(T, { recursive: true, force: true });
      throw e;
    } finally {
      fs.rmSync(plan.staging !== undefined ? plan.staging : plan.pack, { recursive: true, force: true });
    }
    let agent: string;
    if (plan.mode === 'install') {
      try {
        fs.renameSync(T, D);
        agent = 'installed';
      } catch {
        // Another installer was first, or the directory is there without agent.json.
        if (differing(D, plan.all).length === 0) {
          fs.rmSync(T, { recursive: true, force: true });
          agent = 'raced';
        } else {
          const old = D + '.old-' + plan.nonce;
          fs.renameSync(D, old);
          fs.renameSync(T, D);
          fs.rmSync(old, { recursive: true, force: true });
          agent = 'replaced';
        }
      }
    } else {
      // agent.json last: a file replaced before it is checked against the new manifest.
      const names = plan.entries.map((e) => e.name).sort((a, b) => Number(a === 'agent.json') - Number(b === 'agent.json'));
      for (const name of names) {
        fs.mkdirSync(path.dirname(path.join(D, name)), { recursive: true, mode: 0o700 });
        fs.renameSync(path.join(T, name), path.join(D, name));
      }
      for (const name of plan.extras) fs.rmSync(path.join(D, name), { force: true });
      fs.rmSync(T, { recursive: true, force: true });
      const bad = differing(D, plan.all);
      if (bad.length > 0) throw new Error(`the agent in ${D} still differs from the bundle after the repair: ${bad.slice(0, 5).join(', ')}`);
      agent = 'repaired';
    }
    return { agent, pruned: prune() };
  };

  /** Keeps the versions used last and any a running process uses; drops abandoned uploads. */
  const prune = (): string[] => {
    const pruned: string[] = [];
    const now = Date.now();
    const entries = fs.readdirSync(A).map((name) => ({ name, st: fs.statSync(path.join(A, name)) }));
    for (const e of entries) {
      if (/\.(tmp|old)-/.test(e.name) && now - e.st.mtimeMs > 60 * 60_000) fs.rmSync(path.join(A, e.name), { recursive: true, force: true });
    }
    let cmdlines: string | undefined;
    const inUse = (dir: string): boolean => {
      if (cmdlines === undefined) {
        cmdlines = '';
        for (const pid of fs.readdirSync('/proc')) {
          if (!/^\d+$/.test(pid)) continue;
          try {
            cmdlines += fs.readFileSync('/proc/' + pid + '/cmdline', 'latin1') + '\n';
          } catch {
            // gone meanwhile
          }
        }
      }
      return cmdlines.indexOf(dir + '/') >= 0;
    };
    const versions = entries
      .filter((e) => e.st.isDirectory() && e.name !== args.version && fs.existsSync(path.join(A, e.name, 'agent.json')))
      .sort((a, b) => b.st.mtimeMs - a.st.mtimeMs);
    // The current version counts as one of those kept.
    for (const e of versions.slice(args.keepVersions - 1)) {
      if (inUse(path.join(A, e.name))) continue;
      fs.rmSync(path.join(A, e.name), { recursive: true, force: true });
      pruned.push(e.name);
    }
    return pruned;
  };

  const start = (): void => {
    stopReading();
    // Used now: pruning keeps the versions used last.
    const now = new Date();
    fs.utimesSync(D, now, now);
    delete process.env['TSINFRA_AGENT_BOOTSTRAP'];
    delete process.env['TSINFRA_AGENT_NODE'];
    const entry = path.join(D, 'agent.mjs');
    process.argv = [process.execPath, entry];
    try {
      launch(require, { ...args.launch, dir: D, entry });
    } catch (e) {
      process.stderr.write(`tsinfra agent: cannot start ${entry}: ${(e as Error).stack || (e as Error).message}\n`);
      process.exit(1);
    }
  };

  // ---- the conversation
  let buffered = '';
  const onData = (chunk: Buffer): void => {
    buffered += chunk.toString('utf8');
    const nl = buffered.indexOf('\n');
    if (nl < 0) return;
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    try {
      const message = JSON.parse(line) as { t: string };
      if (message.t === 'start') {
        recordRuntime();
        start();
      } else if (message.t === 'install') {
        const outcome = install(message as BootstrapInstall);
        recordRuntime();
        send({ t: 'installed', agent: outcome.agent, pruned: outcome.pruned });
        start();
      } else {
        stopReading();
        process.exit(0);
      }
    } catch (e) {
      send({ t: 'error', message: (e as Error).message });
      process.exit(1);
    }
  };
  const stopReading = (): void => {
    process.stdin.removeListener('data', onData);
    process.stdin.pause();
    // The engine sends nothing more before the agent answers; kept for the agent if it did.
    if (buffered) process.stdin.unshift(Buffer.from(buffered));
  };

  let installed: Record<string, string> | null = null;
  if (fs.existsSync(path.join(D, 'agent.json'))) installed = sums(D);
  // Made here, where it costs a system call, rather than by SFTP requests after the probe.
  let agentDir = false;
  try {
    fs.mkdirSync(A, { recursive: true, mode: 0o700 });
    agentDir = true;
  } catch {
    // A login that may not write there: the upload reports what it cannot do.
  }
  const sudoUid = process.env['SUDO_UID'];
  send({
    t: 'probe',
    machine: os.machine(),
    libc: libc(),
    uid: sudoUid ? Number(sudoUid) : process.getuid ? process.getuid() : -1,
    node: { path: nodePath, version: process.version },
    installed,
    agentDir,
  });
  process.stdin.on('data', onData);
}
