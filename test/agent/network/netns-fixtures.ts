// A throw-away "host" network namespace with a bridge, "containers" that are processes
// in network namespaces of their own, and a command runner that runs everything inside
// the host namespace, so that the code under test never touches the machine's links,
// firewall or sysctls.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { silentLog } from '../../../agent/log.js';
import { ProcessRunner, type CommandOutput, type CommandRunner, type RunOptions } from '../../../agent/system/command.js';
import { createNetns, deleteNetns, inNetns } from '../throwaway-netns.js';

const run = promisify(execFile);

/** Runs every command inside the network namespace `netns` (`ip netns exec`). */
export class NetnsRunner implements CommandRunner {
  private readonly inner = new ProcessRunner(silentLog);
  readonly commands: string[][] = [];

  constructor(readonly netns: string) {}

  run(argv: readonly string[], options?: RunOptions): Promise<CommandOutput> {
    this.commands.push([...argv]);
    return this.inner.run(['ip', 'netns', 'exec', this.netns, ...argv], options);
  }

  tryRun(argv: readonly string[], options?: RunOptions): Promise<CommandOutput> {
    this.commands.push([...argv]);
    return this.inner.tryRun(['ip', 'netns', 'exec', this.netns, ...argv], options);
  }
}

export interface FakeContainer {
  readonly pid: number;
  kill(): Promise<void>;
}

/** A `sleep` in a new network namespace, started from inside `hostNetns` (so its veths have a home). */
export async function startContainerProcess(hostNetns: string): Promise<FakeContainer> {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', hostNetns, 'unshare', '--net', 'sleep', '1000'], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('cannot start unshare');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    await exited;
  };
  // ip and unshare exec in place: once the pid runs sleep, its namespace is the new one.
  for (let i = 0; ; i++) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      // not there yet, or gone
    }
    if (exe.endsWith('/sleep')) break;
    if (i > 200 || child.exitCode !== null) {
      await kill();
      throw new Error(`the container process ${pid} did not start`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid, kill };
}

/** Runs a command in the container's network namespace; resolves whatever the exit code. */
export async function inContainer(pid: number, argv: readonly string[], timeoutMs = 10_000): Promise<CommandOutput> {
  try {
    const { stdout, stderr } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, ...argv], { timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export interface TestHost {
  readonly netns: string;
  readonly runner: NetnsRunner;
  addBridge(name: string, cidr: string, mtu?: number): Promise<void>;
  /** Every link name in the host namespace. */
  linkNames(): Promise<string[]>;
  close(): Promise<void>;
}

export async function createTestHost(): Promise<TestHost> {
  const netns = await createNetns();
  const must = async (argv: string[]) => {
    const out = await inNetns(netns, argv);
    if (out.code !== 0) throw new Error(`${argv.join(' ')}: ${out.stderr}`);
    return out;
  };
  return {
    netns,
    runner: new NetnsRunner(netns),
    async addBridge(name, cidr, mtu = 1500) {
      await must(['ip', 'link', 'add', 'name', name, 'mtu', String(mtu), 'type', 'bridge']);
      await must(['ip', 'addr', 'add', cidr, 'dev', name]);
      await must(['ip', 'link', 'set', 'dev', name, 'up']);
    },
    async linkNames() {
      const out = await must(['ip', '-j', 'link', 'show']);
      return (JSON.parse(out.stdout) as { ifname: string }[]).map((l) => l.ifname);
    },
    close: () => deleteNetns(netns),
  };
}

/** Connects `netns` to a new "outside" namespace through a veth pair: host side `hostCidr`, outside `outsideCidr`. */
export async function addOutside(netns: string, hostCidr: string, outsideCidr: string): Promise<{ netns: string; close: () => Promise<void> }> {
  const outside = await createNetns();
  const hostEnd = `tsit${outside.slice(5, 11)}`;
  await run('ip', ['link', 'add', hostEnd, 'netns', netns, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', outside]);
  await run('ip', ['-n', netns, 'addr', 'add', hostCidr, 'dev', hostEnd]);
  await run('ip', ['-n', netns, 'link', 'set', hostEnd, 'up']);
  await run('ip', ['-n', outside, 'addr', 'add', outsideCidr, 'dev', 'uplink']);
  await run('ip', ['-n', outside, 'link', 'set', 'uplink', 'up']);
  return { netns: outside, close: () => deleteNetns(outside) };
}
