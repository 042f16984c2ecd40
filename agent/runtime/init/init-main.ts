// Entry point of the container init (see init-protocol.ts for the stages and the
// handshake). `node init-main.js` prepares a new container inside the namespaces
// `unshare` made; `node init-main.js exec` runs a command in an existing container.
// Everything here is synchronous and runs on the main thread.
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { CLONE, dup2, PR, prctl, sethostname, setns, unshare } from '../libc.js';
import { InitChannel } from './init-channel.js';
import type { InitStage } from './init-protocol.js';
import { becomeProcess } from './process-exec.js';
import { setUpRootfs } from './rootfs-setup.js';

// argv: [mode, in FIFO, out FIFO]
const [mode, inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  process.stderr.write('usage: init-main.js create|exec IN_FIFO OUT_FIFO (started by the tsinfra supervisor)\n');
  process.exit(2);
}
const channel = InitChannel.open(inPath, outPath);
let current: InitStage = 'start';

function stage(name: InitStage, work: () => void): void {
  current = name;
  work();
}

function fail(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  try {
    channel.send({ type: 'error', stage: current, message });
  } catch {
    // the supervisor is gone: nobody to tell
  }
  process.exit(1);
}

/** Waits for `go`; the supervisor going away instead ends the init quietly. */
function awaitGo(): void {
  const m = channel.receive();
  if (m === undefined) process.exit(1);
  if (m.type !== 'go') throw new Error(`bug: expected go, got ${m.type}`);
}

function create(): never {
  const m = channel.receive();
  // The supervisor went away before this init was used: nothing to report to anyone.
  if (m === undefined) process.exit(1);
  current = 'config';
  if (m.type !== 'config') throw new Error(`bug: expected config, got ${m.type}`);
  const config = m.config;
  stage('config', () => {
    // Read-write: the FIFO always has a reader (this process), so the command's writes
    // block instead of failing with EPIPE while the supervisor restarts.
    dup2(openSync(config.stdio.stdout, 'r+'), 1);
    dup2(openSync(config.stdio.stderr, 'r+'), 2);
    if (config.netns !== null) {
      // This thread only: the one that execs. Done before /sys is mounted, which shows
      // the network devices of the namespace of the thread that mounts it.
      const fd = openSync(config.netns, 'r');
      setns(fd, CLONE.NEWNET);
      closeSync(fd);
    }
  });
  setUpRootfs(config, stage);
  stage('namespaces', () => sethostname(config.hostname));
  channel.send({ type: 'mounted' });
  awaitGo();
  // The supervisor has put this process in the container's cgroup: make it the root of
  // the cgroup namespace the command will see.
  stage('namespaces', () => {
    unshare(CLONE.NEWCGROUP);
    // `unshare --kill-child` ties this process to its parent until here, so that a start that
    // fails leaves nothing behind; a running container must outlive that helper.
    prctl(PR.SET_PDEATHSIG, 0);
  });
  return becomeProcess(config.process, stage);
}

const NAMESPACES: [string, number][] = [
  ['ipc', CLONE.NEWIPC],
  ['uts', CLONE.NEWUTS],
  ['net', CLONE.NEWNET],
  ['cgroup', CLONE.NEWCGROUP],
  ['mnt', CLONE.NEWNS],
];

function exec(): never {
  const m = channel.receive();
  if (m === undefined) process.exit(0);
  current = 'config';
  if (m.type !== 'exec-config') throw new Error(`bug: expected exec-config, got ${m.type}`);
  const { targetPid, process: spec } = m.config;
  stage('namespaces', () => {
    // Open every namespace first: /proc changes meaning once the mount namespace does.
    const fds = NAMESPACES.map(([name, type]) => [openSync(`/proc/${targetPid}/ns/${name}`, 'r'), type] as const);
    // Leaving the fs struct the other threads share is what makes setns(mnt) legal here.
    unshare(CLONE.FS);
    for (const [fd, type] of fds) {
      setns(fd, type);
      closeSync(fd);
    }
  });
  return becomeProcess(spec, stage);
}

try {
  channel.send({ type: 'ready', hostPid: Number(readlinkSync('/proc/self')) });
  if (mode === 'exec') exec();
  else create();
} catch (e) {
  fail(e);
}
