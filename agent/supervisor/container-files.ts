// Where a container's files live on the host, and their persistence:
//   <state>/containers/<id>/spec.json     what the agent asked for (survives reboots)
//   <state>/containers/<id>/upper, work   the writable layer of the rootfs
//   <state>/containers/<id>/layer/{upper,work}  the same with rootfs_size: `layer` is where
//                                         the init mounts the container's thin LV
//   <state>/containers/<id>/logs/         container.log and its rotations
//   <run>/containers/<id>/runtime.json    the live process (pid, start time) for adoption
//   <run>/containers/<id>/rootfs          mount point (mounted only inside the container)
//   <run>/containers/<id>/{hosts,hostname,resolv.conf}  bind-mounted into the container
//   <run>/containers/<id>/{stdout,stderr}  FIFOs between the container and its log
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { containerSpec, type ContainerSpec } from './protocol.js';

export class ContainerPaths {
  readonly stateDir: string;
  readonly runDir: string;

  constructor(
    stateRoot: string,
    runRoot: string,
    readonly id: string,
  ) {
    this.stateDir = join(stateRoot, 'containers', id);
    this.runDir = join(runRoot, 'containers', id);
  }

  get spec(): string {
    return join(this.stateDir, 'spec.json');
  }
  get upper(): string {
    return join(this.stateDir, 'upper');
  }
  get work(): string {
    return join(this.stateDir, 'work');
  }
  /** rootfs_size: mount point of the layer's LV (in the container's namespace only). */
  get layer(): string {
    return join(this.stateDir, 'layer');
  }
  get logs(): string {
    return join(this.stateDir, 'logs');
  }
  get runtime(): string {
    return join(this.runDir, 'runtime.json');
  }
  get rootfs(): string {
    return join(this.runDir, 'rootfs');
  }
  get hosts(): string {
    return join(this.runDir, 'hosts');
  }
  get hostname(): string {
    return join(this.runDir, 'hostname');
  }
  get resolvConf(): string {
    return join(this.runDir, 'resolv.conf');
  }
  fifo(stream: 'stdout' | 'stderr'): string {
    return join(this.runDir, stream);
  }

  makeDirs(): void {
    for (const d of [this.stateDir, this.logs, this.runDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    // The layer's root directory is the container's "/": it needs the usual mode.
    // (chmod: the supervisor's umask is 077)
    for (const d of [this.upper, this.work, this.rootfs]) {
      mkdirSync(d, { recursive: true, mode: 0o755 });
      chmodSync(d, 0o755);
    }
  }

  removeAll(): void {
    rmSync(this.runDir, { recursive: true, force: true });
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

export const storedSpec = z.object({ spec: containerSpec, restartCount: z.number().int() });
export type StoredSpec = z.infer<typeof storedSpec>;

export const runtimeRecord = z.object({
  pid: z.number().int(),
  /** Field 22 of /proc/PID/stat: tells a live container from a reused pid. */
  startTicks: z.string(),
  startedAt: z.string(),
  ipAddresses: z.record(z.string(), z.string()),
});
export type RuntimeRecord = z.infer<typeof runtimeRecord>;

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, path);
}

export function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function storedContainerIds(stateRoot: string): string[] {
  try {
    return readdirSync(join(stateRoot, 'containers')).filter((n) => /^[0-9a-f]{16}$/.test(n));
  } catch {
    return [];
  }
}

/** The start time of a process in clock ticks, or undefined when it does not exist. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export type { ContainerSpec };
