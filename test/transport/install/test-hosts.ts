// Fake hosts over real SSH for the installer's tests (../shared/testhosts, see its
// README): brought up in `before`, down in `after`, and plain ssh2 connections to them.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { testhostsDir } from '../../testhosts-dir.js';

const TESTHOSTS = testhostsDir();

export interface TestHost {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKeyPath: string;
  readonly hostKey: string;
  readonly netns: string;
  readonly hostDir: string;
}

export interface TestHostSet {
  readonly prefix: string;
  readonly net: string;
  readonly dir: string;
}

function env(set: TestHostSet): NodeJS.ProcessEnv {
  return { ...process.env, PREFIX: set.prefix, NET: set.net };
}

export function hostsUp(set: TestHostSet, count: number): TestHost[] {
  execFileSync(`${TESTHOSTS}/hosts-up.sh`, [String(count), set.dir], { env: env(set), stdio: ['ignore', 'ignore', 'pipe'] });
  return JSON.parse(readFileSync(`${set.dir}/hosts.json`, 'utf8')) as TestHost[];
}

export function hostsDown(set: TestHostSet): void {
  execFileSync(`${TESTHOSTS}/hosts-down.sh`, [set.dir], { env: env(set), stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A ready ssh2 connection, checking the host key; `user` overrides the host's (root). */
export function connect(h: TestHost, user = h.user): Promise<Client> {
  const want = Buffer.from(h.hostKey.split(' ')[1]!, 'base64');
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({
      host: h.address,
      port: h.port,
      username: user,
      privateKey: readFileSync(h.privateKeyPath),
      hostVerifier: (key: Buffer) => Buffer.isBuffer(key) && key.equals(want),
    });
  });
}

/** The pid of a test host's sshd: `nsenter -t` it to act inside the host. */
export function sshdPid(h: TestHost): number {
  return Number(readFileSync(`${h.hostDir}/sshd.pid`, 'utf8').trim());
}

/**
 * Gives a test host the machine's cgroup file systems. sshd was started through `ip netns
 * exec`, which mounts a fresh /sys without them; a real host has them, and the container
 * supervisor refuses to start without. Mounted inside the host's mount namespace only
 * (a cgroup v1 mount with the same controllers joins the existing hierarchy), gone with it.
 */
export function mountCgroups(h: TestHost): void {
  const commands: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    const mountPoint = before?.split(' ')[4];
    const [fstype, source, options] = after?.split(' ') ?? [];
    if (!mountPoint || !fstype || !source || !options || !/^\/sys\/fs\/cgroup(\/|$)/.test(mountPoint)) continue;
    commands.push(`mkdir -p '${mountPoint}' && mount -t '${fstype}' -o '${options}' '${source}' '${mountPoint}'`);
  }
  execFileSync('nsenter', ['-t', String(sshdPid(h)), '-m', '--', 'sh', '-ec', `mountpoint -q /sys/fs/cgroup && exit 0\n${commands.join('\n')}`]);
}

/**
 * Two users for sudo tests: `user` may sudo without a password, `user`p needs one. Their
 * removal is pushed onto `cleanups` (run after the hosts are down: sshd's sessions first).
 */
export function addSudoUsers(user: string, cleanups: (() => void)[]): void {
  const denied = `${user}p`;
  for (const [name, rule] of [
    [user, 'NOPASSWD: ALL'],
    [denied, 'ALL'],
  ] as const) {
    execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', name]);
    cleanups.push(() => execFileSync('userdel', [name]));
    // Not locked ('!'): sshd refuses locked accounts even for key logins.
    execFileSync('usermod', ['-p', '*', name]);
    const sudoers = `/etc/sudoers.d/${name}`;
    writeFileSync(sudoers, `${name} ALL=(root) ${rule}\n`, { mode: 0o440 });
    cleanups.push(() => rmSync(sudoers, { force: true }));
  }
}

/** SFTP sessions sshd has logged on `h` so far. */
export function sftpSessions(h: TestHost): number {
  return readFileSync(`${h.hostDir}/sshd.log`, 'utf8')
    .split('\n')
    .filter((l) => /Starting session: subsystem 'sftp'/.test(l)).length;
}

/** The bundle files a host of this machine's kind gets: glibc, so not the musl module. */
export function glibcHostFiles(bundle: { readonly files: Readonly<Record<string, string>> }): string[] {
  return Object.keys(bundle.files).filter((n) => !n.startsWith('koffi/musl_'));
}
