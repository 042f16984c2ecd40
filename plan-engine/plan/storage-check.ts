// The plan-wide storage checks, once every change is planned, per host whose storage
// inventory the plan read. They stop a plan before anything is touched where apply
// would fail halfway (or, for over-commit, warn):
//
//   tools      lvm2 installed where LVM objects are planned; thin-provisioning-tools for pools
//   existence  groups, pools and origins the planned objects name exist or are planned
//   adoption   a create of an object the host already has is refused (import it instead)
//   devices    no device in two planned groups
//   capacity   per group: new volumes and pools, and growth, within its free space
//              (plus what added physical volumes bring)
//   over-commit  per pool touched by the plan: thin volumes' virtual sizes within the
//              pool's size times its ratio (a warning: thin provisioning means to over-commit)
//
// The engine knows no type here: providers describe their objects (`storage.describe`).
import { capacityShortfalls, DEFAULT_OVERCOMMIT_RATIO, describeShortfall, overcommitWarning, type SpaceRequest } from '../../agent/storage/lvm-capacity.js';
import { formatBytes, type VolumeGroupSpace } from '../../agent/storage/lvm-size.js';
import { providerFor } from '../../providers/registry.js';
import type { HostStorage, StorageObject, StorageRequirement } from '../../providers/storage-model.js';
import type { Config } from '../config/model.js';
import type { Diagnostics, SourceRange } from '../diagnostics.js';
import { getPath, type AttrPath } from '../values.js';
import type { Change } from './model.js';
import { rangeOf } from './schema-issues.js';

interface Item {
  readonly change: Change;
  /** The recorded object, when there is one. */
  readonly before: StorageObject | undefined;
  /** The planned object, unless it is being destroyed. */
  readonly after: StorageObject | undefined;
}

const LABEL = { group: 'Volume group', pool: 'Thin pool', volume: 'Logical volume' } as const;
const RESOURCE = { group: 'volume_group', pool: 'thin_pool', volume: 'logical_volume' } as const;

/** `installAllowed`: whether a host's block lets tsinfra install the tools it lacks (`install_packages`). */
export function checkStoragePlan(
  changes: readonly Change[],
  models: ReadonlyMap<string, HostStorage>,
  config: Config,
  diags: Diagnostics,
  installAllowed: (host: string) => boolean = () => false,
): void {
  for (const [host, model] of models) {
    const items = storageItems(changes, host, model);
    if (!items.length) continue;
    const c = new HostChecks(host, model, items, config, diags, installAllowed(host));
    if (!c.tools()) continue;
    // A storage resource that failed to plan may be the very object another one names.
    if (!diags.items.some((d) => d.severity === 'error' && d.address !== undefined && providerFor(d.address.split('.')[0]!)?.storage)) c.existence();
    c.adoption();
    c.devices();
    c.capacity();
    c.overcommit();
  }
}

function storageItems(changes: readonly Change[], host: string, model: HostStorage): Item[] {
  const out: Item[] = [];
  for (const change of changes) {
    if (change.host !== host) continue;
    const hooks = providerFor(change.type)?.storage;
    if (!hooks) continue;
    const before = change.before ? hooks.describe(change.before, model) : undefined;
    const after = change.after && change.action !== 'delete' ? hooks.describe(change.after, model) : undefined;
    if (before || after) out.push({ change, before, after });
  }
  return out;
}

/** Whether the change makes or alters its object (rather than leaving or destroying it). */
function changing(item: Item): boolean {
  const a = item.change.action;
  return item.after !== undefined && (a === 'create' || a === 'update' || a === 'delete-then-create' || a === 'create-then-delete');
}

class HostChecks {
  /** Objects destroyed by this plan and not planned again. */
  private readonly destroyed: Set<string>;

  constructor(
    private readonly host: string,
    private readonly model: HostStorage,
    private readonly items: readonly Item[],
    private readonly config: Config,
    private readonly diags: Diagnostics,
    private readonly installAllowed: boolean,
  ) {
    const planned = new Set(items.flatMap((i) => (i.after ? [`${i.after.kind} ${i.after.id}`] : [])));
    this.destroyed = new Set(
      items.flatMap((i) =>
        i.change.action === 'delete' && i.before && !planned.has(`${i.before.kind} ${i.before.id}`) ? [`${i.before.kind} ${i.before.id}`] : [],
      ),
    );
  }

