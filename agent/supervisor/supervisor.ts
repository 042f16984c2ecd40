// The supervisor: every container on this host, its lifecycle, its restarts and its
// logs. It outlives the agent sessions that call it; containers outlive it (a new
// supervisor adopts the ones still running, by pid and start time, see adopt()).
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { HostsDirectory, type HostsMember } from '../network/hosts-directory.js';
import { RemotePeerStore, type RemotePeer } from '../network/remote-peers.js';
import { AgentFailure } from '../rpc/failure.js';
import type { ContainerStats, OutputEvent } from '../rpc/protocol.js';
import { signalProcess } from '../runtime/libc.js';
import { ContainerLifecycle } from './container-status.js';
import {
  ContainerPaths,
  processStartTicks,
  readJson,
  runtimeRecord,
  storedContainerIds,
  storedSpec,
  writeJsonAtomic,
  type RuntimeRecord,
} from './container-files.js';
import { ensureFifos, resolveProcess, startContainer, undoStart } from './container-start.js';
import { runExec, type ExecRequest } from './container-exec.js';
import { renderHosts, type HostsView } from './hosts-render.js';
import { ContainerLog } from './log-files.js';
import { LogPump } from './log-pump.js';
import type { ContainerInfo, ContainerSpec, DesiredState } from './protocol.js';
import { Backoff, shouldRestart } from './restart-backoff.js';
import type { ProcessSpec } from '../runtime/init/init-protocol.js';
import type { SupervisorDeps } from './runtime-deps.js';

const SIGNALS: Readonly<Record<string, number>> = constants.signals;
/** How often adopted containers (not our children) are checked for exit. */
const ADOPTED_POLL_MS = 1000;

/** One run of a container's process. `gone` settles when the process has exited, with its status. */
interface Run {
  readonly gone: Promise<number | null>;
  handled: boolean;
}

class Container {
  readonly lifecycle: ContainerLifecycle;
  readonly paths: ContainerPaths;
  readonly log: ContainerLog;
  readonly backoff = new Backoff();
  pid: number | null = null;
  startedAt: string | null = null;
  exitCode: number | null = null;
  ipAddresses: Record<string, string> = {};
  process: ProcessSpec | undefined;
  pump: LogPump | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  pollTimer: NodeJS.Timeout | undefined;
  /** Set while a stop or delete the agent asked for is in progress: that exit is no failure. */
  stopping = false;
  /** The current process, from start (or adoption) to its exit being handled. */
  run: Run | undefined;
  exitWaiters: (() => void)[] = [];
  /** Serialises operations on this container. */
  queue: Promise<unknown> = Promise.resolve();

  constructor(
    public spec: ContainerSpec,
    public restartCount: number,
    deps: SupervisorDeps,
  ) {
    this.lifecycle = new ContainerLifecycle(spec.name);
    this.paths = new ContainerPaths(deps.stateDir, deps.runDir, spec.id);
    this.log = new ContainerLog(this.paths.logs);
  }
}

export class Supervisor {
  private readonly containers = new Map<string, Container>();
  /** Containers of this host's networks that run on other hosts (overlays), for /etc/hosts. */
  private readonly remotePeers: RemotePeerStore;

  constructor(private readonly deps: SupervisorDeps) {
    this.remotePeers = RemotePeerStore.open(join(deps.stateDir, 'networks'), (m) => deps.log.warn(m));
  }

  get size(): number {
    return this.containers.size;
  }

