// Plan-time checks of a container's configuration beyond the schema's leaf forms:
// rules between attributes, names the kernel must know, and what this version of
// tsinfra refuses. Each problem names the attribute path it concerns; the engine
// turns the path into a source range. A value not known until apply is never judged.
import { isObject, isUnknown, type AttrPath, type Value, type ValueObject } from '../plan-engine/values.js';
import { isSafeName } from './names.js';
import { logicalVolumeNameProblem, volumeGroupNameProblem } from '../agent/storage/lvm-names.js';
import type { PathDiagnostic, PlanContext } from './provider.js';
import { validateCapabilities } from '../agent/runtime/security/capabilities.js';
import { isCleanAbsolutePath, isHostname, sizeBytes } from './container-values.js';

/** Linux's HOST_NAME_MAX. */
const HOSTNAME_MAX = 64;
const PAGE_SIZE = 4096;

type Out = PathDiagnostic[];

export function checkContainer(c: ValueObject, ctx: PlanContext): PathDiagnostic[] {
  const out: Out = [];
  checkResources(c['resources'], out);
  checkRestart(c['restart'], out);
  checkNetworking(c, out);
  checkMounts(c, out);
  checkDevices(c['device'], out);
  checkCapabilities(c['capabilities'], out);
  checkSecurity(c, ctx, out);
  checkProcess(c, out);
  return out;
}

function known(v: Value | undefined): v is Exclude<Value, null> {
  return v !== undefined && v !== null && !isUnknown(v);
}

