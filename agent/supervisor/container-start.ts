// Starting a container (the `creating -> created -> running` part of its lifecycle):
// resolve what the image leaves open, prepare its files, hand a warm init the
// configuration, set up its cgroup and network while the init mounts, then let it
// exec. Any failure undoes what was done and reports the stage and the reason.
import { chmodSync, existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { mountArguments, volumeBackingOf } from '../storage/lv-mount.js';
import { AgentFailure } from '../rpc/failure.js';
import { DEFAULT_DEVICE_RULES, type DeviceRule } from '../runtime/cgroups/cgroup-manager.js';
import {
  DEFAULT_DEVICES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  type DeviceNode,
  type InitConfig,
  type MountSpec,
  type ProcessSpec,
} from '../runtime/init/init-protocol.js';
import { mkfifo } from '../runtime/libc.js';
import { allCapabilitiesMask, resolveCapabilities } from '../runtime/security/capabilities.js';
import { buildSeccompProgram, loadSeccompProfile } from '../runtime/security/seccomp-profile.js';
import type { InitHandle } from './init-launcher.js';
import type { ContainerPaths } from './container-files.js';
import type { ContainerSpec } from './protocol.js';
import type { Attachment, ImageLayers, SupervisorDeps } from './runtime-deps.js';

export interface StartedContainer {
  readonly init: InitHandle;
  readonly attachments: Attachment[];
  readonly process: ProcessSpec;
}

/** The process the container runs: the spec's choices over the image's defaults. */
export function resolveProcess(spec: ContainerSpec, image: ImageLayers): ProcessSpec {
  const args = spec.command ?? [...image.config.entrypoint, ...image.config.cmd];
  if (args.length === 0) {
    throw new AgentFailure('E_CONTAINER_CONFIG', `${spec.name}: no command: the image has no entrypoint or cmd, so set "command"`);
  }
  const env = new Map<string, string>();
  for (const e of image.config.env) {
    const eq = e.indexOf('=');
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(spec.env)) env.set(k, v);
  if (!env.has('HOSTNAME')) env.set('HOSTNAME', spec.hostname);
  const caps = spec.privileged ? { mask: allCapabilitiesMask() } : resolveCapabilities(spec.capabilities);
  if (!('mask' in caps)) {
    throw new AgentFailure('E_CONTAINER_CONFIG', `${spec.name}: ${caps.errors.map((e) => e.message).join('; ')}`);
  }
  const profile = spec.privileged ? null : loadSeccompProfile(spec.seccompProfile);
  return {
    args,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: spec.workingDir ?? (image.config.workingDir || '/'),
    user: spec.user ?? image.config.user,
    noNewPrivileges: spec.noNewPrivileges,
    capabilities: caps.mask.toString(16),
    seccomp: profile ? buildSeccompProgram(profile, caps.mask, arch()).toString('base64') : null,
  };
}

function deviceNode(source: string, target: string, name: string): DeviceNode {
  let st;
  try {
    st = statSync(source);
  } catch {
    throw new AgentFailure('E_DEVICE_MISSING', `${name}: device ${source} does not exist on this host`);
  }
  if (!st.isBlockDevice() && !st.isCharacterDevice()) throw new AgentFailure('E_DEVICE_MISSING', `${name}: ${source} is not a device`);
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
  return { path: target, type: st.isBlockDevice() ? 'b' : 'c', major, minor, mode: 0o660 };
}

function resolvConf(): string {
  let text: string;
  try {
    text = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
  // A resolver on the host's loopback is not reachable from the container's network.
  return text
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l))
    .join('\n');
}

function mountsFor(spec: ContainerSpec, paths: ContainerPaths, deps: SupervisorDeps): MountSpec[] {
  const out: MountSpec[] = [
    { kind: 'bind', source: paths.hosts, target: '/etc/hosts', readOnly: false, file: true },
    { kind: 'bind', source: paths.hostname, target: '/etc/hostname', readOnly: false, file: true },
    { kind: 'bind', source: paths.resolvConf, target: '/etc/resolv.conf', readOnly: false, file: true },
  ];
  // Sources are resolved here: the init reaches them through the old root, where an
  // absolute symlink (/etc/localtime -> /usr/share/zoneinfo/...) would point into the container.
  if (spec.localtime && existsSync('/etc/localtime'))
    out.push({ kind: 'bind', source: realpathSync('/etc/localtime'), target: '/etc/localtime', readOnly: true, file: true });
  for (const m of spec.mounts) {
    if (m.type === 'tmpfs') {
      out.push({ kind: 'tmpfs', target: m.target, sizeBytes: m.sizeBytes });
      continue;
    }
    if (m.type === 'logical_volume') {
      out.push(volumeMount(m.source, m.fsType ?? 'ext4', m.options ?? [], m.target, m.readOnly, spec.name));
      continue;
    }
    const source = m.type === 'volume' ? deps.volumePath(m.source) : m.source;
    const backing = m.type === 'volume' ? volumeBackingOf(source) : undefined;
    if (backing) {
      out.push(volumeMount(backing.device, backing.fs_type, [], m.target, m.readOnly, spec.name));
      continue;
    }
    if (!existsSync(source)) throw new AgentFailure('E_MOUNT_SOURCE', `${spec.name}: mount source ${source} does not exist on this host`);
    out.push({ kind: 'bind', source: realpathSync(source), target: m.target, readOnly: m.readOnly });
  }
  return out;
}

