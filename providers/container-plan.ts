// The planned state of a container: the configuration with every default filled in
// and every value in its canonical form, plus the computed attributes. The agent's
// read reports the same shape (sizes as canonicalSize writes them, cpusets in the
// kernel's list form, capabilities as CAP_NAME), so that an untouched container plans
// no change and a limit changed by hand shows as drift on exactly that attribute.
//
// Defaults: state "running", restart policy "no", no_new_privileges true,
// read_only_rootfs false, seccomp_profile "default", stop_signal "SIGTERM",
// stop_timeout "10s", network_mode "bridge" with network blocks and "none" without
// (tsinfra has no implicit default bridge as Docker does: a container reaches a network
// only through a network block), port protocol "tcp", host_ip null (all addresses),
// mount read_only false, device permissions "rwm", healthcheck interval "30s" and
// retries 3 (as Docker). Capabilities are written as capabilities.ts spells them
// (`CAP_NET_ADMIN`, or `ALL`). Unset values are null, and so are empty maps and lists
// (`env = {}` plans as no env): one form for nothing, and no empty values in plans.
import { isObject, isUnknown, UNKNOWN, type Value, type ValueObject } from '../plan-engine/values.js';
import { canonicalCapability } from '../agent/runtime/security/capabilities.js';
import { canonicalCpuset, canonicalSize, signalName } from './container-values.js';

export const CONTAINER_COMPUTED = ['id', 'pid', 'ip_address', 'ip_addresses', 'status', 'started_at', 'restart_count'] as const;

/** Computed attributes that describe the running process: new whenever the desired state changes. */
const PROCESS_COMPUTED = ['pid', 'started_at', 'restart_count'] as const;

function rootfsPool(c: ValueObject, hostSettings?: Readonly<Record<string, unknown>>): Value {
  if (c['rootfs_size'] === undefined || c['rootfs_size'] === null) return null;
  const own = c['rootfs_thin_pool'];
  if (own !== undefined && own !== null) return own;
  const fromHost = hostSettings?.['rootfs_thin_pool'];
  return typeof fromHost === 'string' ? fromHost : null;
}

/** The planned state for `config`; computed attributes from `prior` on update, unknown on create. */
export function planContainer(c: ValueObject, prior: ValueObject | null, hostSettings?: Readonly<Record<string, unknown>>): ValueObject {
  const network = mapList(c['network'], (n) => ({
    id: n['id'] ?? null,
    ip: n['ip'] ?? null,
    aliases: emptyToNull(n['aliases']),
  }));
  const state = c['state'] ?? 'running';
  const planned: ValueObject = {
    image: c['image'] ?? null,
    command: c['command'] ?? null,
    env: mapValues(c['env'], (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v)),
    working_dir: c['working_dir'] ?? null,
    user: c['user'] ?? null,
    hostname: c['hostname'] ?? null,
    extra_hosts: mapValues(c['extra_hosts'], (v) => v),
    localtime: c['localtime'] ?? false,
    rootfs_size: canonicalSize(c['rootfs_size']),
    // The pool is part of the container's identity: the host's default is written down.
    rootfs_thin_pool: rootfsPool(c, hostSettings),
    read_only_rootfs: c['read_only_rootfs'] ?? false,
    state,
    resources: planResources(c['resources']),
    mount: mapList(c['mount'], (m) => ({
      type: m['type'] ?? null,
      source: m['source'] ?? null,
      target: m['target'] ?? null,
      read_only: m['read_only'] ?? false,
    })),
    device: mapList(c['device'], (d) => ({
      source: d['source'] ?? null,
      target: d['target'] ?? null,
      permissions: d['permissions'] ?? 'rwm',
    })),
    tmpfs: mapList(c['tmpfs'], (t) => ({ target: t['target'] ?? null, size: canonicalSize(t['size']) })),
    network,
    network_mode: c['network_mode'] ?? defaultNetworkMode(network),
    port: mapList(c['port'], (p) => ({
      host_port: p['host_port'] ?? null,
      container_port: p['container_port'] ?? null,
      protocol: p['protocol'] ?? 'tcp',
      host_ip: p['host_ip'] ?? null,
    })),
    restart: planRestart(c['restart']),
    capabilities: planCapabilities(c['capabilities']),
    privileged: c['privileged'] ?? false,
    no_new_privileges: c['no_new_privileges'] ?? true,
    seccomp_profile: c['seccomp_profile'] ?? 'default',
    healthcheck: isObject(c['healthcheck'])
      ? {
          command: c['healthcheck']['command'] ?? null,
          interval: c['healthcheck']['interval'] ?? '30s',
          retries: c['healthcheck']['retries'] ?? 3,
        }
      : (c['healthcheck'] ?? null),
    stop_signal: typeof c['stop_signal'] === 'string' ? (signalName(c['stop_signal']) ?? c['stop_signal']) : (c['stop_signal'] ?? 'SIGTERM'),
    stop_timeout: c['stop_timeout'] ?? '10s',
  };
  return { ...planned, ...computed(prior, state) };
}

