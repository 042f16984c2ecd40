// A lab for container tests: the CLI lab (throw-away network namespace, agent
// directories) plus a cgroup parent of its own and the supervisor the runs start. close()
// kills what is left by pid (the supervisor from its pid file, container processes from
// the lab's cgroups), removes the cgroups, then the namespace and the directories.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openLab, type Lab } from './lab-workspace.js';

const run = promisify(execFile);
const BUILD_IMAGE = fileURLToPath(new URL('../../../scripts/build-test-image.sh', import.meta.url));
const CGROUP_ROOT = '/sys/fs/cgroup';

export interface ContainerLab extends Lab {
  /** A scratch directory for images and files, removed on close. */
  readonly scratch: string;
  readonly cgroupParent: string;
  /** SIGKILL to the supervisor (pid from its pid file). */
  killSupervisor(): void;
  /** Container cgroups left under the lab's parent (any controller). */
  containerCgroups(): string[];
  /** Container directories left in the agent's state and run directories. */
  containerDirs(): string[];
}

export async function buildTestImage(dir: string, format: 'oci' | 'docker' | 'rootfs' = 'oci'): Promise<string> {
  const out = join(dir, format === 'rootfs' ? 'busybox-rootfs' : `busybox-${format}.tar`);
  if (!existsSync(out)) await run('bash', [BUILD_IMAGE, out, '--format', format]);
  return out;
}

function cgroupDirs(parent: string): string[] {
  const out: string[] = [];
  let controllers: string[];
  try {
    // cgroup v2: one hierarchy at the root; v1: one per controller.
    controllers = existsSync(join(CGROUP_ROOT, 'cgroup.controllers')) ? [''] : readdirSync(CGROUP_ROOT);
  } catch {
    return out;
  }
  for (const c of controllers) {
    const dir = join(CGROUP_ROOT, c, parent);
    if (!existsSync(dir)) continue;
    for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) out.push(join(dir, child.name));
    out.push(dir);
  }
  return out;
}

export async function containerLab(files: (netns: string) => Record<string, string> = () => ({})): Promise<ContainerLab> {
  const cgroupParent = `tsit-${randomBytes(4).toString('hex')}`;
  const scratch = await mkdtemp(join(tmpdir(), 'tsit-scratch-'));
  const lab = await openLab(files);
  const env: NodeJS.ProcessEnv = { ...lab.env, TSINFRA_CGROUP_PARENT: cgroupParent, TSINFRA_SUPERVISOR_IDLE_MS: '3000' };
  const runDir = env['TSINFRA_AGENT_RUN_DIR']!;
  const stateDir = env['TSINFRA_AGENT_STATE_DIR']!;
  const supervisorPid = (): number | undefined => {
    try {
      return Number(readFileSync(join(runDir, 'supervisor.pid'), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  const killSupervisor = () => {
    const pid = supervisorPid();
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return {
    ...lab,
    env,
    scratch,
    cgroupParent,
    killSupervisor,
    containerCgroups: () => cgroupDirs(cgroupParent).filter((d) => !d.endsWith(`/${cgroupParent}`)),
    containerDirs: () =>
      [join(stateDir, 'containers'), join(runDir, 'containers')].flatMap((d) => (existsSync(d) ? readdirSync(d).map((n) => join(d, n)) : [])),
    close: async () => {
      killSupervisor();
      // Every process left in the lab's cgroups was started by these tests.
      for (let round = 0; round < 50; round++) {
        const pids = cgroupDirs(cgroupParent).flatMap((d) => {
          try {
            return readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
          } catch {
            return [];
          }
        });
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const d of cgroupDirs(cgroupParent)) {
        try {
          rmdirSync(d);
        } catch {
          // a controller that shares a hierarchy with another was removed with it
        }
      }
      await lab.close();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

export interface StateInstance {
  address: string;
  attributes: Record<string, unknown>;
}

/** The resource instances of DIR's state file. */
export function stateOf(dir: string): StateInstance[] {
  return (JSON.parse(readFileSync(join(dir, '.tsinfra', 'state.json'), 'utf8')) as { resources: StateInstance[] }).resources;
}

/** The recorded attributes of one instance; fails the test when it is not in the state. */
export function attrs(dir: string, address: string): Record<string, unknown> {
  const r = stateOf(dir).find((i) => i.address === address);
  assert.ok(r, `${address} is in the state`);
  return r.attributes;
}

export async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
