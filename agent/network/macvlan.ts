// The `network` resource with driver "macvlan": containers get a macvlan interface on a
// parent device of the host (eth0, or an 802.1Q sub-interface eth0.10 that tsinfra makes
// when `vlan` is set), so they sit on the parent's segment with addresses of their own.
// The network itself has no link of its own: it is a record (network-records.ts) that the
// supervisor reads when it connects a container, plus what tsinfra changed on the parent.
//
//   create: parent exists (or make <base>.<vlan>, up) -> PROMISC if wanted -> record
//           (the record is written first, so a crash half-way still knows what to undo)
//   update: converge the record and PROMISC (parent, vlan, mode, subnet need a replacement)
//   delete: PROMISC off and the sub-interface removed, if tsinfra did them and no other
//           network on the same parent still needs them (they are handed over instead)
//   read:   the record as the host really is: null without the parent or the record;
//           promiscuous false when PROMISC was turned off by hand
import { z } from 'zod';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';
import { RPC_ERRORS, type ApplyAction, type ResourceState } from '../rpc/protocol.js';
import { invalidAttribute, parseState } from '../resources/parse-state.js';
import type { Progress, ResourceHandler } from '../resources/registry.js';
import type { IpRoute, Link } from './iproute.js';
import { cidrContains, ipv4ToNumber, parseCanonicalCidr } from './ipv4-cidr.js';
import { checkLinkName } from './link-name.js';
import { MACVLAN_MODES, isInterfaceName, type MacvlanRecord, type NetworkRecords } from './network-records.js';

const plannedSchema = z.looseObject({
  id: z.string(),
  name: z.string().min(1),
  driver: z.literal('macvlan'),
  parent: z.string(),
  vlan: z.number().int().min(1).max(4094).nullable(),
  mode: z.enum(MACVLAN_MODES),
  subnet: z.string(),
  gateway: z.string(),
  ip_range: z.string().nullable().optional(),
  /** null: the parent's. */
  mtu: z.number().int().min(68).max(65535).nullable().optional(),
  promiscuous: z.boolean(),
  internal: z.boolean(),
});

/** What a read or a delete needs: the id, and what to undo when the record is lost. */
const knownSchema = z.looseObject({
  id: z.string(),
  parent: z.string().optional(),
  vlan: z.number().int().nullable().optional(),
  vlan_created: z.boolean().optional(),
});

type Wanted = Omit<MacvlanRecord, 'promisc_set' | 'vlan_created'>;

/** `eth0.10` -> `eth0`: the text before the last dot. */
function vlanBase(parent: string): string {
  return parent.slice(0, parent.lastIndexOf('.'));
}

function wanted(planned: unknown): Wanted {
  const p = parseState(plannedSchema, planned, 'planned');
  checkLinkName(p.id);
  if (!isInterfaceName(p.parent)) throw invalidAttribute('planned.parent', `${JSON.stringify(p.parent)} is not an interface name`);
  if (p.vlan !== null) {
    const base = vlanBase(p.parent);
    if (p.parent !== `${base}.${p.vlan}` || !isInterfaceName(base)) {
      throw invalidAttribute('planned.parent', `with vlan = ${p.vlan} the parent must be <interface>.${p.vlan}, not ${JSON.stringify(p.parent)}`);
    }
  }
  const subnet = parseCanonicalCidr(p.subnet);
  if (!subnet)
    throw invalidAttribute('planned.subnet', `${JSON.stringify(p.subnet)} is not an IPv4 network in CIDR form without host bits (like 192.168.50.0/24)`);
  const gw = ipv4ToNumber(p.gateway);
  if (gw === undefined || !cidrContains(subnet, gw))
    throw invalidAttribute('planned.gateway', `${JSON.stringify(p.gateway)} is not an IPv4 address inside ${p.subnet}`);
  const ipRange = p.ip_range ?? null;
  if (ipRange !== null) {
    const range = parseCanonicalCidr(ipRange);
    if (!range || range.prefix < subnet.prefix || !cidrContains(subnet, range.network)) {
      throw invalidAttribute('planned.ip_range', `${JSON.stringify(ipRange)} is not a network in CIDR form inside ${p.subnet}`);
    }
  }
  return {
    id: p.id,
    name: p.name,
    driver: 'macvlan',
    parent: p.parent,
    vlan: p.vlan,
    mode: p.mode,
    subnet: p.subnet,
    gateway: p.gateway,
    ip_range: ipRange,
    mtu: p.mtu ?? null,
    internal: p.internal,
    promiscuous: p.promiscuous,
  };
}

/** The state the engine sees: the record as the host has it. */
function stateOf(record: MacvlanRecord, parent: Link): ResourceState {
  return {
    id: record.id,
    name: record.name,
    driver: 'macvlan',
    parent: record.parent,
    vlan: record.vlan,
    mode: record.mode,
    subnet: record.subnet,
    gateway: record.gateway,
    ip_range: record.ip_range,
    mtu: record.mtu,
    // PROMISC set by something else does not count: this network does not rely on it.
    promiscuous: record.promiscuous && parent.promisc,
    internal: record.internal,
    vlan_created: record.vlan_created,
  };
}

