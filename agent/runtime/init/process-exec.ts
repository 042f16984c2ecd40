// The last stage of an init: become the container's process. Order matters (as in runc):
// credentials, then capabilities (root keeps its mask through setresuid thanks to
// PR_SET_KEEPCAPS), then no_new_privs and seccomp, then execve. Without no_new_privs the
// filter must be installed while the thread still has CAP_SYS_ADMIN, so first.
import { readdirSync } from 'node:fs';
import { execve, setBlocking, setCloexec } from '../libc.js';
import { applyCapabilities, applyCredentials, readThreadCapabilities, type ThreadCapabilities } from '../security/credentials.js';
import { installSeccomp } from '../security/seccomp-install.js';
import type { ProcessSpec } from './init-protocol.js';
import { resolveUser } from './user-lookup.js';
import { findExecutable } from './executable-lookup.js';

export type ExecStage = (stage: 'user' | 'credentials' | 'security' | 'exec', work: () => void) => void;

export function becomeProcess(spec: ProcessSpec, stage: ExecStage, keepFds: readonly number[] = []): never {
  let creds!: ReturnType<typeof resolveUser>;
  let path!: string;
  stage('user', () => {
    creds = resolveUser(spec.user);
  });
  const env = withDefaults(spec.env, creds.home);
  stage('exec', () => {
    path = findExecutable(spec.args[0]!, env);
  });
  const mask = BigInt('0x' + (spec.capabilities || '0'));
  const filter = spec.seccomp === null ? null : Buffer.from(spec.seccomp, 'base64');
  stage('security', () => {
    if (filter && !spec.noNewPrivileges) installSeccomp(filter, false);
  });
  let current!: ThreadCapabilities;
  stage('credentials', () => {
    current = readThreadCapabilities();
    applyCredentials(creds);
  });
  stage('security', () => {
    applyCapabilities(mask, { uid: creds.uid, current });
    if (filter && spec.noNewPrivileges) installSeccomp(filter, true);
    else if (spec.noNewPrivileges) installSeccomp(null, true);
  });
  stage('exec', () => {
    process.chdir(spec.cwd);
    closeOtherFds(keepFds);
  });
  let failure: unknown;
  stage('exec', () => {
    try {
      execve(path, spec.args, env);
    } catch (e) {
      failure = e;
      throw e;
    }
  });
  throw failure ?? new Error('bug: execve returned');
}

function withDefaults(env: readonly string[], home: string): string[] {
  const out = [...env];
  if (!out.some((e) => e.startsWith('PATH='))) out.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  if (!out.some((e) => e.startsWith('HOME='))) out.push(`HOME=${home}`);
  return out;
}

/** Everything Node opened (epoll, eventfds, pipes) must not reach the container. */
function closeOtherFds(keep: readonly number[]): void {
  for (const fd of [0, 1, 2]) {
    setCloexec(fd, false);
    setBlocking(fd);
  }
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd > 2 && !keep.includes(fd)) {
      try {
        setCloexec(fd, true);
      } catch {
        // the directory's own fd, already closed
      }
    }
  }
}
