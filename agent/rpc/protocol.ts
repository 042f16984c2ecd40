// The agent protocol: newline-delimited JSON-RPC 2.0 over the agent's stdin/stdout.
// The same bytes flow over a local pipe (transport "local") and an SSH exec channel,
// so nothing here may assume a local pipe (no fd passing, no shared files).
//
//   engine                                   agent
//     | -- {"jsonrpc":"2.0","id":1,"method":"hello",...} -->  |
//     | <-- {"jsonrpc":"2.0","id":1,"result":{agentVersion,protocol}} |
//     | -- resource.read {items:[...]} (one batch per host per refresh) --> |
//     | <-- {"method":"progress","params":{requestId,...}} (0..n, notifications) |
//     | <-- {"id":2,"result":{items:[...]}} |
//     | -- shutdown --> (agent finishes in-flight requests, answers, exits) |
//
// One message per line, UTF-8, at most MAX_LINE_BYTES. Requests may be pipelined:
// the agent handles them concurrently and answers by id. Every message is validated
// with zod on both sides; a malformed request gets an error response (E_RPC_PARSE with
// id null when the line is not JSON, E_RPC_INVALID naming the field otherwise) and the
// agent carries on.
//
// The schemas a session may not need are built on first use (z.lazy): a fresh host's agent
// builds each schema it has at its start, and zod's objects are not cheap to make.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Longest line either side accepts; longer lines are discarded and answered with E_RPC_PARSE. */
export const MAX_LINE_BYTES = 32 * 1024 * 1024;

/** Error codes of the protocol layer itself; handlers add their own (E_UNSAFE_NAME, ...). */
export const RPC_ERRORS = {
  /** The line is not JSON (or not UTF-8, or too long); the response's id is null. */
  parse: 'E_RPC_PARSE',
  /** The envelope or the params fail validation; the message names the field. */
  invalid: 'E_RPC_INVALID',
  /** No such method. */
  method: 'E_RPC_METHOD',
  /** resource.* for a type the agent does not know. */
  unknownType: 'E_UNKNOWN_TYPE',
  /** A bug in the agent (an exception that is not an AgentFailure). */
  internal: 'E_AGENT_INTERNAL',
  /** A request arrived after shutdown. */
  shuttingDown: 'E_AGENT_SHUTTING_DOWN',
} as const;

export const jsonValue: z.ZodType<unknown> = z.unknown();

export const requestSchema = z.object({
  jsonrpc: z.literal('2.0'),
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  method: z.string().min(1),
  params: z.unknown().optional(),
});
export type Request = z.infer<typeof requestSchema>;

export const errorSchema = z.object({
  code: z.string(),
  message: z.string(),
  data: z.unknown().optional(),
});
export type RpcError = z.infer<typeof errorSchema>;

/** `data`: a streamed item for methods that stream (container.logs, container.exec); see their result schemas. */
export const progressParams = z.object({ requestId: z.number().int(), message: z.string(), data: z.unknown().optional() });

/** What a client reads (the agent writes these, it does not parse them). */
export const responseSchema = z.lazy(() =>
  z.union([
    z.object({ jsonrpc: z.literal('2.0'), id: z.number().int(), result: z.unknown() }),
    z.object({ jsonrpc: z.literal('2.0'), id: z.number().int().nullable(), error: errorSchema }),
    z.object({ jsonrpc: z.literal('2.0'), method: z.literal('progress'), params: progressParams }),
  ]),
);
export type Response = z.infer<typeof responseSchema>;

// ---- methods ---------------------------------------------------------------

export const helloParams = z.object({ clientVersion: z.string(), protocol: z.number().int() });
export const helloResult = z.object({
  agentVersion: z.string(),
  protocol: z.number().int(),
  hostname: z.string(),
  arch: z.string(),
  nodeVersion: z.string(),
});

/** A resource object as the agent sees it: its type and its attributes (plain JSON). */
export const resourceState = z.record(z.string(), z.unknown());
export type ResourceState = z.infer<typeof resourceState>;

export const readParams = z.object({
  items: z.array(z.object({ type: z.string(), state: resourceState })),
});
/** One entry per item, same order; `state: null` means the object is gone. */
export const readResult = z.object({
  items: z.array(z.union([z.object({ state: resourceState.nullable() }), z.object({ error: errorSchema })])),
});

export const applyAction = z.enum(['create', 'update', 'delete']);
export type ApplyAction = z.infer<typeof applyAction>;