function list(v: Value | undefined): ValueObject[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

function err(out: Out, code: string, summary: string, path: AttrPath, detail?: string): void {
  out.push({ code, summary, path, ...(detail ? { detail } : {}) });
}

// ---- resources -------------------------------------------------------------------

function checkResources(r: Value | undefined, out: Out): void {
  if (!isObject(r)) return;
  for (const k of ['memory', 'memory_swap', 'memory_reservation'] as const) {
    const b = sizeBytes(r[k]);
    if (b === undefined) continue;
    // The kernel keeps memory limits in pages: another value would read back rounded, as drift on every plan.
    if (b % PAGE_SIZE !== 0) {
      err(out, 'E_INVALID_SIZE', `resources.${k} must be a multiple of 4K (the page size)`, ['resources', k], `The kernel would round ${String(r[k])} down.`);
    }
  }
  const memory = sizeBytes(r['memory']);
  const swap = sizeBytes(r['memory_swap']);
  const reservation = sizeBytes(r['memory_reservation']);
  if (memory === 0) err(out, 'E_INVALID_SIZE', 'resources.memory must be more than 0', ['resources', 'memory']);
  if (known(r['memory_swap']) && r['memory'] === undefined) {
    err(
      out,
      'E_CONFLICT',
      'resources.memory_swap needs resources.memory',
      ['resources', 'memory_swap'],
      'memory_swap is memory plus swap, as docker --memory-swap: set memory too.',
    );
  }
  if (memory !== undefined && swap !== undefined && swap < memory) {
    err(
      out,
      'E_CONFLICT',
      `resources.memory_swap (${String(r['memory_swap'])}) must be at least resources.memory (${String(r['memory'])})`,
      ['resources', 'memory_swap'],
      'memory_swap counts memory plus swap: set it equal to memory for no swap.',
    );
  }
  if (memory !== undefined && reservation !== undefined && reservation > memory) {
    err(out, 'E_CONFLICT', `resources.memory_reservation (${String(r['memory_reservation'])}) must not exceed resources.memory (${String(r['memory'])})`, [
      'resources',
      'memory_reservation',
    ]);
  }
  for (const k of ['device_read_bps', 'device_write_bps', 'device_read_iops', 'device_write_iops'] as const) {
    const m = r[k];
    if (!isObject(m)) continue;
    for (const dev of Object.keys(m)) {
      if (!isLvId(dev) && (!dev.startsWith('/dev/') || !isCleanAbsolutePath(dev))) {
        err(out, 'E_INVALID_VALUE', `resources.${k}: ${JSON.stringify(dev)} is not a device path under /dev/ or a logical volume id (VG/LV)`, [
          'resources',
          k,
          dev,
        ]);
      }
    }
  }
}

// ---- restart ---------------------------------------------------------------------

function checkRestart(r: Value | undefined, out: Out): void {
  if (!isObject(r)) return;
  if (known(r['max_retries']) && known(r['policy']) && r['policy'] !== 'on-failure') {
    err(
      out,
      'E_CONFLICT',
      `restart.max_retries applies to policy "on-failure" only, not ${JSON.stringify(r['policy'])}`,
      ['restart', 'max_retries'],
      'Remove max_retries, or set policy = "on-failure".',
    );
  }
}

// ---- networking ------------------------------------------------------------------

function checkNetworking(c: ValueObject, out: Out): void {
  const mode = c['network_mode'];
  const networks = c['network'];
  // undefined: unknown until apply (a list given as an expression).
  const networkCount = networks === undefined || networks === null ? 0 : Array.isArray(networks) ? networks.length : undefined;
  const ports = list(c['port']);
  if (typeof mode === 'string' && mode !== 'bridge' && networkCount) {
    err(
      out,
      'E_CONFLICT',
      `network blocks need network_mode = "bridge", not ${JSON.stringify(mode)}`,
      ['network_mode'],
      mode === 'none'
        ? 'Remove network_mode (it defaults to bridge with network blocks) or the network blocks.'
        : 'Remove the network blocks, or network_mode.',
    );
  }
  if (mode === 'bridge' && networkCount === 0) {
    err(
      out,
      'E_CONFLICT',
      'network_mode = "bridge" needs at least one network block',
      ['network_mode'],
      'Add network { id = network.NAME.id }: tsinfra has no default bridge.',
    );
  }
  if (ports.length > 0) {
    const bridged = mode === undefined || mode === null ? networkCount !== 0 : mode === 'bridge' || isUnknown(mode);
    if (!bridged) {
      err(
        out,
        'E_CONFLICT',
        mode === 'host'
          ? 'port mappings do not apply with network_mode = "host": the container uses the host\'s ports directly'
          : 'port mappings need bridge networking',
        ['port'],
        mode === 'host' ? 'Remove the port blocks.' : 'Attach the container to a network with a network block.',
      );
    }
  }
  const seen = new Map<string, number>();
  ports.forEach((p, i) => {
    if (!known(p['host_port'])) return;
    const key = `${String(p['host_ip'] ?? '*')}:${String(p['host_port'])}/${String(p['protocol'] ?? 'tcp')}`;
    if (containsUnknownIn(p, ['host_ip', 'protocol'])) return;
    const first = seen.get(key);
    if (first !== undefined) err(out, 'E_DUPLICATE', `port[${i}] publishes host port ${String(p['host_port'])} again (see port[${first}])`, ['port', i]);
    else seen.set(key, i);
  });
  const ids = new Map<string, number>();
  list(networks).forEach((n, i) => {
    const id = n['id'];
    if (typeof id !== 'string') return;
    const first = ids.get(id);
    if (first !== undefined) err(out, 'E_DUPLICATE', `network[${i}] attaches network ${JSON.stringify(id)} again (see network[${first}])`, ['network', i]);
    else ids.set(id, i);
  });
}

function containsUnknownIn(o: ValueObject, keys: readonly string[]): boolean {
  return keys.some((k) => isUnknown(o[k]));
}

// ---- mounts ----------------------------------------------------------------------

function checkMounts(c: ValueObject, out: Out): void {
  const targets = new Map<string, string>();
  const claim = (target: Value | undefined, path: AttrPath, where: string): void => {
    if (typeof target !== 'string' || !isCleanAbsolutePath(target)) return;
    const t = target.replace(/\/+$/, '') || '/';
    if (t === '/') {
      err(out, 'E_INVALID_MOUNT', `${where}: cannot mount over the container's root`, path);
      return;
    }
    const first = targets.get(t);
    if (first !== undefined) err(out, 'E_DUPLICATE', `${where}: ${t} is already a mount target (${first})`, path);
    else targets.set(t, where);
  };
  list(c['mount']).forEach((m, i) => {
    const where = `mount[${i}]`;
    const type = m['type'];
    const source = m['source'];
    claim(m['target'], ['mount', i, 'target'], where);
    if (type === 'tmpfs') {
      if (known(source)) err(out, 'E_INVALID_MOUNT', `${where}: a tmpfs mount takes no source`, ['mount', i, 'source']);
      return;
    }
    if (type === 'logical_volume') {
      if (source === undefined || source === null) err(out, 'E_MISSING_ATTRIBUTE', `${where}: a logical_volume mount needs a source`, ['mount', i, 'source']);
      else if (typeof source === 'string' && !isLvId(source))
        err(
          out,
          'E_INVALID_MOUNT',
          `${where}: ${JSON.stringify(source)} is not a logical volume id`,
          ['mount', i, 'source'],
          'Use source = logical_volume.NAME.id (VG/LV).',
        );
      return;
    }
    if (source === undefined || source === null) {
      err(out, 'E_MISSING_ATTRIBUTE', `${where}: a ${String(type)} mount needs a source`, ['mount', i, 'source']);
      return;
    }
    if (typeof source !== 'string') return;
    if (type === 'bind' && !isCleanAbsolutePath(source)) {
      err(out, 'E_INVALID_MOUNT', `${where}: the source of a bind mount must be an absolute host path without "." or "..", got ${JSON.stringify(source)}`, [
        'mount',
        i,
        'source',
      ]);
    }
    if (type === 'volume' && !isSafeName(source)) {
      err(out, 'E_INVALID_MOUNT', `${where}: ${JSON.stringify(source)} is not a volume id`, ['mount', i, 'source'], 'Use source = volume.NAME.id.');
    }
  });
  list(c['tmpfs']).forEach((t, i) => claim(t['target'], ['tmpfs', i, 'target'], `tmpfs[${i}]`));
}

function checkDevices(v: Value | undefined, out: Out): void {
  const targets = new Map<string, number>();
  list(v).forEach((d, i) => {
    const source = d['source'];
    const target = d['target'];
    if (typeof source === 'string' && !source.startsWith('/dev/') && !isLvId(source)) {
      err(
        out,
        'E_INVALID_VALUE',
        `device[${i}]: the source must be a device path under /dev/ or a logical volume id (logical_volume.NAME.id), got ${JSON.stringify(source)}`,
        ['device', i, 'source'],
      );
    }
    if (typeof target !== 'string') return;
    if (!target.startsWith('/dev/'))
      err(out, 'E_INVALID_VALUE', `device[${i}]: the target must be under /dev/, got ${JSON.stringify(target)}`, ['device', i, 'target']);
    const first = targets.get(target);
    if (first !== undefined) err(out, 'E_DUPLICATE', `device[${i}]: ${target} is already a device target (device[${first}])`, ['device', i, 'target']);
    else targets.set(target, i);
  });
}

// ---- security --------------------------------------------------------------------

function checkCapabilities(v: Value | undefined, out: Out): void {
  if (!isObject(v)) return;
  // Values not known yet stand in as ALL (always valid), so that indexes stay right.
  const names = (l: Value | undefined): string[] | undefined => (Array.isArray(l) ? l.map((n) => (typeof n === 'string' ? n : 'ALL')) : undefined);
  for (const e of validateCapabilities({ add: names(v['add']), drop: names(v['drop']) })) {
    err(out, 'E_INVALID_CAPABILITY', e.message, ['capabilities', ...e.path]);
  }
}

/** How the host block's settings reach check(); see hostAllowsPrivileged. */
/** `allow_privileged = true` on the container's host block. */
function hostAllowsPrivileged(ctx: PlanContext): boolean {
  return ctx.hostSettings?.['allow_privileged'] === true;
}

function checkSecurity(c: ValueObject, ctx: PlanContext, out: Out): void {
  if (c['privileged'] === true && !hostAllowsPrivileged(ctx)) {
    const host = ctx.host.replace(/^host\./, '').replace(/\[.*$/, '') || 'NAME';
    err(
      out,
      'E_PRIVILEGED_REFUSED',
      `A privileged container gets every capability and device of ${ctx.host || 'its host'}: refused`,
      ['privileged'],
      `Set allow_privileged = true in host "${host}" to allow privileged containers there, or grant only what is needed with capabilities { add = [...] } and device blocks.`,
    );
  }
  const profile = c['seccomp_profile'];
  if (typeof profile === 'string' && profile !== 'default' && profile !== 'unconfined' && !isCleanAbsolutePath(profile)) {
    err(
      out,
      'E_INVALID_VALUE',
      `seccomp_profile must be "default", "unconfined" or the absolute path of a profile on the host, got ${JSON.stringify(profile)}`,
      ['seccomp_profile'],
    );
  }
  checkRootfsQuota(c, ctx, out);
  if (c['healthcheck'] !== undefined && c['healthcheck'] !== null) {
    out.push({
      severity: 'warning',
      code: 'W_HEALTHCHECK_NOT_RUN',
      summary: 'healthcheck is recorded but not run by this version of tsinfra yet',
      detail: 'The container starts and restarts by its restart policy only; no health status is reported.',
      path: ['healthcheck'],
    });
  }
}

// ---- storage ---------------------------------------------------------------------

/** A logical volume or thin pool id: `VG/NAME`. */
function isLvId(s: string): boolean {
  const [vg, lv, ...rest] = s.split('/');
  return rest.length === 0 && !!vg && !!lv && volumeGroupNameProblem(vg) === undefined && logicalVolumeNameProblem(lv) === undefined;
}

/** The smallest rootfs volume: ext4's own structures and a few files must fit. */
const MIN_ROOTFS_BYTES = 16 * 1024 * 1024;

function checkRootfsQuota(c: ValueObject, ctx: PlanContext, out: Out): void {
  const size = c['rootfs_size'];
  const pool = c['rootfs_thin_pool'];
  if (size === undefined || size === null) {
    if (known(pool))
      err(out, 'E_INVALID_VALUE', 'rootfs_thin_pool is used only with rootfs_size', ['rootfs_thin_pool'], 'Set rootfs_size, or remove rootfs_thin_pool.');
    return;
  }
  const bytes = known(size) ? sizeBytes(size) : undefined;
  if (bytes !== undefined && bytes < MIN_ROOTFS_BYTES)
    err(out, 'E_INVALID_VALUE', `rootfs_size must be at least 16M (its filesystem needs room), got ${JSON.stringify(size)}`, ['rootfs_size']);
  if (typeof pool === 'string' && !isLvId(pool)) {
    err(
      out,
      'E_INVALID_VALUE',
      `rootfs_thin_pool ${JSON.stringify(pool)} is not a thin pool id`,
      ['rootfs_thin_pool'],
      'Use rootfs_thin_pool = thin_pool.NAME.id (VG/POOL).',
    );
  }
  const hostPool = ctx.hostSettings?.['rootfs_thin_pool'];
  if (pool === undefined || pool === null) {
    if (hostPool !== undefined && hostPool !== null) return;
    const host = ctx.host.replace(/^host\./, '').replace(/\[.*$/, '') || 'NAME';
    err(
      out,
      'E_NO_THIN_POOL',
      `rootfs_size needs a thin pool for the container's writable layer, and ${ctx.host || 'its host'} has none configured`,
      ['rootfs_size'],
      `Set rootfs_thin_pool = thin_pool.NAME.id in this container, or rootfs_thin_pool = "VG/POOL" in host "${host}".`,
    );
  }
}

// ---- process ---------------------------------------------------------------------

function checkProcess(c: ValueObject, out: Out): void {
  const env = c['env'];
  if (isObject(env)) {
    for (const k of Object.keys(env)) {
      if (k === '' || k.includes('=') || k.includes('\0'))
        err(out, 'E_INVALID_VALUE', `env: ${JSON.stringify(k)} is not a variable name (empty, or has "=")`, ['env', k]);
    }
  }
  const extra = c['extra_hosts'];
  if (isObject(extra)) {
    for (const k of Object.keys(extra)) {
      if (!isHostname(k))
        err(out, 'E_INVALID_VALUE', `extra_hosts: ${JSON.stringify(k)} is not a host name (letters, digits, "-" and ".")`, ['extra_hosts', k]);
    }
  }
  const hostname = c['hostname'];
  if (typeof hostname === 'string' && hostname.length > HOSTNAME_MAX) {
    err(out, 'E_INVALID_VALUE', `hostname is ${hostname.length} characters long; Linux allows ${HOSTNAME_MAX}`, ['hostname']);
  }
}