function isVlanOf(link: Link, base: string, id: number): boolean {
  return link.kind === 'vlan' && link.vlanId === id && link.lower === base;
}

export class MacvlanNetwork implements ResourceHandler {
  /** Applies run one at a time: networks on one parent share its PROMISC and sub-interface. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ip: IpRoute,
    private readonly records: NetworkRecords,
    private readonly log: AgentLog,
  ) {}

  async read(state: ResourceState): Promise<ResourceState | null> {
    const known = parseState(knownSchema, state, 'state');
    checkLinkName(known.id);
    const record = this.records.get(known.id);
    if (!record) return null;
    const parent = await this.ip.link(record.parent);
    if (!parent) return null;
    // The name now belongs to another kind of link: this network's sub-interface is gone.
    if (record.vlan !== null && !isVlanOf(parent, vlanBase(record.parent), record.vlan)) return null;
    return stateOf(record, parent);
  }

  import(id: string): Promise<ResourceState | null> {
    return Promise.reject(
      new AgentFailure(
        'E_IMPORT_UNSUPPORTED',
        `cannot import ${JSON.stringify(id)}: a macvlan network is configuration, not an object on the host; declare it and apply instead`,
      ),
    );
  }

  apply(action: ApplyAction, prior: ResourceState | null, planned: ResourceState | null, progress: Progress): Promise<ResourceState | null> {
    const run = async (): Promise<ResourceState | null> => {
      switch (action) {
        case 'create':
          return this.create(wanted(planned), progress);
        case 'update':
          return this.update(parseState(knownSchema, prior, 'prior').id, wanted(planned), progress);
        case 'delete':
          return this.delete(parseState(knownSchema, prior, 'prior'), progress);
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async create(want: Wanted, progress: Progress): Promise<ResourceState> {
    const before = this.records.get(want.id);
    // A record on the same parent is this network's, left by an interrupted run or kept
    // while its parent vanished: what it says tsinfra did still has to be undone later.
    const mine = before?.parent === want.parent ? before : null;
    let parent = await this.ip.link(want.parent);
    let makeVlan = false;
    if (want.vlan !== null) {
      const base = vlanBase(want.parent);
      if (parent && !isVlanOf(parent, base, want.vlan)) {
        throw new AgentFailure(
          'E_ALREADY_EXISTS',
          `a link named ${want.parent} already exists and is not VLAN ${want.vlan} on ${base} (it is ${describeLink(parent)}); remove it or choose another parent`,
        );
      }
      if (!parent) {
        const baseLink = await this.ip.link(base);
        if (!baseLink) throw await this.missingParent(base, `the base of VLAN sub-interface ${want.parent}`);
        this.checkMtu(want, baseLink);
        makeVlan = true;
      }
    } else if (!parent) {
      throw await this.missingParent(want.parent, 'the parent');
    }
    if (parent) this.checkMtu(want, parent);

    let record: MacvlanRecord = { ...want, promisc_set: mine?.promisc_set ?? false, vlan_created: makeVlan || (mine?.vlan_created ?? false) };
    this.records.put(record);
    let promiscTurnedOn = false;
    try {
      if (makeVlan) {
        progress(`creating VLAN sub-interface ${want.parent}`);
        await this.ip.addVlan(vlanBase(want.parent), want.parent, want.vlan!);
      }
      parent = await this.ip.link(want.parent);
      if (!parent) throw new AgentFailure('E_VANISHED', `parent ${want.parent} disappeared while the network was being created`);
      if (record.vlan_created && !parent.up) {
        progress(`bringing ${want.parent} up`);
        await this.ip.setUp(want.parent);
      }
      promiscTurnedOn = want.promiscuous && !parent.promisc;
      record = await this.convergePromisc(record, parent, progress);
    } catch (e) {
      this.log.warn(`creating macvlan network ${want.id} failed, undoing what was done: ${(e as Error).message}`);
      if (promiscTurnedOn) await this.ip.setPromisc(want.parent, false).catch(() => {});
      if (makeVlan) await this.ip.deleteLink(want.parent).catch(() => {});
      if (before) this.records.put(before);
      else this.records.remove(want.id);
      throw e;
    }
    return this.settled(record);
  }

  private async update(priorId: string, want: Wanted, progress: Progress): Promise<ResourceState> {
    if (priorId !== want.id) throw new AgentFailure(RPC_ERRORS.invalid, `planned.id: changing ${priorId} to ${want.id} needs a replacement, not an update`);
    const record = this.records.get(want.id);
    if (!record) throw new AgentFailure('E_NOT_FOUND', `macvlan network ${want.id} is not known on this host; refresh and plan again`);
    for (const key of ['parent', 'vlan', 'mode', 'subnet'] as const) {
      if (record[key] !== want[key]) {
        throw new AgentFailure(
          RPC_ERRORS.invalid,
          `planned.${key}: changing ${JSON.stringify(record[key])} to ${JSON.stringify(want[key])} needs a replacement, not an update`,
        );
      }
    }
    const parent = await this.ip.link(want.parent);
    if (!parent) throw new AgentFailure('E_NOT_FOUND', `parent ${want.parent} of macvlan network ${want.id} no longer exists; refresh and plan again`);
    this.checkMtu(want, parent);
    if (record.vlan_created && !parent.up) {
      progress(`bringing ${want.parent} up`);
      await this.ip.setUp(want.parent);
    }
    const updated = await this.convergePromisc({ ...record, ...want }, parent, progress);
    return this.settled(updated);
  }

  private async delete(known: z.output<typeof knownSchema>, progress: Progress): Promise<null> {
    checkLinkName(known.id);
    const record = this.records.get(known.id);
    // Without its record (state dir lost), the prior state still says whether tsinfra made the sub-interface.
    const parentName = record?.parent ?? known.parent;
    const vlan = record ? record.vlan : (known.vlan ?? null);
    const vlanCreated = record ? record.vlan_created : (known.vlan_created ?? false);
    if (parentName === undefined || !isInterfaceName(parentName)) {
      this.records.remove(known.id);
      return null;
    }
    const others = this.records.list().filter((r) => r.id !== known.id && r.parent === parentName);
    const found = await this.ip.link(parentName);
    // A link that took the sub-interface's name meanwhile is someone else's: leave it be.
    const parent = found && (vlan === null || isVlanOf(found, vlanBase(parentName), vlan)) ? found : null;
    if (parent && vlanCreated && vlan !== null) {
      const heir = others[0];
      if (heir) {
        this.records.put({ ...heir, vlan_created: true });
      } else {
        progress(`deleting VLAN sub-interface ${parentName}`);
        await this.ip.deleteLink(parentName);
        this.records.remove(known.id);
        return null;
      }
    }
    if (parent && record?.promisc_set) await this.releasePromisc(record, parent, others, progress);
    this.records.remove(known.id);
    return null;
  }

  /** Sets PROMISC when wanted (noting that tsinfra did), releases it when no longer wanted; writes the record. */
  private async convergePromisc(record: MacvlanRecord, parent: Link, progress: Progress): Promise<MacvlanRecord> {
    let next = record;
    if (record.promiscuous && !parent.promisc) {
      // Noted before it is done: a crash in between must not leave PROMISC on for good.
      next = { ...record, promisc_set: true };
      this.records.put(next);
      progress(`turning on promiscuous mode on ${record.parent}`);
      await this.ip.setPromisc(record.parent, true);
    } else if (!record.promiscuous && record.promisc_set) {
      const others = this.records.list().filter((r) => r.id !== record.id && r.parent === record.parent);
      await this.releasePromisc(record, parent, others, progress);
      next = { ...record, promisc_set: false };
    }
    this.records.put(next);
    return next;
  }

