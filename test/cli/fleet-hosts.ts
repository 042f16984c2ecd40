// Cleaning up after tests on fake SSH hosts (../shared/testhosts), which share this
// machine's process table and cgroup tree: what each host's supervisor started is found
// by the container ids recorded in that host's own /var/lib/tsinfra, and ended by pid.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestHost, TestHosts } from '../transport/ssh/test-hosts.js';
import { tsinfra } from './cli-harness.js';

export /** Kills what the hosts' supervisors started (by the container ids each host recorded) and the supervisors. */
function cleanUpHost(h: TestHost): void {
  const pidFile = join(h.hostDir, 'run/tsinfra/supervisor.pid');
  if (existsSync(pidFile)) {
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // gone
    }
  }
  const containers = join(h.hostDir, 'var/lib/tsinfra/containers');
  const ids = existsSync(containers) ? readdirSync(containers) : [];
  for (const id of ids) {
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', controller, 'tsinfra', id);
      if (!existsSync(dir)) continue;
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const id of ids) {
    for (const controller of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', controller, 'tsinfra', id);
      for (let i = 0; i < 20 && existsSync(dir); i++) {
        try {
          rmdirSync(dir);
        } catch {
          execFileSync('sleep', ['0.05']);
        }
      }
    }
  }
}

/** The hosts' agents share this machine's cgroup tree: their parent goes once empty. */
export function removeSharedCgroupParent(): void {
  for (const controller of readdirSync('/sys/fs/cgroup')) {
    try {
      rmdirSync(join('/sys/fs/cgroup', controller, 'tsinfra'));
    } catch {
      // absent, not a directory, or in use by containers of someone else: leave it
    }
  }
}

/** A suite's after(): destroys what the configuration in `dir` made, cleans up each host, and takes the hosts down. */
export async function tearDownFleet(hosts: TestHosts | undefined, cfg: { dir: string; remove: () => Promise<void> } | undefined): Promise<void> {
  if (cfg && hosts) await tsinfra(['destroy', '--auto-approve', cfg.dir]).catch(() => undefined);
  for (const h of hosts?.hosts ?? []) cleanUpHost(h);
  removeSharedCgroupParent();
  await hosts?.down();
  await cfg?.remove();
}