  /** Loads recorded containers: adopts live ones, restarts those whose policy says so. */
  async adopt(): Promise<void> {
    for (const id of storedContainerIds(this.deps.stateDir)) {
      const stored = readJson(new ContainerPaths(this.deps.stateDir, this.deps.runDir, id).spec, storedSpec);
      if (!stored) continue;
      const c = new Container(stored.spec, stored.restartCount, this.deps);
      this.containers.set(id, c);
      const rt = readJson(c.paths.runtime, runtimeRecord);
      if (rt && processStartTicks(rt.pid) === rt.startTicks) {
        this.deps.log.info(`adopting container ${c.spec.name} (${id}, pid ${rt.pid})`);
        c.lifecycle.transition('creating');
        c.lifecycle.transition('created');
        c.lifecycle.transition('running');
        if (await this.deps.cgroups.isFrozen(id).catch(() => false)) c.lifecycle.transition('paused');
        c.pid = rt.pid;
        c.startedAt = rt.startedAt;
        c.ipAddresses = rt.ipAddresses;
        c.pump = this.openPump(c);
        c.run = { gone: this.pollAdopted(c, rt), handled: false };
        this.watchRun(c, c.run);
      } else {
        // It died while no supervisor was watching: remove what its start made.
        if (rt) await undoStart(id, this.deps);
      }
      if (c.lifecycle.status !== 'stopped') continue;
      if (stored.spec.state !== 'stopped' && ['always', 'unless-stopped'].includes(stored.spec.restart.policy)) {
        this.deps.log.info(`container ${c.spec.name} (${id}) is not running; restarting it (restart policy ${stored.spec.restart.policy})`);
        void this.serially(c, () => this.start(c)).catch((e: Error) => this.deps.log.warn(`container ${c.spec.name}: ${e.message}`));
      }
    }
  }

  async create(spec: ContainerSpec): Promise<ContainerInfo> {
    if (this.containers.has(spec.id)) throw new AgentFailure('E_CONTAINER_EXISTS', `container ${spec.id} already exists`);
    const c = new Container(spec, 0, this.deps);
    this.containers.set(spec.id, c);
    return this.serially(c, async () => {
      try {
        c.paths.makeDirs();
        this.persistSpec(c);
        if (spec.state !== 'stopped') await this.start(c);
        if (spec.state === 'paused') await this.pause(c);
      } catch (e) {
        // A container that never started is not left half-made.
        this.containers.delete(spec.id);
        c.pump?.close();
        await undoStart(spec.id, this.deps);
        await this.deps.networks.release(spec.id).catch(() => undefined);
        c.log.close();
        c.paths.removeAll();
        throw e;
      }
      return this.info(c);
    });
  }

  async update(id: string, limits: ContainerSpec['limits'], restart: ContainerSpec['restart'], state: DesiredState): Promise<ContainerInfo> {
    const c = this.get(id);
    return this.serially(c, async () => {
      if (c.lifecycle.status === 'running' || c.lifecycle.status === 'paused') await this.deps.cgroups.set(id, limits);
      c.spec = { ...c.spec, limits, restart, state };
      this.persistSpec(c);
      await this.converge(c);
      return this.info(c);
    });
  }

  async delete(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    await this.serially(c, async () => {
      await this.stop(c);
      // Also when the process died unwatched: its cgroup, links and port rules go now.
      await undoStart(id, this.deps);
      await this.deps.networks.release(id);
      c.pump?.close();
      c.log.close();
      c.paths.removeAll();
      this.containers.delete(id);
      this.refreshHostsFiles();
    });
  }

  async inspect(id: string): Promise<ContainerInfo | null> {
    const c = this.containers.get(id);
    return c ? this.info(c) : null;
  }

  /**
   * Replaces the containers of `network` on other hosts; the running containers on it
   * here get them in their /etc/hosts at once, those started later at their start.
   */
  setNetworkPeers(network: string, peers: readonly RemotePeer[]): { changed: boolean } {
    const changed = this.remotePeers.set(network, peers);
    if (changed) {
      const members = this.hostsDirectory().onNetwork(network);
      this.refreshHostsFiles(members);
      this.deps.log.info(`network ${network}: ${peers.length} container(s) on other hosts; /etc/hosts of ${members.length} container(s) here updated`);
    }
    return { changed };
  }

  logs(id: string, tail: number | undefined): OutputEvent[] {
    return this.get(id).log.read(tail);
  }