  /**
   * lvm2 (and for pools, thin-provisioning-tools) on the host, or to be installed by the
   * apply where the host allows it; false when nothing else is worth checking.
   */
  tools(): boolean {
    const lvm = this.model.lvm;
    const needing = this.items.filter(changing);
    const allow = "Or set install_packages = true in the host block: the apply then installs it with the host's package manager.";
    if (!lvm.present) {
      if (!needing.length) return false;
      if (this.installAllowed) {
        // Without lvm2 the host's groups cannot be read: the agent checks again once it is installed.
        this.hostWarning(
          'W_TOOLS_INSTALLED_BY_APPLY',
          `${this.host} has no LVM tools (lvm2): the apply installs them before ${list(needing.map((i) => i.change.address))}`,
        );
        return false;
      }
      this.hostError(
        'E_LVM_NOT_INSTALLED',
        `${this.host} has no LVM tools (lvm2), which ${list(needing.map((i) => i.change.address))} need`,
        `Install the lvm2 package on the host (Debian, Ubuntu: apt-get install lvm2; Fedora, RHEL: dnf install lvm2) and plan again. ${allow}`,
      );
      return false;
    }
    if (lvm.error) {
      this.hostError(
        'E_LVM_UNREADABLE',
        `Cannot read the LVM state of ${this.host}: ${lvm.error}`,
        'The plan needs the volume groups to resolve sizes and check capacity. Check lvm2 on the host (vgs) and plan again.',
      );
      return false;
    }
    const thin = needing.filter((i) => i.after!.kind === 'pool' || i.after!.thin === true);
    if (!lvm.thin && thin.length) {
      if (this.installAllowed) {
        this.hostWarning(
          'W_TOOLS_INSTALLED_BY_APPLY',
          `${this.host} has no thin-provisioning-tools: the apply installs them before ${list(thin.map((i) => i.change.address))}`,
        );
      } else {
        this.hostError(
          'E_THIN_NOT_INSTALLED',
          `${this.host} cannot run thin pools, which ${list(thin.map((i) => i.change.address))} need: thin_check is missing`,
          `Install the thin-provisioning-tools package on the host (apt-get install thin-provisioning-tools): lvm2 runs its thin_check to activate thin pools. ${allow}`,
        );
      }
    }
    return true;
  }

  /** What planned objects name must exist on the host or be planned, and be of the right kind. */
  existence(): void {
    for (const item of this.items.filter(changing)) {
      for (const r of item.after!.requires ?? []) {
        const problem = this.missing(r);
        if (!problem) continue;
        this.error(item.change, r.path, 'E_STORAGE_NOT_FOUND', problem.summary, problem.detail);
      }
    }
  }

  private missing(r: StorageRequirement): { summary: string; detail: string } | undefined {
    const key = `${r.kind} ${r.id}`;
    const declare = `Declare it (resource "${RESOURCE[r.kind]}") and refer to it as ${RESOURCE[r.kind]}.NAME.id, which also makes sure it is created first.`;
    if (this.destroyed.has(key)) {
      return { summary: `${LABEL[r.kind]} ${r.id} is destroyed by this plan`, detail: 'Keep it in the configuration, or remove what uses it too.' };
    }
    if (this.model.plannedObject(r.kind, r.id)) return undefined;
    if (r.kind === 'group') {
      return this.model.seenGroup(r.id) ? undefined : { summary: `${LABEL.group} ${r.id} does not exist on ${this.host}`, detail: declare };
    }
    const seen = this.model.seenVolume(r.id);
    if (!seen) {
      // A pool the plan creates under the name of a volume is reported by its own kind.
      return { summary: `${LABEL[r.kind]} ${r.id} does not exist on ${this.host}`, detail: declare };
    }
    if (r.kind === 'pool' && seen.kind !== 'thin-pool') {
      return {
        summary: `${r.id} on ${this.host} is a ${seen.kind} logical volume, not a thin pool`,
        detail: 'Name a thin pool (VG/POOL), such as thin_pool.NAME.id.',
      };
    }
    return undefined;
  }

