// What the agent asks of the supervisor, over the supervisor's Unix socket, in the
// agent protocol's framing (newline-delimited JSON-RPC, see ../rpc/protocol.ts).
//
//   agent (one per engine session)          supervisor (one per host, long-running)
//     | -- container.create {spec} -------->  |  record, then start (init handshake)
//     | -- container.inspect {ids} -------->  |  status, pid, addresses, observed limits
//     | -- container.update {id, ...} ------>  |  limits in place, restart policy, state
//     | -- container.delete {id} ----------->  |  stop, remove everything it made
//     | -- container.logs / exec / stats --->  |  progress data streams output
//     | -- network.peers {network, peers} -->  |  remote peers into /etc/hosts
//
// The spec is resolved by the agent from the resource's attributes: sizes in bytes,
// durations in ms, volume ids as paths; the supervisor adds the image's defaults.
import { z } from 'zod';
import {
  containerExecParams,
  containerExecResult,
  containerLogsParams,
  containerLogsResult,
  containerStatsParams,
  containerStatsResult,
  networkPeersParams,
  networkPeersResult,
} from '../rpc/protocol.js';

const deviceRate = z.object({ path: z.string(), rate: z.number() });

export const limitsSchema = z.object({
  memory: z.number().exactOptional(),
  memorySwap: z.number().exactOptional(),
  memoryReservation: z.number().exactOptional(),
  cpuShares: z.number().exactOptional(),
  cpus: z.number().exactOptional(),
  cpuset: z.string().exactOptional(),
  pidsLimit: z.number().exactOptional(),
  blkioWeight: z.number().exactOptional(),
  deviceReadBps: z.array(deviceRate).exactOptional(),
  deviceWriteBps: z.array(deviceRate).exactOptional(),
  deviceReadIops: z.array(deviceRate).exactOptional(),
  deviceWriteIops: z.array(deviceRate).exactOptional(),
});

export const restartSchema = z.object({
  policy: z.enum(['no', 'on-failure', 'always', 'unless-stopped']),
  maxRetries: z.number().int().nonnegative().exactOptional(),
});

export const desiredState = z.enum(['running', 'stopped', 'paused']);
export type DesiredState = z.infer<typeof desiredState>;

export const containerSpec = z.object({
  id: z.string().regex(/^[0-9a-f]{16}$/),
  /** The resource address, for messages (`container.web`). */
  name: z.string(),
  /** The resource's short name: what peers resolve it by. */
  dnsName: z.string(),
  imageId: z.string(),
  /** Explicit command; null: the image's entrypoint + cmd. */
  command: z.array(z.string()).nullable(),
  env: z.record(z.string(), z.string()),
  workingDir: z.string().nullable(),
  user: z.string().nullable(),
  hostname: z.string(),
  extraHosts: z.record(z.string(), z.string()),
  localtime: z.boolean(),
  readOnlyRootfs: z.boolean(),
  mounts: z.array(
    z.object({
      type: z.enum(['bind', 'volume', 'tmpfs', 'logical_volume']),
      /** Host path (bind), volume id, device path (logical_volume: `/dev/vg0/data`); empty for tmpfs. */
      source: z.string(),
      target: z.string(),
      readOnly: z.boolean(),
      sizeBytes: z.number().int().nonnegative(),
      /** logical_volume: its filesystem and the volume's mount options. */
      fsType: z.string().exactOptional(),
      options: z.array(z.string()).exactOptional(),
    }),
  ),
  /** `rootfs_size`: the writable layer lives on this thin LV's filesystem (absent: on the host's disk). */
  rootfsVolume: z.object({ device: z.string(), fsType: z.string() }).exactOptional(),
  devices: z.array(z.object({ source: z.string(), target: z.string(), permissions: z.string() })),
  networkMode: z.string(),
  networks: z.array(z.object({ bridge: z.string(), ip: z.string().nullable(), aliases: z.array(z.string()) })),
  ports: z.array(z.object({ hostPort: z.number().int(), containerPort: z.number().int(), protocol: z.enum(['tcp', 'udp']), hostIp: z.string().nullable() })),
  limits: limitsSchema,
  restart: restartSchema,
  capabilities: z.object({ add: z.array(z.string()), drop: z.array(z.string()) }),
  privileged: z.boolean(),
  noNewPrivileges: z.boolean(),
  seccompProfile: z.string(),
  stopSignal: z.string(),
  stopTimeoutMs: z.number().int().nonnegative(),
  state: desiredState,
});
export type ContainerSpec = z.infer<typeof containerSpec>;

export const containerInfo = z.object({
  id: z.string(),
  status: z.enum(['creating', 'created', 'running', 'paused', 'stopped']),
  /** Host pid of the container's pid 1, null when not running. */
  pid: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  restartCount: z.number().int(),
  exitCode: z.number().int().nullable(),
  /** Bridge name -> address. */
  ipAddresses: z.record(z.string(), z.string()),
  /** The limits the kernel enforces now (recorded values where they match). */
  limits: limitsSchema,
  /** The desired state last set by the agent. */
  state: desiredState,
});
export type ContainerInfo = z.infer<typeof containerInfo>;

export const supervisorMethods = {
  ping: { params: z.object({}), result: z.object({ pid: z.number().int(), version: z.string() }) },
  prewarm: { params: z.object({ count: z.number().int().nonnegative() }), result: z.object({}) },
  /** Replace the waiting container inits (they hold copies of the host's mounts: a volume's, being removed). */
  'inits.recycle': { params: z.object({}), result: z.object({}) },
  'container.create': { params: z.object({ spec: containerSpec }), result: containerInfo },
  'container.update': {
    params: z.object({ id: z.string(), limits: limitsSchema, restart: restartSchema, state: desiredState }),
    result: containerInfo,
  },
  'container.delete': { params: z.object({ id: z.string() }), result: z.object({}) },
  'container.inspect': {
    params: z.object({ ids: z.array(z.string()) }),
    result: z.object({ items: z.array(z.object({ id: z.string(), info: containerInfo.nullable() })) }),
  },
  'container.logs': { params: containerLogsParams, result: containerLogsResult },
  'container.exec': { params: containerExecParams, result: containerExecResult },
  'container.stats': { params: containerStatsParams, result: containerStatsResult },
  'network.peers': { params: networkPeersParams, result: networkPeersResult },
  shutdown: { params: z.object({}).optional(), result: z.object({}) },
} as const;
export type SupervisorMethods = typeof supervisorMethods;
