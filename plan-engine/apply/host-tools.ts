// Before the first change to a host's storage, on hosts whose block sets
// `install_packages = true`: the agent installs what the change needs and the host lacks
// (lvm2; thin-provisioning-tools for pools and thin volumes). Types say what they use
// through their storage hooks; the engine knows none of them. Once per host and tool set.
import type { HostTool } from '../../agent/system/packages.js';
import type { ResourceProvider } from '../../providers/provider.js';
import type { AgentSession } from '../../transport/types.js';
import type { ValueObject } from '../values.js';

export class HostTools {
  private readonly done = new Map<string, Promise<unknown>>();

  /** Installs the tools `planned` of `provider` needs on the session's host, if its settings allow. */
  async ensure(
    provider: ResourceProvider,
    planned: ValueObject | null,
    settings: Readonly<Record<string, unknown>> | undefined,
    session: AgentSession,
  ): Promise<void> {
    if (!planned || settings?.['install_packages'] !== true || !provider.storage) return;
    const object = provider.storage.describe(planned, undefined);
    if (!object) return;
    const tools: HostTool[] = object.kind === 'pool' || object.thin === true ? ['lvm2', 'thin-provisioning-tools'] : ['lvm2'];
    const key = `${session.host} ${tools.join(' ')}`;
    let pending = this.done.get(key);
    if (!pending) {
      pending = session.call('host.install_tools', { tools });
      this.done.set(key, pending);
    }
    await pending;
  }
}