  /** Streams new log entries until the container stops or `signal` aborts. */
  async followLogs(id: string, onEntry: (e: OutputEvent) => void, signal?: AbortSignal): Promise<void> {
    const c = this.get(id);
    if (c.lifecycle.status === 'stopped') return;
    const stop = c.log.follow(onEntry);
    await new Promise<void>((resolve) => {
      const done = () => {
        c.exitWaiters = c.exitWaiters.filter((w) => w !== done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      c.exitWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
    // The last lines of a process that just exited are still in the pipe.
    if (signal?.aborted) stop();
    else setTimeout(stop, 200);
  }

  async exec(id: string, req: ExecRequest, onOutput: (e: OutputEvent) => void, signal?: AbortSignal): Promise<number> {
    const c = this.get(id);
    if (c.lifecycle.status !== 'running' || c.pid === null) {
      throw new AgentFailure('E_CONTAINER_STATE', `container ${c.spec.name} is ${c.lifecycle.status}: exec needs it running`);
    }
    if (!c.process) {
      // Adopted from an earlier supervisor: the process settings follow from the spec and the image.
      const image = await this.deps.images.get(c.spec.imageId);
      if (!image) throw new AgentFailure('E_IMAGE_MISSING', `container ${c.spec.name}: its image ${c.spec.imageId} is gone from this host`);
      c.process = resolveProcess(c.spec, image);
    }
    return runExec(this.deps.runDir, c.pid, c.process, this.deps.cgroups.procsFiles(id), req, onOutput, signal);
  }

  async stats(ids: readonly string[]): Promise<ContainerStats[]> {
    const chosen = ids.length ? ids.map((i) => this.get(i)) : [...this.containers.values()];
    return Promise.all(
      chosen.map(async (c) => {
        const live = c.lifecycle.status === 'running' || c.lifecycle.status === 'paused';
        const s = live ? await this.deps.cgroups.stats(c.spec.id) : undefined;
        return {
          id: c.spec.id,
          status: c.lifecycle.status,
          cpu_usage_ns: s?.cpuUsageNs ?? 0,
          memory_usage_bytes: s?.memoryUsage ?? 0,
          memory_limit_bytes: s?.memoryLimit ?? null,
          pids: s?.pids ?? 0,
          block_read_bytes: s?.blockReadBytes ?? 0,
          block_write_bytes: s?.blockWriteBytes ?? 0,
        };
      }),
    );
  }

  /** Stops watching (supervisor exit); containers keep running. */
  detachAll(): void {
    for (const c of this.containers.values()) {
      clearTimeout(c.restartTimer);
      clearInterval(c.pollTimer);
      c.pump?.close();
      c.log.close();
    }
  }

  // ---- lifecycle -----------------------------------------------------------

  private async converge(c: Container): Promise<void> {
    const want = c.spec.state;
    const is = c.lifecycle.status;
    if (want === 'stopped') {
      if (is !== 'stopped') await this.stop(c);
      return;
    }
    if (is === 'stopped') {
      // Started by the operator: the restart policy's retries and back-off begin again.
      c.backoff.reset();
      c.restartCount = 0;
      await this.start(c);
    }
    if (want === 'paused' && c.lifecycle.status === 'running') await this.pause(c);
    if (want === 'running' && c.lifecycle.status === 'paused') await this.resume(c);
  }

  private async start(c: Container): Promise<void> {
    clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    c.lifecycle.transition('creating');
    const t0 = performance.now();
    c.paths.makeDirs();
    ensureFifos(c.paths);
    c.pump ??= this.openPump(c);
    let started;
    try {
      started = await startContainer({
        spec: c.spec,
        paths: c.paths,
        deps: this.deps,
        hostsFile: (attachments) => {
          const ips = Object.fromEntries(attachments.map((a) => [a.bridge, a.ip]));
          return renderHosts(c.spec, this.hostsView(c, ips));
        },
        containerPid: (nameOrId) => {
          for (const other of this.containers.values()) {
            if ((other.spec.id === nameOrId || other.spec.dnsName === nameOrId || other.spec.name === nameOrId) && other.lifecycle.status === 'running') {
              return other.pid ?? undefined;
            }
          }
          return undefined;
        },
      });
    } catch (e) {
      c.lifecycle.transition('stopped');
      throw e;
    }
    c.lifecycle.transition('created');
    c.lifecycle.transition('running');
    c.pid = started.init.hostPid;
    c.process = started.process;
    c.startedAt = new Date().toISOString();
    c.exitCode = null;
    c.stopping = false;
    c.ipAddresses = Object.fromEntries(started.attachments.map((a) => [a.bridge, a.ip]));
    const rt: RuntimeRecord = { pid: c.pid, startTicks: processStartTicks(c.pid) ?? '', startedAt: c.startedAt, ipAddresses: c.ipAddresses };
    writeJsonAtomic(c.paths.runtime, rt);
    const init = started.init;
    c.run = {
      gone: init.exited.then(({ code, signal }) => code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0)),
      handled: false,
    };
    this.watchRun(c, c.run);
    this.refreshHostsFiles();
    this.deps.log.info(`container ${c.spec.name} (${c.spec.id}) started in ${(performance.now() - t0).toFixed(1)} ms (pid ${c.pid})`);
  }

  /** When the run's process exits, its exit is handled in turn with the container's other operations. */
  private watchRun(c: Container, run: Run): void {
    void run.gone
      .then((status) => this.serially(c, () => this.exited(c, run, status)))
      .catch((e: Error) => this.deps.log.warn(`container ${c.spec.name}: ${e.message}`));
  }

  /** A process that is not our child (adopted): polled, since only its parent learns its status. */
  private pollAdopted(c: Container, rt: RuntimeRecord): Promise<null> {
    return new Promise((resolve) => {
      c.pollTimer = setInterval(() => {
        if (processStartTicks(rt.pid) === rt.startTicks) return;
        clearInterval(c.pollTimer);
        resolve(null);
      }, ADOPTED_POLL_MS);
      c.pollTimer.unref();
    });
  }

  /**
   * Bookkeeping once a run's process has exited: its cgroup, links and port rules go, the
   * status becomes stopped, and the restart policy decides what comes next. Called once
   * per run (by stop() or when the exit is noticed, whichever is first), always in turn
   * with the container's other operations.
   */
  private async exited(c: Container, run: Run, status: number | null): Promise<void> {
    if (run.handled) return;
    run.handled = true;
    const uptime = c.startedAt ? Date.now() - Date.parse(c.startedAt) : 0;
    // util-linux's unshare (2.38) reports a child killed by a signal as status 1; the
    // cgroup still tells an OOM kill apart, which is the one that matters most.
    const oomKilled = ((await this.deps.cgroups.stats(c.spec.id).catch(() => undefined))?.oomKills ?? 0) > 0;
    const exitCode = oomKilled ? 137 : status;
    c.exitCode = exitCode;
    c.pid = null;
    // Whatever the process wrote last is read before its exit is reported.
    await sleep(50);
    c.pump?.flush();
    await undoStart(c.spec.id, this.deps);
    if (c.lifecycle.status !== 'stopped') c.lifecycle.transition('stopped');
    const how = oomKilled ? 'status 137, killed by the OOM killer' : exitCode === null ? 'status unknown' : `status ${exitCode}`;
    this.deps.log.info(`container ${c.spec.name} (${c.spec.id}) exited (${how})`);
    for (const w of c.exitWaiters.splice(0)) w();
    this.refreshHostsFiles();
    if (!this.containers.has(c.spec.id) || c.spec.state === 'stopped') return;
    if (!shouldRestart(c.spec.restart, exitCode, c.restartCount, c.stopping)) return;
    const delay = c.backoff.next(uptime);
    this.deps.log.info(`container ${c.spec.name}: restarting in ${delay} ms (restart ${c.restartCount + 1})`);
    c.restartTimer = setTimeout(() => {
      c.restartTimer = undefined;
      void this.serially(c, async () => {
        if (c.lifecycle.status !== 'stopped' || c.spec.state === 'stopped' || !this.containers.has(c.spec.id)) return;
        c.restartCount++;
        this.persistSpec(c);
        await this.start(c);
      }).catch((e: Error) => this.deps.log.warn(`container ${c.spec.name}: restart failed: ${e.message}`));
    }, delay);
  }

  /** Stops the process (stop_signal, then SIGKILL after stop_timeout) and handles its exit. Runs inside serially(). */
  private async stop(c: Container): Promise<void> {
    clearTimeout(c.restartTimer);
    c.restartTimer = undefined;
    const run = c.run;
    if (!run || run.handled || c.pid === null) return;
    c.stopping = true;
    const pid = c.pid;
    // A frozen process cannot act on a signal.
    if (c.lifecycle.status === 'paused') await this.resume(c);
    signalProcess(pid, SIGNALS[c.spec.stopSignal] ?? SIGNALS['SIGTERM']!);
    const timedOut = await Promise.race([run.gone.then(() => false), sleep(c.spec.stopTimeoutMs).then(() => true)]);
    if (timedOut) {
      this.deps.log.info(`container ${c.spec.name}: still running after ${c.spec.stopTimeoutMs} ms; killing it`);
      // Killing pid 1 of a pid namespace kills everything in it.
      signalProcess(pid, SIGNALS['SIGKILL']!);
    }
    await this.exited(c, run, await run.gone);
  }

  private async pause(c: Container): Promise<void> {
    await this.deps.cgroups.freeze(c.spec.id);
    c.lifecycle.transition('paused');
  }

  private async resume(c: Container): Promise<void> {
    await this.deps.cgroups.thaw(c.spec.id);
    c.lifecycle.transition('running');
  }

  // ---- helpers -------------------------------------------------------------

  private async info(c: Container): Promise<ContainerInfo> {
    const live = c.lifecycle.status === 'running' || c.lifecycle.status === 'paused';
    const limits = live ? await this.deps.cgroups.observe(c.spec.id, c.spec.limits).catch(() => c.spec.limits) : c.spec.limits;
    return {
      id: c.spec.id,
      status: c.lifecycle.status,
      pid: live ? c.pid : null,
      startedAt: c.startedAt,
      restartCount: c.restartCount,
      exitCode: c.exitCode,
      ipAddresses: c.ipAddresses,
      limits: limits as ContainerInfo['limits'],
      state: c.spec.state,
    };
  }

  private get(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new AgentFailure('E_NO_CONTAINER', `no container ${id} on this host`);
    return c;
  }

  private serially<T>(c: Container, work: () => Promise<T>): Promise<T> {
    const run = c.queue.then(work, work);
    c.queue = run.catch(() => undefined);
    return run;
  }

  private persistSpec(c: Container): void {
    writeJsonAtomic(c.paths.spec, { spec: c.spec, restartCount: c.restartCount });
  }

  private openPump(c: Container): LogPump | undefined {
    if (!existsSync(c.paths.fifo('stdout'))) return undefined;
    return new LogPump(c.log, { stdout: c.paths.fifo('stdout'), stderr: c.paths.fifo('stderr') });
  }

  /** The running containers (and those starting) with their addresses and names, and the networks' remote peers. */
  private hostsDirectory(): HostsDirectory {
    const members = [...this.containers.values()].filter((c) => c.lifecycle.status !== 'stopped').map((c) => memberOf(c.spec, c.ipAddresses));
    return new HostsDirectory(members, (network) => this.remotePeers.peersOn(network));
  }

  /** What `c`'s /etc/hosts lists when its addresses are `ips` (bridge -> address). */
  private hostsView(c: Container, ips: Readonly<Record<string, string>>, directory = this.hostsDirectory()): HostsView {
    directory.join(memberOf(c.spec, ips));
    return { ownAddresses: Object.values(ips), peers: directory.peersOf(c.spec.id), remotePeers: directory.remotePeersOf(c.spec.id) };
  }

  /** Rewrites the /etc/hosts of running containers (all, or those of `ids`) whose peers may have changed. */
  private refreshHostsFiles(ids?: readonly string[]): void {
    const chosen = ids ? ids.flatMap((id) => this.containers.get(id) ?? []) : [...this.containers.values()];
    const directory = this.hostsDirectory();
    for (const c of chosen) {
      if (c.lifecycle.status === 'stopped' || !existsSync(c.paths.hosts)) continue;
      try {
        renderHosts(c.spec, this.hostsView(c, c.ipAddresses, directory), c.paths.hosts);
      } catch (e) {
        this.deps.log.warn(`container ${c.spec.name}: cannot update /etc/hosts: ${(e as Error).message}`);
      }
    }
  }
}

/** A container in the hosts directory: its networks that have an address, with its aliases there. */
function memberOf(spec: ContainerSpec, ips: Readonly<Record<string, string>>): HostsMember {
  const networks = spec.networks.flatMap((n) => {
    const ip = ips[n.bridge];
    return ip ? [{ bridge: n.bridge, ip, aliases: n.aliases }] : [];
  });
  return { id: spec.id, name: spec.dnsName, networks };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
