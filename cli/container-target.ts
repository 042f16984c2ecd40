// What `logs`, `exec` and `stats` operate on: a container instance of the state
// (`container.web`, `container.web[0]`, `container.web["a"]`), its id and its host, and
// a session with that host's agent, opened the way plan and apply open them (host
// settings from the configuration's host blocks). The state is read without the lock:
// these commands change nothing, and a `logs --follow` must not hold up an apply.
//
//   open:    workspace of DIR (configuration, variables, backend) -> state
//   resolve: ADDR -> instance in state -> { address, host, id }, or a diagnostic
//   connect: host blocks evaluated (variables and locals included) -> sessions per host
import { hasErrors, type Diagnostic } from '../plan-engine/diagnostics.js';
import { hostInstances } from '../plan-engine/plan/hosts.js';
import type { EvalContext } from '../plan-engine/plan/eval-context.js';
import { makePlan } from '../plan-engine/plan/planner.js';
import type { VarArg } from '../plan-engine/variables.js';
import { openWorkspace, type Workspace } from '../plan-engine/workspace.js';
import type { State } from '../state/model.js';
import { HostSessionPool } from '../transport/session-pool.js';
import { LocalTransport } from '../transport/local.js';
import { SshTransport } from '../transport/ssh-transport.js';
import type { AgentSession } from '../transport/types.js';
import { noMatch, parseAddressArg, selectInstances } from './state-selection.js';

export interface ContainerTarget {
  /** `container.web[0]` */
  readonly address: string;
  /** `host.local` */
  readonly host: string;
  /** The container's id on its host. */
  readonly id: string;
}

export interface ConnectOptions {
  /**
   * No inactivity timeout on calls: `logs --follow` and `exec` may rightly stay silent
   * for hours. They end with the container, the command, or Ctrl-C.
   */
  readonly unlimitedCalls?: boolean;
}

function isDiagnostic(v: object): v is Diagnostic {
  return 'severity' in v;
}

/** setTimeout's largest delay (about 24.8 days). */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

function diagnostic(code: string, summary: string, detail?: string, address?: string): Diagnostic {
  return { severity: 'error', code, summary, ...(detail ? { detail } : {}), ...(address ? { address } : {}) };
}

/** The workspace of DIR and its state; diagnostics when the configuration does not load. */
export class ContainerWorkspace {
  private constructor(
    readonly workspace: Workspace,
    readonly state: State | null,
  ) {}

  /** The workspace, or the configuration's errors (with the sources to show them in). */
  static async open(dir: string, vars: readonly VarArg[]): Promise<ContainerWorkspace | { diagnostics: Diagnostic[]; sources: ReadonlyMap<string, string> }> {
    const ws = await openWorkspace(dir, vars);
    if (hasErrors(ws.diagnostics) || !ws.backend || !ws.config) return { diagnostics: [...ws.diagnostics], sources: ws.sources };
    return new ContainerWorkspace(ws, await ws.backend.readState());
  }

  get sources(): ReadonlyMap<string, string> {
    return this.workspace.sources;
  }

  /** One container instance by address. */
  resolve(arg: string): ContainerTarget | Diagnostic {
    return resolveContainer(this.state, arg, (key) => this.workspace.config?.resources.has(key) ?? false, this.workspace.dir);
  }

  /** Every container the state holds that has an id, in address order. */
  all(): ContainerTarget[] {
    return (this.state?.resources ?? []).filter((r) => r.type === 'container').flatMap((r) => (typeof r.attributes['id'] === 'string' ? [targetOf(r)] : []));
  }

  /** Evaluates the host blocks (with their variables) and returns a pool of sessions to them. */
  async connect(options: ConnectOptions = {}): Promise<ContainerSessions | Diagnostic[]> {
    const config = this.workspace.config!;
    // A refresh-only plan without refresh evaluates variables, locals and hosts, and contacts no host.
    const r = await makePlan(config, this.state, { mode: 'refresh-only', refresh: false, targets: [], replace: [], inputs: this.workspace.inputs }, undefined);
    if (hasErrors(r.diagnostics) || !r.context) return [...r.diagnostics];
    const calls = options.unlimitedCalls ? { timeoutMs: NO_TIMEOUT_MS } : {};
    return new ContainerSessions(r.context, new HostSessionPool(1, { local: new LocalTransport(calls), ssh: new SshTransport(calls) }));
  }
}

/** Sessions with the hosts of the containers, opened on first use. */
export class ContainerSessions {
  constructor(
    private readonly context: EvalContext,
    private readonly pool: HostSessionPool,
  ) {}