export const applyParams = z.object({
  type: z.string(),
  action: applyAction,
  address: z.string(),
  prior: resourceState.nullable(),
  planned: resourceState.nullable(),
});
export const applyResult = z.object({ state: resourceState.nullable() });

export const importParams = z.object({ type: z.string(), id: z.string() });
export const importResult = z.object({ state: resourceState.nullable() });

/** What `facts` reports: cheap reads only. Loose so that newer agents may add facts. */
export const factsResult = z.lazy(() =>
  z.looseObject({
    kernel_release: z.string(),
    hostname: z.string(),
    arch: z.string(),
    cpus: z.number().int(),
    memory_bytes: z.number(),
    cgroup: z.object({
      version: z.enum(['v1', 'v2', 'hybrid', 'none']),
      controllers: z.array(z.string()),
    }),
    tools: z.object({ lvm2: z.boolean(), nft: z.boolean(), ip: z.boolean() }),
    interfaces: z.array(
      z.object({
        name: z.string(),
        mtu: z.number().int().nullable(),
        /** CIDR form, `10.0.0.5/24`, `fe80::1/64`. */
        addresses: z.array(z.string()),
      }),
    ),
    /** Free bytes under the agent's state directory (where images and volumes go). */
    state_dir_free_bytes: z.number().nullable(),
    // Optional: agents before these facts existed do not report them.
    /** lvm2: whether `vgs` is installed, and its volume groups (`error` when vgs failed). */
    lvm: z
      .object({
        present: z.boolean(),
        volume_groups: z.array(z.object({ name: z.string(), size_bytes: z.number(), free_bytes: z.number() })),
        error: z.string().optional(),
      })
      .optional(),
    agent_version: z.string().optional(),
    /** `process.version` of the agent's runtime, `v20.11.1`. */
    node_version: z.string().optional(),
  }),
);
export type Facts = z.infer<typeof factsResult>;

// ---- storage ------------------------------------------------------------------

/**
 * `storage.inventory`: what the plan needs to resolve LVM sizes (`50%VG`), check
 * capacity and refuse unusable devices before anything is touched. One call per host
 * with storage resources; lvm2 reports and lsblk only, nothing is changed.
 */
export const storageInventoryResult = z.lazy(() =>
  z.object({
    lvm: z.object({
      /** lvm2's tools are installed (`lvm`, `vgs`, ...). */
      present: z.boolean(),
      /** dm-thin is usable (thin_check installed); thin pools need it. */
      thin: z.boolean(),
      /** Why the reports could not be read (a held lock, no device access). */
      error: z.string().optional(),
    }),
    volume_groups: z.array(
      z.object({
        name: z.string(),
        size_bytes: z.number(),
        free_bytes: z.number(),
        extent_bytes: z.number(),
        /** Device paths of its PVs, as lvm2 reports them (`/dev/vdb`). */
        physical_volumes: z.array(z.string()),
      }),
    ),
    logical_volumes: z.array(
      z.object({
        vg: z.string(),
        name: z.string(),
        kind: z.enum(['linear', 'thin-pool', 'thin', 'snapshot', 'other']),
        size_bytes: z.number(),
        /** Thin volumes: their pool's name (in the same group). */
        pool: z.string().nullable(),
        origin: z.string().nullable(),
        data_percent: z.number().nullable(),
        /** Mounted or held open by a process. */
        open: z.boolean(),
      }),
    ),
    /** Whole disks and partitions (not dm devices), with what is on them. */
    block_devices: z.array(
      z.object({
        /** `/dev/vdb` */
        path: z.string(),
        size_bytes: z.number(),
        /** The signature on it (`ext4`, `xfs`, `LVM2_member`, `swap`), null when blank. */
        fs_type: z.string().nullable(),
        /** Its volume group when it is a PV. */
        vg: z.string().nullable(),
        /** Symlinks under /dev/disk/by-id and /dev/disk/by-path that point to it. */
        aliases: z.array(z.string()),
      }),
    ),
    /** The host's network interfaces by name (macvlan parents are checked against them). */
    links: z.array(z.string()).optional(),
  }),
);
export type StorageInventory = z.infer<typeof storageInventoryResult>;

// ---- containers (answered by the supervisor through the agent) -------------

/** A log line or a chunk of exec output, streamed as progress `data`. */
export const outputEvent = z.lazy(() =>
  z.object({
    stream: z.enum(['stdout', 'stderr']),
    /** ISO 8601 with milliseconds. */
    time: z.string(),
    /** Text as written by the process (a log entry is one line without its newline). */
    data: z.string(),
  }),
);
export type OutputEvent = z.infer<typeof outputEvent>;