  /** PROMISC that tsinfra set for `record`: handed to another network that wants it, else turned off. */
  private async releasePromisc(record: MacvlanRecord, parent: Link, others: readonly MacvlanRecord[], progress: Progress): Promise<void> {
    const heir = others.find((r) => r.promiscuous);
    if (heir) {
      this.records.put({ ...heir, promisc_set: true });
    } else if (parent.promisc) {
      progress(`turning off promiscuous mode on ${record.parent}`);
      await this.ip.setPromisc(record.parent, false);
    }
  }

  private checkMtu(want: Wanted, parent: Link): void {
    if (want.mtu !== null && want.mtu > parent.mtu) {
      throw new AgentFailure(
        'E_MTU',
        `macvlan network ${want.name}: mtu ${want.mtu} is larger than the mtu ${parent.mtu} of ${parent.name}; lower it or leave it unset to use the parent's`,
      );
    }
  }

  private async missingParent(name: string, what: string): Promise<AgentFailure> {
    const names = (await this.ip.links()).map((l) => l.name).filter((n) => !n.startsWith('tsi'));
    return new AgentFailure('E_PARENT_NOT_FOUND', `${what} ${name} does not exist on this host (its interfaces: ${names.join(', ') || 'none'})`, {
      interfaces: names,
    });
  }

  private async settled(record: MacvlanRecord): Promise<ResourceState> {
    const parent = await this.ip.link(record.parent);
    if (!parent) throw new AgentFailure('E_VANISHED', `parent ${record.parent} disappeared while the network was being configured`);
    return stateOf(record, parent);
  }
}

function describeLink(link: Link): string {
  if (link.kind === 'vlan') return `VLAN ${link.vlanId ?? '?'} on ${link.lower ?? 'another namespace'}`;
  return `a ${link.kind ?? 'physical device'}`;
}
