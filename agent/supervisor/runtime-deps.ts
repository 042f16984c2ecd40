// What the supervisor works with, as interfaces: the real implementations are wired in
// supervisor-main.ts; each is tested on the real kernel in its own module.
import type { AgentLog } from '../log.js';
import type { CgroupManager } from '../runtime/cgroups/cgroup-manager.js';
import type { InitPool } from './init-launcher.js';

export interface ImageLayers {
  readonly layers: string[];
  readonly config: { entrypoint: string[]; cmd: string[]; env: string[]; workingDir: string; user: string };
}

export interface ImageLookup {
  get(id: string): Promise<ImageLayers | null>;
}

export interface NetworkRequest {
  readonly bridge: string;
  readonly ip: string | null;
}

export interface Attachment {
  readonly bridge: string;
  readonly ifname: string;
  readonly ip: string;
  /** The host end of the container's veth; null for a macvlan, which has none. */
  readonly hostVeth?: string | null;
}

export interface PortRequest {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: 'tcp' | 'udp';
  readonly hostIp: string | null;
}

/** Veths, addresses and port forwards of containers (bridge networks). */
export interface ContainerNetworking {
  attach(containerId: string, pid: number, networks: readonly NetworkRequest[]): Promise<Attachment[]>;
  /** Brings up `lo` in the namespace of `pid` (a container with no network). */
  loopbackUp(pid: number): Promise<void>;
  /** Removes the links; keeps the addresses reserved for the next start. */
  detach(containerId: string): Promise<void>;
  /** Gives the container's addresses back (delete). */
  release(containerId: string): Promise<void>;
  publish(containerId: string, containerIp: string, ports: readonly PortRequest[]): Promise<void>;
  unpublish(containerId: string): Promise<void>;
}

export interface SupervisorDeps {
  readonly stateDir: string;
  readonly runDir: string;
  readonly log: AgentLog;
  readonly cgroups: CgroupManager;
  readonly images: ImageLookup;
  readonly networks: ContainerNetworking;
  readonly inits: InitPool;
  /** Where `mount { type = "volume" }` sources live. */
  readonly volumePath: (id: string) => string;
}