/**
 * A logical volume's filesystem for the container, mounted by its init. The host keeps no
 * mount of it: a waiting init would hold a copy of that, and the volume would stay open
 * after its containers are gone. A grow mounts it on the host for the moment it takes.
 */
function volumeMount(device: string, fsType: string, options: readonly string[], target: string, readOnly: boolean, name: string): MountSpec {
  if (!existsSync(device)) throw new AgentFailure('E_MOUNT_SOURCE', `${name}: logical volume ${device} does not exist on this host (or is not active)`);
  const { flags, data } = mountArguments(options);
  return { kind: 'device', source: realpathSync(device), target, fsType, flags, data, readOnly };
}

/** The writable layer: on the container's thin LV with rootfs_size, else in its state directory. */
function layerOf(spec: ContainerSpec, paths: ContainerPaths): Pick<InitConfig['rootfs'], 'upper' | 'work' | 'layer'> {
  const v = spec.rootfsVolume;
  if (!v) return { upper: paths.upper, work: paths.work, layer: null };
  if (!existsSync(v.device))
    throw new AgentFailure('E_MOUNT_SOURCE', `${spec.name}: its rootfs volume ${v.device} does not exist on this host (or is not active)`);
  return {
    upper: join(paths.layer, 'upper'),
    work: join(paths.layer, 'work'),
    layer: { device: realpathSync(v.device), fsType: v.fsType, dir: paths.layer },
  };
}

export interface StartInput {
  readonly spec: ContainerSpec;
  readonly paths: ContainerPaths;
  readonly deps: SupervisorDeps;
  /** The /etc/hosts content for this container (peers are known to the supervisor). */
  readonly hostsFile: (attachments: readonly Attachment[]) => string;
  /** Host pid of a running container by name or id (`network_mode = "container:NAME"`). */
  readonly containerPid: (nameOrId: string) => number | undefined;
}

/** The network namespace to join for `network_mode`, or null for a new one. */
function netnsFor(spec: ContainerSpec, containerPid: StartInput['containerPid']): string | null {
  const mode = spec.networkMode;
  if (mode === 'host') return `/proc/${process.pid}/ns/net`;
  if (!mode.startsWith('container:')) return null;
  const other = mode.slice('container:'.length);
  const pid = containerPid(other);
  if (pid === undefined)
    throw new AgentFailure('E_CONTAINER_CONFIG', `${spec.name}: network_mode ${mode}: no running container ${JSON.stringify(other)} on this host`);
  return `/proc/${pid}/ns/net`;
}

