// Child process for the security tests: applies credentials, capabilities and a seccomp
// filter to its main thread in the init's order (agent/runtime/init/process-exec.ts),
// then tries system calls and prints what they returned as one JSON line, then
// optionally execs a command. Does nothing without its config in TSI_SECURITY_CHILD
// (the test runner also runs every file under test/).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { execve, setBlocking, setCloexec } from '../../../../agent/runtime/libc.js';
import { applyCapabilities, applyCredentials, readThreadCapabilities } from '../../../../agent/runtime/security/credentials.js';
import { installSeccomp } from '../../../../agent/runtime/security/seccomp-install.js';
import { seccompArch, syscallNumber } from '../../../../agent/runtime/security/syscall-numbers.js';

export interface ChildConfig {
  credentials?: { uid: number; gid: number; additionalGids: number[] };
  /** Capability mask, hex. */
  capabilities?: string;
  /** struct sock_filter program, base64. */
  seccomp?: string;
  noNewPrivileges?: boolean;
  probes?: string[];
  /** A directory (made and removed by the test) for the file probes. */
  scratch?: string;
  /** argv of a command to execve at the end. */
  exec?: string[];
}

/** What a probe saw: the call's return value and errno (0 on success). */
export interface ProbeResult {
  ret: number;
  errno: number;
}

export interface ChildReport {
  caps: { inheritable: string; permitted: string; effective: string; bounding: string; ambient: string };
  probes: Record<string, ProbeResult>;
}

const CLONE_NEWNS = 0x20000;
const CLONE_FS = 0x200;
const CLONE_NEWUTS = 0x04000000;
const X32_SYSCALL_BIT = 0x40000000;

function main(config: ChildConfig): void {
  const libc = koffi.load('libc.so.6');
  const syscall = libc.func('long syscall(long nr, long a, long b, long c, long d, long e, long f)');
  const target = seccompArch(arch())!;
  const raw = (nr: number, ...args: number[]): ProbeResult => {
    const padded = [...args, 0, 0, 0, 0, 0, 0].slice(0, 6);
    const ret = Number(syscall(nr, ...padded));
    return { ret, errno: ret < 0 ? koffi.errno() : 0 };
  };
  const call = (name: string, ...args: number[]): ProbeResult => {
    const nr = syscallNumber(target, name);
    if (nr === undefined) throw new Error(`no syscall ${name} on ${target}`);
    return raw(nr, ...args);
  };
  const scratch = config.scratch ?? '/nonexistent';
  const fsProbe = (work: () => void): ProbeResult => {
    try {
      work();
      return { ret: 0, errno: 0 };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).errno;
      return { ret: -1, errno: typeof code === 'number' ? -code : -1 };
    }
  };
  const probes: Record<string, () => ProbeResult> = {
    getpid: () => call('getpid'),
    'unshare-uts': () => call('unshare', CLONE_NEWUTS),
    // Bad arguments: where the filter lets the call through, the kernel refuses it harmlessly.
    mount: () => call('mount', 0, 0, 0, 0, 0),
    kexec_load: () => call('kexec_load', 0, 0, 0, 0x7ead0000),
    init_module: () => call('init_module', 0, 0, 0),
    clone3: () => call('clone3', 0, 0),
    'clone-newns': () => call('clone', CLONE_NEWNS | CLONE_FS),
    'personality-query': () => call('personality', 0xffffffff),
    'personality-no-randomize': () => call('personality', 0x0040000),
    'x32-getpid': () => raw(X32_SYSCALL_BIT | syscallNumber(target, 'getpid')!),
    mkdir: () => fsProbe(() => mkdirSync(join(scratch, 'dir'))),
    'file-io': () =>
      fsProbe(() => {
        writeFileSync(join(scratch, 'file'), 'hello');
        if (readFileSync(join(scratch, 'file'), 'utf8') !== 'hello') throw new Error('read back something else');
      }),
    'spawn-true': () => {
      const r = spawnSync('/bin/true');
      return { ret: r.status ?? -1, errno: r.error ? -1 : 0 };
    },
  };

  if (config.seccomp && !config.noNewPrivileges) installSeccomp(Buffer.from(config.seccomp, 'base64'), false);
  if (config.credentials) applyCredentials(config.credentials);
  if (config.capabilities !== undefined) applyCapabilities(BigInt('0x' + config.capabilities), { uid: config.credentials?.uid ?? 0 });
  if (config.noNewPrivileges) installSeccomp(config.seccomp ? Buffer.from(config.seccomp, 'base64') : null, true);

  const results: Record<string, ProbeResult> = {};
  for (const name of config.probes ?? []) {
    const probe = probes[name];
    if (!probe) throw new Error(`unknown probe ${name}`);
    results[name] = probe();
  }
  const caps = readThreadCapabilities();
  const hex = (v: bigint) => v.toString(16);
  const report: ChildReport = {
    caps: {
      inheritable: hex(caps.inheritable),
      permitted: hex(caps.permitted),
      effective: hex(caps.effective),
      bounding: hex(caps.bounding),
      ambient: hex(caps.ambient),
    },
    probes: results,
  };
  writeFileSync(1, JSON.stringify(report) + '\n');
  if (config.exec) {
    // Node opens its stdio close-on-exec and non-blocking; the command needs them plain.
    for (const fd of [1, 2]) {
      setCloexec(fd, false);
      setBlocking(fd);
    }
    execve(config.exec[0]!, config.exec, ['PATH=/usr/bin:/bin']);
  }
}

const raw = process.env['TSI_SECURITY_CHILD'];
if (raw) main(JSON.parse(raw) as ChildConfig);