/**
 * On create everything is known after apply, except `status`: the desired state. On
 * update the recorded values stay, unless the desired state differs from the one the
 * host reports: then the process attributes are known after apply and `status`
 * follows `state` (a container stopped by hand plans `state: "stopped" -> "running"`,
 * `status` with it, and a new pid).
 */
function computed(prior: ValueObject | null, state: Value): ValueObject {
  const out: ValueObject = {};
  for (const k of CONTAINER_COMPUTED) out[k] = prior ? (prior[k] ?? null) : UNKNOWN;
  if (!prior) {
    out['status'] = state;
    return out;
  }
  if (isUnknown(state) || prior['state'] !== state) {
    out['status'] = state;
    for (const k of PROCESS_COMPUTED) out[k] = UNKNOWN;
  }
  return out;
}

function defaultNetworkMode(network: Value): Value {
  if (isUnknown(network)) return UNKNOWN;
  return Array.isArray(network) && network.length > 0 ? 'bridge' : 'none';
}

function planResources(r: Value | undefined): Value {
  if (isUnknown(r)) return r;
  const o = isObject(r) ? r : {};
  const cpuset = o['cpuset'];
  return {
    memory: canonicalSize(o['memory']),
    memory_swap: canonicalSize(o['memory_swap']),
    memory_reservation: canonicalSize(o['memory_reservation']),
    cpu_shares: o['cpu_shares'] ?? null,
    cpus: o['cpus'] ?? null,
    cpuset: typeof cpuset === 'string' ? (canonicalCpuset(cpuset) ?? cpuset) : (cpuset ?? null),
    pids_limit: o['pids_limit'] ?? null,
    blkio_weight: o['blkio_weight'] ?? null,
    device_read_bps: mapValues(o['device_read_bps'], canonicalSize),
    device_write_bps: mapValues(o['device_write_bps'], canonicalSize),
    device_read_iops: mapValues(o['device_read_iops'], (v) => v),
    device_write_iops: mapValues(o['device_write_iops'], (v) => v),
  };
}

function planRestart(r: Value | undefined): Value {
  if (isUnknown(r)) return r;
  const o = isObject(r) ? r : {};
  return { policy: o['policy'] ?? 'no', max_retries: o['max_retries'] ?? null };
}

function planCapabilities(v: Value | undefined): Value {
  if (isUnknown(v)) return v;
  const o = isObject(v) ? v : {};
  const names = (l: Value | undefined): Value => {
    if (!Array.isArray(l)) return emptyToNull(l);
    return emptyToNull(l.map((n) => (typeof n === 'string' ? (canonicalCapability(n) ?? n) : n)));
  };
  return { add: names(o['add']), drop: names(o['drop']) };
}

/** Nothing is null, whether unset or written empty: one canonical form, and no empty values in plan output. */
function emptyToNull(v: Value | undefined): Value {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v) && v.length === 0) return null;
  if (isObject(v) && Object.keys(v).length === 0) return null;
  return v;
}

/** A repeatable block's list, each entry normalised; an unknown list stays unknown. */
function mapList(v: Value | undefined, f: (o: ValueObject) => ValueObject): Value {
  if (!Array.isArray(v)) return emptyToNull(v);
  return emptyToNull(v.map((x) => (isObject(x) ? f(x) : x)));
}

/** A map with sorted keys, each value normalised. */
function mapValues(v: Value | undefined, f: (x: Value) => Value): Value {
  if (!isObject(v)) return emptyToNull(v);
  const out: ValueObject = {};
  for (const k of Object.keys(v).sort()) out[k] = f(v[k]!);
  return emptyToNull(out);
}