  /** Creating what the host already has would fail in apply: it is adopted with import instead. */
  adoption(): void {
    for (const item of this.items) {
      if (item.change.action !== 'create' || !item.after) continue;
      const { kind, id } = item.after;
      const exists = kind === 'group' ? this.model.seenGroup(id) !== undefined : this.model.seenVolume(id) !== undefined;
      if (!exists) continue;
      // What import takes is the resource's id (a thin-pool volume's is its name, not its LV's).
      const importId = item.change.after?.['id'];
      this.error(
        item.change,
        ['name'],
        'E_STORAGE_EXISTS',
        `${LABEL[kind]} ${id} already exists on ${this.host}, and the state does not have it`,
        `To manage the existing one, adopt it: tsinfra import ${item.change.address} ${typeof importId === 'string' ? importId : id}. Otherwise choose another name.`,
      );
    }
  }

  /** A device can be in one group only. */
  devices(): void {
    const owner = new Map<string, string>();
    for (const item of this.items) {
      const g = item.after;
      if (g?.kind !== 'group') continue;
      g.devices?.forEach((d, i) => {
        const device = this.model.device(d)?.path ?? d;
        const other = owner.get(device);
        if (other !== undefined && other !== g.id) {
          this.error(
            item.change,
            ['physical_volumes', i],
            'E_DUPLICATE_DEVICE',
            `Device ${d} is in volume group ${other} too`,
            'A device can be a physical volume of one group only.',
          );
        } else owner.set(device, g.id);
      });
    }
  }

  /** Per group: what the plan takes within what is free. */
  capacity(): void {
    const requests: (SpaceRequest & { item: Item })[] = [];
    for (const item of this.items.filter(changing)) {
      const a = item.after!;
      if (a.vg === undefined || a.takesBytes === undefined) continue;
      const b = item.before;
      // An update, or a replacement that destroys first, gives back the old object's space.
      const a2 = item.change.action;
      const credit = (a2 === 'update' || a2 === 'delete-then-create') && b?.vg === a.vg && b.takesBytes !== undefined ? b.takesBytes : 0;
      const bytes = a.takesBytes - credit;
      if (bytes > 0) requests.push({ address: item.change.address, vg: a.vg, bytes, item });
    }
    const groups = new Map<string, VolumeGroupSpace>();
    for (const r of requests) {
      const g = this.model.group(r.vg);
      if (g) groups.set(r.vg, g);
    }
    for (const s of capacityShortfalls(requests, groups)) {
      const taking = s.requests.map((r) => requests.find((x) => x.address === r.address)!);
      const first = taking[0]!;
      // "N%FREE" is a share of the free space before this plan, which the others planned there take from too.
      const shares = taking.filter((r) => /%FREE$/i.test(String(getPath(r.item.change.after ?? undefined, r.item.after!.sizePath ?? ['size']) ?? '')));
      const hint = shares.length
        ? ` ${list(shares.map((r) => r.address))} ${shares.length === 1 ? 'takes a share' : 'take shares'} of the free space as refresh saw it, before the other volumes of this plan.`
        : '';
      this.error(
        first.item.change,
        first.item.after!.sizePath ?? ['size'],
        'E_INSUFFICIENT_SPACE',
        `Not enough free space in volume group ${s.vg} on ${this.host}`,
        `${describeShortfall(s)}.${hint} The plan stops here: nothing has been changed. Make the volumes smaller, or add physical volumes to the group.`,
      );
    }
    // Physical volumes removed: what is left must still hold the group's volumes.
    for (const item of this.items.filter(changing)) {
      const a = item.after!;
      if (a.kind !== 'group') continue;
      const seen = this.model.seenGroup(a.id);
      const g = this.model.group(a.id);
      if (!seen || !g || g.freeBytes >= 0) continue;
      this.error(
        item.change,
        ['physical_volumes'],
        'E_INSUFFICIENT_SPACE',
        `Volume group ${a.id} on ${this.host} would be too small for its volumes`,
        `Without the physical volumes removed it would have ${formatBytes(g.sizeBytes)}, but its volumes use ${formatBytes(seen.size_bytes - seen.free_bytes)}.`,
      );
    }
  }