export async function startContainer({ spec, paths, deps, hostsFile, containerPid }: StartInput): Promise<StartedContainer> {
  const image = await deps.images.get(spec.imageId);
  if (!image) throw new AgentFailure('E_IMAGE_MISSING', `${spec.name}: image ${spec.imageId} is not on this host (apply its image resource first)`);
  const process = resolveProcess(spec, image);
  const devices = spec.devices.map((d) => deviceNode(d.source, d.target, spec.name));
  paths.makeDirs();
  const mounts = mountsFor(spec, paths, deps);
  writeReadable(paths.hostname, spec.hostname + '\n');
  writeReadable(paths.resolvConf, resolvConf());
  writeReadable(paths.hosts, hostsFile([]));
  ensureFifos(paths);
  const config: InitConfig = {
    id: spec.id,
    rootfs: { lower: image.layers, ...layerOf(spec, paths), target: paths.rootfs, readOnly: spec.readOnlyRootfs },
    hostname: spec.hostname,
    netns: netnsFor(spec, containerPid),
    stdio: { stdout: paths.fifo('stdout'), stderr: paths.fifo('stderr') },
    mounts,
    devices: [...DEFAULT_DEVICES, ...devices],
    maskedPaths: spec.privileged ? [] : DEFAULT_MASKED_PATHS,
    readonlyPaths: spec.privileged ? [] : DEFAULT_READONLY_PATHS,
    process,
  };
  const deviceRules: DeviceRule[] = spec.privileged
    ? [{ type: 'a', major: '*', minor: '*', access: 'rwm' }]
    : [...DEFAULT_DEVICE_RULES, ...devices.map((d) => ({ type: d.type, major: d.major, minor: d.minor, access: permissionsOf(spec, d.path) }))];

  const init = await deps.inits.take();
  let attachments: Attachment[] = [];
  try {
    init.send({ type: 'config', config });
    const setUp = async () => {
      await deps.cgroups.create(spec.id);
      await deps.cgroups.set(spec.id, spec.limits);
      await deps.cgroups.setDevices(spec.id, deviceRules);
      await deps.cgroups.addProcess(spec.id, init.hostPid);
      if (spec.networkMode === 'bridge' && spec.networks.length > 0) {
        attachments = await deps.networks.attach(spec.id, init.hostPid, spec.networks);
      } else if (spec.networkMode === 'none') {
        await deps.networks.loopbackUp(init.hostPid);
      }
    };
    // Both run at once; the init's answer is read even when the setup failed, so its error (the
    // more telling one) wins. An init that mounts block devices does so before it joins the
    // container's cgroup, whose device rules would refuse it the volumes' devices.
    const mountsDevices = config.rootfs.layer !== null || config.mounts.some((m) => m.kind === 'device');
    const [setupResult, mounted] = mountsDevices ? await initFirst(init.next(), setUp) : await Promise.allSettled([setUp(), init.next()]);
    if (mounted.status === 'rejected') throw mounted.reason;
    failOn(mounted.value, spec.name);
    if (setupResult.status === 'rejected') throw setupResult.reason;
    writeFileSync(paths.hosts, hostsFile(attachments));
    if (spec.ports.length > 0) {
      // The host forwards published ports over a veth; it cannot reach its own macvlan children.
      const bridged = attachments.find((a) => a.hostVeth !== null);
      if (!bridged) {
        throw new AgentFailure(
          'E_CONTAINER_CONFIG',
          `${spec.name}: published ports need a bridge or overlay network; on a macvlan network the container is reachable at its own address${attachments[0] ? ` (${attachments[0].ip})` : ''}`,
        );
      }
      await deps.networks.publish(spec.id, bridged.ip, spec.ports);
    }
    init.send({ type: 'go' });
    const execd = await init.next();
    if (execd.type !== 'eof') failOn(execd, spec.name);
    // EOF can also mean the init died before exec: it then has exited already or is exiting.
    init.closeChannel();
    return { init, attachments, process };
  } catch (e) {
    init.closeChannel();
    init.kill();
    await init.exited;
    await undoStart(spec.id, deps);
    throw e;
  }
}

/** The init's answer first, then the setup (not started when the init failed). */
async function initFirst<T>(answer: Promise<T>, setUp: () => Promise<void>): Promise<[PromiseSettledResult<void>, PromiseSettledResult<T>]> {
  const mounted = await Promise.allSettled([answer]);
  if (mounted[0].status === 'rejected') return [{ status: 'fulfilled', value: undefined }, mounted[0]];
  const [setupResult] = await Promise.allSettled([setUp()]);
  return [setupResult, mounted[0]];
}

/** A file bind-mounted into the container, readable by its users whatever our umask. */
function writeReadable(path: string, content: string): void {
  writeFileSync(path, content);
  chmodSync(path, 0o644);
}

/** The container's stdout and stderr FIFOs (kept across restarts). */
export function ensureFifos(paths: ContainerPaths): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    if (!existsSync(paths.fifo(stream))) mkfifo(paths.fifo(stream), 0o600);
  }
}

function failOn(e: { type: string; stage?: string; message?: string }, name: string): void {
  if (e.type === 'error') throw new AgentFailure('E_CONTAINER_START', `${name}: cannot start: ${e.stage}: ${e.message}`, { stage: e.stage });
  if (e.type === 'eof') throw new AgentFailure('E_CONTAINER_START', `${name}: cannot start: the container init exited unexpectedly`);
}

function permissionsOf(spec: ContainerSpec, target: string): string {
  return spec.devices.find((d) => d.target === target)?.permissions ?? 'rwm';
}

/** Removes what a start made (after a failure or when the container has exited). */
export async function undoStart(id: string, deps: SupervisorDeps): Promise<void> {
  await deps.networks.unpublish(id).catch((e: Error) => deps.log.warn(`container ${id}: ${e.message}`));
  await deps.networks.detach(id).catch((e: Error) => deps.log.warn(`container ${id}: ${e.message}`));
  if (await deps.cgroups.exists(id)) {
    await deps.cgroups.killAll(id).catch(() => undefined);
    for (let i = 0; i < 50 && (await deps.cgroups.pids(id)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await deps.cgroups.destroy(id).catch((e: Error) => deps.log.warn(`container ${id}: ${e.message}`));
  }
}