export const containerLogsParams = z.lazy(() =>
  z.object({
    id: z.string(),
    /** Only the last N lines (default: all that are kept). */
    tail: z.number().int().nonnegative().optional(),
    /** Keep streaming new lines (as progress data) until the container stops or the session closes. */
    follow: z.boolean().optional(),
  }),
);
/** Without follow the lines come in the result; with follow they stream as progress data and `entries` is empty. */
export const containerLogsResult = z.lazy(() => z.object({ entries: z.array(outputEvent) }));

export const containerExecParams = z.lazy(() =>
  z.object({
    id: z.string(),
    command: z.array(z.string()).min(1),
    env: z.record(z.string(), z.string()).optional(),
    user: z.string().optional(),
    working_dir: z.string().optional(),
    /** Written to the command's stdin, then closed. */
    stdin: z.string().optional(),
  }),
);
/** Output streams as progress data while the command runs. */
export const containerExecResult = z.lazy(() => z.object({ exit_code: z.number().int() }));

export const containerStats = z.lazy(() =>
  z.object({
    id: z.string(),
    status: z.string(),
    cpu_usage_ns: z.number(),
    memory_usage_bytes: z.number(),
    memory_limit_bytes: z.number().nullable(),
    pids: z.number().int(),
    block_read_bytes: z.number(),
    block_write_bytes: z.number(),
  }),
);
export type ContainerStats = z.infer<typeof containerStats>;
/** Empty ids: every container the agent manages. */
export const containerStatsParams = z.lazy(() => z.object({ ids: z.array(z.string()) }));
export const containerStatsResult = z.lazy(() => z.object({ items: z.array(containerStats) }));

// ---- networks ----------------------------------------------------------------

/**
 * `network.peers`: the containers of a network that run on OTHER hosts (an overlay's
 * members), sent by the engine to each member host after an apply. They replace the
 * previous list (empty: none) and go into the /etc/hosts of this host's containers on
 * that network, now and at later starts. `changed`: false when the list was already so.
 * Names are host names (letters, digits, "-", "_", dots), addresses IPv4: anything else
 * is refused (E_INVALID_HOSTNAME, E_INVALID_IP; E_UNSAFE_NAME for the network id).
 */
export const networkPeersParams = z.lazy(() =>
  z.object({
    /** The network's id (its link name). */
    network: z.string(),
    peers: z.array(z.object({ name: z.string(), aliases: z.array(z.string()), ip: z.string() })),
  }),
);
export const networkPeersResult = z.lazy(() => z.object({ changed: z.boolean() }));

/**
 * `host.install_tools`: installs what of `tools` the host lacks with its package manager.
 * The engine calls it only for hosts whose block sets `install_packages = true`.
 */
export const installToolsParams = z.lazy(() => z.object({ tools: z.array(z.enum(['lvm2', 'thin-provisioning-tools'])).min(1) }));
export const installToolsResult = z.lazy(() => z.object({ installed: z.array(z.string()), manager: z.string().nullable() }));

export const methods = {
  hello: { params: helloParams, result: helloResult },
  facts: { params: z.object({}).optional(), result: factsResult },
  'resource.read': { params: readParams, result: readResult },
  'resource.apply': { params: applyParams, result: applyResult },
  'resource.import': { params: importParams, result: importResult },
  'storage.inventory': { params: z.object({}).optional(), result: storageInventoryResult },
  'host.install_tools': { params: installToolsParams, result: installToolsResult },
  'container.logs': { params: containerLogsParams, result: containerLogsResult },
  'container.exec': { params: containerExecParams, result: containerExecResult },
  'container.stats': { params: containerStatsParams, result: containerStatsResult },
  /** An apply will create `count` containers: the supervisor starts their inits now. */
  'container.prewarm': { params: z.lazy(() => z.object({ count: z.number().int().nonnegative() })), result: z.object({}) },
  'network.peers': { params: networkPeersParams, result: networkPeersResult },
  shutdown: { params: z.object({}).optional(), result: z.object({}) },
} as const;

export type MethodName = keyof typeof methods;
export type ParamsOf<M extends MethodName> = z.input<(typeof methods)[M]['params']>;
export type ResultOf<M extends MethodName> = z.output<(typeof methods)[M]['result']>;

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name);
}