  /** Per pool the plan touches: thin volumes' virtual sizes within the pool's size times its ratio. */
  overcommit(): void {
    const touched = new Map<string, Item>();
    for (const item of this.items.filter(changing)) {
      const a = item.after!;
      const pool = a.kind === 'pool' ? a.id : a.thin ? a.pool : undefined;
      if (pool === undefined) continue;
      // The pool's own change is where the warning belongs; else the first volume's.
      if (!touched.has(pool) || a.kind === 'pool') touched.set(pool, item);
    }
    const planned = [...this.model.plannedObjects().values()];
    const plannedIds = new Set(planned.map((o) => o.id));
    for (const [pool, item] of touched) {
      const own = this.model.plannedObject('pool', pool);
      const seen = this.model.seenVolume(pool);
      const poolBytes = own ? own.sizeBytes : seen?.kind === 'thin-pool' ? seen.size_bytes : undefined;
      if (poolBytes === undefined) continue;
      const virtual = [
        ...planned.filter((o) => o.thin && o.pool === pool && o.sizeBytes !== undefined).map((o) => o.sizeBytes!),
        ...this.model.inventory.logical_volumes
          .filter((lv) => lv.kind === 'thin' && lv.pool !== null && `${lv.vg}/${lv.pool}` === pool)
          .filter((lv) => !plannedIds.has(`${lv.vg}/${lv.name}`) && !this.destroyed.has(`volume ${lv.vg}/${lv.name}`))
          .map((lv) => lv.size_bytes),
      ];
      const message = overcommitWarning(pool, poolBytes, virtual, own?.overcommitRatio ?? DEFAULT_OVERCOMMIT_RATIO);
      if (!message) continue;
      const isPool = item.after!.kind === 'pool';
      const range = this.rangeOf(
        item.change,
        isPool && this.hasAttribute(item.change, 'overcommit_ratio') ? ['overcommit_ratio'] : (item.after!.sizePath ?? ['size']),
      );
      this.diags.add({
        severity: 'warning',
        code: 'E_THIN_POOL_OVERCOMMIT',
        summary: `Thin pool ${pool} on ${this.host} is over-committed`,
        detail: `${message}. Grow the pool, or raise its overcommit_ratio if that is intended.`,
        address: item.change.address,
        ...(range ? { range } : {}),
      });
    }
  }

  private error(change: Change, path: AttrPath, code: string, summary: string, detail: string): void {
    const range = this.rangeOf(change, path);
    this.diags.error(code, summary, { detail, address: change.address, ...(range ? { range } : {}) });
  }

  private hostError(code: string, summary: string, detail: string): void {
    this.diags.error(code, summary, { detail, address: this.host, ...this.hostRange() });
  }

  private hostWarning(code: string, summary: string): void {
    this.diags.add({ severity: 'warning', code, summary, address: this.host, ...this.hostRange() });
  }

  private hostRange(): { range?: SourceRange } {
    const decl = this.config.hosts.get(this.host.replace(/^host\./, '').replace(/\[.*$/, ''));
    return decl ? { range: decl.range } : {};
  }

  private rangeOf(change: Change, path: AttrPath): SourceRange | undefined {
    const decl = this.config.resources.get(`${change.type}.${change.name}`);
    return decl ? (rangeOf(decl.body, path) ?? decl.range) : undefined;
  }

  private hasAttribute(change: Change, name: string): boolean {
    return this.config.resources.get(`${change.type}.${change.name}`)?.body.attributes.has(name) ?? false;
  }
}

/** `a, b and c`, sorted (at most five named). */
function list(names: readonly string[]): string {
  const shown = [...names].sort().slice(0, 5);
  const more = names.length - shown.length;
  const head = more > 0 ? [...shown, `${more} more`] : shown;
  return head.length === 1 ? head[0]! : `${head.slice(0, -1).join(', ')} and ${head[head.length - 1]!}`;
}
