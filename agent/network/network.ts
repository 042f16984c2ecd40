// The `network` resource type: one handler per driver, chosen by the `driver`
// attribute (by the link's kind on import): "bridge" (bridge.ts), "macvlan" (macvlan.ts).
// Whatever the driver, the state's `id` is the network's IPAM key.
import { AgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS, type ApplyAction, type ResourceState } from '../rpc/protocol.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import type { IpRoute } from './iproute.js';
import type { Ipam } from './ipam.js';
import { checkLinkName } from './link-name.js';

export class NetworkResource implements ResourceHandler {
  constructor(
    private readonly drivers: Readonly<Record<string, ResourceHandler>>,
    private readonly ip: IpRoute,
    private readonly addresses?: Pick<Ipam, 'forget' | 'setRange'>,
  ) {}

  read(state: ResourceState): Promise<ResourceState | null> {
    return this.driver(state['driver'], 'state.driver').read(state);
  }

  async apply(
    action: ApplyAction,
    prior: ResourceState | null,
    planned: ResourceState | null,
    progress: Progress,
    address: string,
  ): Promise<ResourceState | null> {
    const [state, where] = planned ? [planned, 'planned.driver'] : [prior, 'prior.driver'];
    const result = await this.driver(state?.['driver'], where).apply(action, prior, planned, progress, address);
    // The container IPAM follows the network: its range, and its end.
    const link = (result ?? prior)?.['id'];
    if (this.addresses && typeof link === 'string') {
      if (action === 'delete') this.addresses.forget(link);
      else this.addresses.setRange(link, typeof result?.['ip_range'] === 'string' ? result['ip_range'] : null);
    }
    return result;
  }

  /** The id is the link name; the link's kind says which driver owns it. */
  async import(id: string): Promise<ResourceState | null> {
    checkLinkName(id);
    const link = await this.ip.link(id);
    if (!link) return null;
    const driver = link.kind ?? 'device';
    return this.driver(driver, `kind of link ${id}`).import(id);
  }

  private driver(name: unknown, where: string): ResourceHandler {
    if (typeof name !== 'string') throw new AgentFailure(RPC_ERRORS.invalid, `invalid attributes: ${where}: expected a string`);
    const handler = Object.hasOwn(this.drivers, name) ? this.drivers[name] : undefined;
    if (!handler) {
      throw new AgentFailure(
        'E_UNSUPPORTED_DRIVER',
        `${where}: this agent cannot manage ${JSON.stringify(name)} networks (supported: ${Object.keys(this.drivers).join(', ')})`,
      );
    }
    return handler;
  }
}