  /** Whether the configuration declares `host` (a state may still name a host since removed). */
  knows(host: string): boolean {
    return hostInstances(this.context).has(host);
  }

  session(host: string): Promise<AgentSession> {
    return this.pool.session(host, this.context);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function targetOf(r: State['resources'][number]): ContainerTarget {
  return { address: r.address, host: r.host, id: r.attributes['id'] as string };
}

/**
 * ADDR -> the container instance, or why not: not an address, not a container, no
 * state, no such instance (with the nearest address of the state), several instances,
 * declared but not created yet.
 */
export function resolveContainer(state: State | null, arg: string, declared: (resourceKey: string) => boolean, dir = '.'): ContainerTarget | Diagnostic {
  const addr = parseAddressArg(arg);
  if (isDiagnostic(addr)) return addr;
  const found = state ? selectInstances(state, addr) : [];
  const isDeclared = declared(addr.resource.key);
  if (addr.type !== 'container' && (found.length > 0 || isDeclared)) {
    return diagnostic(
      'E_NOT_A_CONTAINER',
      `${arg} is not a container`,
      `logs, exec and stats work on container resources; ${arg} is a ${addr.type}.`,
      addr.key,
    );
  }
  const notCreated = () =>
    diagnostic(
      'E_CONTAINER_NOT_CREATED',
      `${arg} has not been created yet`,
      'The configuration declares it, but the state has no such container: run tsinfra apply first.',
      addr.key,
    );
  if (found.length === 0) {
    const siblings = (state?.resources ?? []).filter((r) => r.type === addr.type && r.name === addr.name);
    if (siblings.length > 0) {
      return diagnostic(
        'E_STATE_NO_MATCH',
        `No instance ${arg} in the state`,
        `Instances of ${addr.resource.key}: ${siblings.map((r) => r.address).join(', ')}.`,
        addr.key,
      );
    }
    if (isDeclared) return notCreated();
    if (!state)
      return diagnostic(
        'E_NO_STATE',
        `No state in ${dir}: nothing has been applied there yet`,
        'Run tsinfra apply first, or pass --dir with the configuration directory.',
      );
    return noMatch(state, arg);
  }
  const one = found.find((r) => r.address === addr.key);
  if (!one) {
    return diagnostic(
      'E_STATE_AMBIGUOUS_ADDRESS',
      `${arg} has ${found.length} instance${found.length === 1 ? '' : 's'} in the state; name one`,
      `Instances: ${found.map((r) => r.address).join(', ')}.`,
      addr.key,
    );
  }
  if (typeof one.attributes['id'] !== 'string' || one.attributes['id'] === '') return notCreated();
  return targetOf(one);
}

export interface OpenedContainers {
  readonly sources: ReadonlyMap<string, string>;
  readonly targets: readonly ContainerTarget[];
  /** Present when there were no errors; the caller closes it. */
  readonly sessions?: ContainerSessions;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * What a command needs in one call: the containers ADDRs name (every container of the
 * state when `addresses` is empty) and sessions with their hosts. Every address is
 * resolved, so that all mistakes are reported at once.
 */
export async function openContainers(
  dir: string,
  vars: readonly VarArg[],
  addresses: readonly string[],
  options: ConnectOptions = {},
): Promise<OpenedContainers> {
  const cw = await ContainerWorkspace.open(dir, vars);
  if (!(cw instanceof ContainerWorkspace)) return { sources: cw.sources, targets: [], diagnostics: cw.diagnostics };
  const resolved = addresses.length ? addresses.map((a) => cw.resolve(a)) : cw.all();
  const problems = resolved.filter(isDiagnostic);
  const targets = resolved.filter((r): r is ContainerTarget => !isDiagnostic(r));
  if (problems.length) return { sources: cw.sources, targets, diagnostics: problems };
  if (targets.length === 0) return { sources: cw.sources, targets, diagnostics: [] };
  const sessions = await cw.connect(options);
  if (Array.isArray(sessions)) return { sources: cw.sources, targets, diagnostics: sessions };
  const unknownHosts = [...new Set(targets.map((t) => t.host))].filter((h) => !sessions.knows(h));
  if (unknownHosts.length) {
    await sessions.close();
    return {
      sources: cw.sources,
      targets,
      diagnostics: unknownHosts.map((h) =>
        diagnostic(
          'E_UNKNOWN_HOST',
          `${h} is not declared in the configuration, but the state has containers on it`,
          `Its host block says how to reach it: keep it until the containers on it are destroyed. Containers there: ${targets
            .filter((t) => t.host === h)
            .map((t) => t.address)
            .join(', ')}.`,
        ),
      ),
    };
  }
  return { sources: cw.sources, targets, sessions, diagnostics: [] };
}
