// Installing the host tools tsinfra's resources need (lvm2, thin-provisioning-tools),
// only when the host block allows it (`install_packages = true`): the engine asks before
// it changes storage on the host. A tool already there costs one PATH lookup; a missing
// one is installed with the host's package manager, non-interactively, and looked for
// again: a manager that "succeeds" without providing the tool is a failure.
import { AgentFailure } from '../rpc/failure.js';
import { findProgram, type CommandRunner } from './command.js';

/** What tsinfra can install, by the program that shows it is there. */
export const HOST_TOOLS = {
  lvm2: { program: 'lvm', names: { apt: 'lvm2', dnf: 'lvm2', yum: 'lvm2', zypper: 'lvm2', apk: 'lvm2' } },
  'thin-provisioning-tools': {
    program: 'thin_check',
    names: {
      apt: 'thin-provisioning-tools',
      dnf: 'device-mapper-persistent-data',
      yum: 'device-mapper-persistent-data',
      zypper: 'thin-provisioning-tools',
      apk: 'thin-provisioning-tools',
    },
  },
} as const;
export type HostTool = keyof typeof HOST_TOOLS;
type Manager = keyof (typeof HOST_TOOLS)['lvm2']['names'];

/** Package managers in the order they are looked for, with their install command. */
const MANAGERS: readonly { manager: Manager; program: string; install: (packages: string[]) => string[]; refresh?: string[] }[] = [
  {
    manager: 'apt',
    program: 'apt-get',
    install: (p) => ['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...p],
    refresh: ['apt-get', 'update', '-q'],
  },
  { manager: 'dnf', program: 'dnf', install: (p) => ['dnf', 'install', '-y', '-q', ...p] },
  { manager: 'yum', program: 'yum', install: (p) => ['yum', 'install', '-y', '-q', ...p] },
  { manager: 'zypper', program: 'zypper', install: (p) => ['zypper', '--non-interactive', 'install', ...p] },
  { manager: 'apk', program: 'apk', install: (p) => ['apk', 'add', '--no-progress', ...p] },
];

/** A package installation may download and unpack for minutes. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface InstallResult {
  /** Packages installed now (empty when every tool was there). */
  readonly installed: string[];
  /** The package manager used, or null when none was needed. */
  readonly manager: string | null;
}

export class HostPackages {
  constructor(
    private readonly runner: CommandRunner,
    private readonly find: (program: string) => string | undefined = findProgram,
  ) {}

  /** The tools of `tools` that are not installed. */
  missing(tools: readonly HostTool[]): HostTool[] {
    return tools.filter((t) => this.find(HOST_TOOLS[t].program) === undefined);
  }

  /** Installs the missing ones of `tools`; fails, naming what is still missing, when it cannot. */
  async ensure(tools: readonly HostTool[]): Promise<InstallResult> {
    const missing = this.missing(tools);
    if (!missing.length) return { installed: [], manager: null };
    const found = MANAGERS.find((m) => this.find(m.program) !== undefined);
    if (!found) {
      throw new AgentFailure('E_NO_PACKAGE_MANAGER', `cannot install ${missing.join(', ')}: no package manager found (apt-get, dnf, yum, zypper or apk)`);
    }
    const packages = missing.map((t) => HOST_TOOLS[t].names[found.manager]);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    const options = { mutates: true, timeoutMs: INSTALL_TIMEOUT_MS, env };
    let out = await this.runner.tryRun(found.install(packages), options);
    // A host whose package lists were never fetched (or are stale) knows no such package yet.
    if (out.code !== 0 && found.refresh) {
      await this.runner.tryRun(found.refresh, options);
      out = await this.runner.tryRun(found.install(packages), options);
    }
    const still = this.missing(missing);
    if (out.code !== 0 || still.length) {
      const why = out.stderr.trim().split('\n').slice(-3).join(' / ') || `exit ${out.code}`;
      throw new AgentFailure(
        'E_INSTALL_FAILED',
        `installing ${packages.join(' ')} with ${found.program} failed${still.length ? ` (${still.join(', ')} still missing)` : ''}: ${why}`,
      );
    }
    return { installed: packages, manager: found.program };
  }
}
