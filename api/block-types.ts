// Arguments of the blocks other than resources (host, variable, output, tsinfra
// settings) and the meta-arguments shared by hosts and resources, as a manifest
// writes them. Names are snake_case, as in HCL.
import type { DeepInput } from './inputs.js';
import type { Input, Ref } from './ref.js';
import type { ResourceAttributes, ResourceType, ResourceTypes } from './resource-types.js';

declare const HOST: unique symbol;

/** What `host.NAME` evaluates to. The brand keeps other references (a container) out of `host` arguments. */
export type HostValue = HostSettings & { readonly [HOST]: true };

/** A host's connection settings. */
export interface HostSettings {
  /** `ssh` (default) or `local`: this machine, no SSH. */
  transport?: 'ssh' | 'local';
  /** Address or DNS name to connect to (ssh). */
  address?: string;
  /** SSH port. Default: 22. */
  port?: number;
  /** SSH user. Default: root. */
  user?: string;
  /** Private key file (`~/.ssh/id_ed25519`). */
  private_key_file?: string;
  /** Authenticate through the SSH agent (`SSH_AUTH_SOCK`). */
  agent?: boolean;
  /** known_hosts file for strict host key checking (`~/.ssh/known_hosts`). */
  known_hosts_file?: string;
  /** Pin one host key (`ssh-ed25519 AAAA...`) instead of known_hosts. */
  host_key?: string;
  /** Connect through this host (`host.bastion`). */
  jump_host?: HostValue;
  /** Run the agent through `sudo -n`. Default: false. */
  sudo?: boolean;
  /** Allow containers with `privileged = true` on this host. Default: false. */
  allow_privileged?: boolean;
  /** Thin pool (`"VG/POOL"`) for containers' rootfs volumes (`rootfs_size`) that do not name their own `rootfs_thin_pool`. */
  rootfs_thin_pool?: string;
  /** How long the agent stays on the host after a run to serve the next ones. Default: "10m"; "0s" turns it off. */
  agent_idle_timeout?: string;
  /** local transport: run the agent inside this network namespace (tests, labs). */
  netns?: string;
}

/** A value that may drive `count`/`for_each` expansion. An array is used as a set of keys. */
export type ForEachInput = Input<readonly string[] | Record<string, unknown>>;

/** Anything `depends_on` accepts: resources, resource instances, hosts. */
export type DependencyRef = Ref<object>;

export interface ExpansionArgs {
  /** Create this many instances, addressed `NAME[0]`, `NAME[1]`, ... (`ref.countIndex` inside). */
  count?: Input<number> | undefined;
  /** One instance per key of a map or element of a set of strings (`ref.eachKey`, `ref.eachValue` inside). */
  for_each?: ForEachInput | undefined;
  /** Explicit dependencies beyond the references in the arguments. */
  depends_on?: readonly DependencyRef[] | undefined;
}

export type HostArgs = { [K in keyof HostSettings]: DeepInput<Exclude<HostSettings[K], undefined>> | undefined } & ExpansionArgs;

/** An attribute path for `ignore_changes`: `env`, `resources.memory`, `mount[0].source`. */
export type AttributePath<T extends ResourceType> =
  (keyof ResourceTypes[T] & string) | `${keyof ResourceTypes[T] & string}.${string}` | `${keyof ResourceTypes[T] & string}[${string}`;

export interface LifecycleArgs<T extends ResourceType> {
  /** Refuse any plan that would destroy this resource. */
  prevent_destroy?: boolean | undefined;
  /** When replacing, create the new object before destroying the old one. */
  create_before_destroy?: boolean | undefined;
  /** Attributes whose changes are ignored after creation, or `'all'`. */
  ignore_changes?: readonly AttributePath<T>[] | 'all' | undefined;
}

/** Meta-arguments of a resource: where it lives, how many, what it waits for. */
export type ResourceMetaArgs<T extends ResourceType> = ExpansionArgs & {
  /** Lifecycle customisations. */
  lifecycle?: LifecycleArgs<T> | undefined;
} & (T extends 'overlay_network'
    ? { host?: never }
    : T extends 'tsinfra_data'
      ? {
          /** Optional: a tsinfra_data resource holds values and touches no host. */
          host?: Ref<HostValue> | undefined;
        }
      : {
          /** The host this resource lives on (`host: web` or `ref.host('web')`). */
          host: Ref<HostValue>;
        });

/** What `TYPE.NAME` evaluates to: the arguments and the read-only attributes. */
export type ResourceObject<T extends ResourceType> = ResourceTypes[T] & ResourceAttributes[T];

/** A variable type constraint, as in HCL: `string`, `number`, `bool`, `list(T)`, `set(T)`, `map(T)`, `object({...})`, `any`. */
export type VariableTypeName =
  'string' | 'number' | 'bool' | 'any' | `list(${string})` | `set(${string})` | `map(${string})` | `object(${string})` | `tuple(${string})`;

/** The TS type of a variable's value for its HCL type constraint. */
export type VariableValue<S extends string> = S extends 'string'
  ? string
  : S extends 'number'
    ? number
    : S extends 'bool'
      ? boolean
      : S extends `list(${infer E})` | `set(${infer E})`
        ? VariableValue<E>[]
        : S extends `map(${infer E})`
          ? Record<string, VariableValue<E>>
          : any; // eslint-disable-line @typescript-eslint/no-explicit-any -- `any`, objects and tuples are not checked here

export interface ValidationArgs<V> {
  /** Must evaluate to true for the value to be accepted; a function receives the variable's reference. */
  condition: Input<boolean> | ((value: Ref<V>) => Input<boolean>);
  /** Shown when the condition is false. */
  error_message: Input<string>;
}

export interface VariableArgs<S extends string> {
  /** Type constraint. Default: any. */
  type?: S;
  /** Value used when none is given. Without one the variable is required. */
  default?: DeepInput<VariableValue<S>> | undefined;
  /** Shown by `validate` and in errors. */
  description?: string | undefined;
  /** Hide the value in plan output. */
  sensitive?: boolean | undefined;
  /** Whether `null` is an accepted value. Default: true. */
  nullable?: boolean | undefined;
  /** Checks on the value. */
  validation?: ValidationArgs<VariableValue<S>> | readonly ValidationArgs<VariableValue<S>>[] | undefined;
}

export interface OutputArgs {
  /** The value to export (`web.ipAddress`). */
  value: unknown;
  /** Shown by `tsinfra output`. */
  description?: string | undefined;
  /** Hide the value in output (`--json` still carries it). */
  sensitive?: boolean | undefined;
  /** Explicit dependencies. */
  depends_on?: readonly DependencyRef[] | undefined;
}

export interface MovedArgs {
  /** The old address: `'network.old'`, `'container.web[0]'`, or a reference. */
  from: string | Ref<object>;
  /** The new address. */
  to: string | Ref<object>;
}

export interface LocalBackendArgs {
  /** State file path. Default: `.tsinfra/state.json` in the configuration directory. */
  path?: Input<string> | undefined;
}

export interface PostgresBackendArgs {
  /** PostgreSQL connection string. */
  conn_str: Input<string>;
  /** Schema holding the state tables. Default: `tsinfra`. */
  schema?: Input<string> | undefined;
}

export interface SettingsArgs {
  /** Version constraint on tsinfra itself (`>= 0.1`). */
  required_version?: string | undefined;
  /** Where state is stored. Default: local. */
  backend?: { local: LocalBackendArgs } | { postgres: PostgresBackendArgs } | undefined;
}
