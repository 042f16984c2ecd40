// Planning storage with the host's storage inventory: whole configurations through the
// real planner, with a host session that answers `storage.inventory` with an inventory
// written by hand and `resource.read` with given states (unit tests of the plan-time
// logic; lvm2 itself runs in the VM tier). Sizes resolved against a group the plan
// creates, the capacity check with its numbers, over-commit warnings, what must exist,
// lvm2 missing, observed attributes never drift, no inventory without refresh, and the
// re-plan during apply keeping what the plan resolved.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StorageInventory } from '../../../agent/rpc/protocol.js';
import { Diagnostics, type Diagnostic } from '../../../plan-engine/diagnostics.js';
import { makePlan, type PlanResult } from '../../../plan-engine/plan/planner.js';
import { replanInstance } from '../../../plan-engine/plan/replan.js';
import type { SessionPool } from '../../../plan-engine/plan/refresh.js';
import { isUnknown, type ValueObject } from '../../../plan-engine/values.js';
import { newState, type State } from '../../../state/model.js';
import { AgentError, type AgentSession } from '../../../transport/types.js';
import { renderPlan } from '../../../cli/views/plan-view.js';
import { loadHcl } from '../../providers/provider-harness.js';
import { device, GiB, group, inventory, MiB, pvBytes, volume } from '../../providers/storage-fixture.js';
import type { Style } from '../../../cli/views/style.js';

const plain: Style = {
  bold: (s) => s,
  dim: (s) => s,
  red: (s) => s,
  green: (s) => s,
  yellow: (s) => s,
} as Style;

/** A host that answers from a given inventory and reports recorded objects as `read` says. */
class FakeHost {
  readonly calls: string[] = [];
  constructor(
    readonly host: string,
    private readonly inventory: StorageInventory,
    private readonly read: (type: string, state: ValueObject) => ValueObject | null = (_t, s) => s,
  ) {}

  session(): AgentSession {
    return {
      host: this.host,
      call: (async (method: string, params: { items?: { type: string; state: unknown }[] }) => {
        this.calls.push(method);
        if (method === 'storage.inventory') return this.inventory;
        if (method === 'resource.read') return { items: params.items!.map((i) => ({ state: this.read(i.type, i.state as ValueObject) })) };
        throw new AgentError('E_RPC_METHOD', `no ${method} here`, this.host);
      }) as AgentSession['call'],
      close: async () => undefined,
    };
  }
}

function pool(...hosts: FakeHost[]): SessionPool {
  return {
    parallelism: 10,
    session: async (host) => {
      const h = hosts.find((x) => x.host === host);
      if (!h) throw new AgentError('E_UNREACHABLE', `${host} is not here`, host);
      return h.session();
    },
    close: async () => undefined,
  };
}

const HOST = 'host "local" {\n  transport = "local"\n}\n';

async function planWith(hcl: string, host: FakeHost | undefined, options: { refresh?: boolean; state?: State } = {}): Promise<PlanResult> {
  const config = await loadHcl(HOST + hcl);
  return makePlan(
    config,
    options.state ?? null,
    { mode: 'normal', refresh: options.refresh ?? true, targets: [], replace: [], inputs: new Map() },
    host ? pool(host) : undefined,
  );
}

const errors = (r: PlanResult): Diagnostic[] => r.diagnostics.filter((d) => d.severity === 'error');
const after = (r: PlanResult, address: string): ValueObject => r.plan!.changes.find((c) => c.address === address)!.after!;

/** A blank 10 GiB data disk (plus the PV header, so the group is exactly 10 GiB). */
const blankDisk = () => inventory({ block_devices: [device('/dev/vdb', 10 * GiB + MiB)] });

const STACK = `
resource "volume_group" "vg0" {
  physical_volumes = ["/dev/vdb"]
}

resource "thin_pool" "pool" {
  volume_group = volume_group.vg0.id
  size         = "50%VG"
}

resource "logical_volume" "data" {
  volume_group = volume_group.vg0.id
  size         = "25%VG"
  filesystem {
    type = "ext4"
  }
}

resource "logical_volume" "scratch" {
  thin_pool    = thin_pool.pool.id
  virtual_size = "3G"
}
`;

describe('planning storage with the host inventory', () => {
  test('percentages resolve against a group the plan creates from its devices; the plan shows both forms', async () => {
    const host = new FakeHost('host.local', blankDisk());
    const r = await planWith(STACK, host);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(after(r, 'volume_group.vg0')['size_bytes'], pvBytes(10 * GiB + MiB));
    assert.equal(after(r, 'thin_pool.pool')['size_bytes'], 5 * GiB);
    assert.equal(after(r, 'logical_volume.data')['size_bytes'], 2.5 * GiB);
    assert.equal(after(r, 'logical_volume.scratch')['size_bytes'], 3 * GiB);
    assert.deepEqual(host.calls, ['storage.inventory'], 'one inventory call, nothing else (no state to refresh)');
    const text = renderPlan(r.plan!, plain);
    assert.match(text, /\+ size\s+= "50%VG" \(5 GiB\)/);
    assert.match(text, /\+ size\s+= "25%VG" \(2\.5 GiB\)/);
    assert.match(text, /\+ size_bytes\s+= 5368709120 \(5 GiB\)/);
  });

  test('without refresh no host is asked: percentages are known after apply and capacity is not checked', async () => {
    const host = new FakeHost('host.local', blankDisk());
    const r = await planWith(STACK.replace('"3G"', '"3T"').replace('"25%VG"', '"20T"'), host, { refresh: false });
    assert.deepEqual(errors(r), []);
    assert.deepEqual(host.calls, []);
    assert.ok(isUnknown(after(r, 'thin_pool.pool')['size_bytes']));
    assert.ok(isUnknown(after(r, 'volume_group.vg0')['size_bytes']));
    assert.match(renderPlan(r.plan!, plain), /\+ size\s+= "50%VG"\n/);
  });

  test('a plan that does not fit fails with the numbers, at the size line of the first volume that takes space', async () => {
    const host = new FakeHost('host.local', blankDisk());
    const r = await planWith(STACK.replace('"25%VG"', '"5G"'), host);
    const e = errors(r);
    assert.deepEqual(
      e.map((d) => d.code),
      ['E_INSUFFICIENT_SPACE'],
    );
    assert.equal(e[0]!.summary, 'Not enough free space in volume group vg0 on host.local');
    // The pool takes 5 GiB plus its metadata volume and spare (2 x 8 MiB).
    assert.match(e[0]!.detail!, /^volume group vg0 has 10 GiB free; this plan needs 10\.0 GiB there: logical_volume\.data 5 GiB, thin_pool\.pool 5\.0 GiB\. /);
    assert.match(e[0]!.detail!, /nothing has been changed/);
    assert.equal(e[0]!.address, 'logical_volume.data');
    assert.equal(e[0]!.range?.start.line, 16);
  });

  test('growth counts against the free space refresh saw; an unchanged volume takes nothing', async () => {
    const inv = inventory({
      volume_groups: [group('vg0', 10 * GiB, GiB, ['/dev/vdb'])],
      logical_volumes: [volume('vg0/data', 'linear', 9 * GiB)],
    });
    const state = newState('0.1.0');
    state.resources.push({
      address: 'logical_volume.data',
      type: 'logical_volume',
      name: 'data',
      host: 'host.local',
      attributes: {
        volume_group: 'vg0',
        thin_pool: null,
        name: 'data',
        size: '9G',
        virtual_size: null,
        size_bytes: 9 * GiB,
        filesystem: null,
        snapshot_of: null,
        allow_shrink: false,
        id: 'vg0/data',
        path: '/dev/vg0/data',
      },
      sensitivePaths: [],
      dependencies: [],
      status: 'ready',
    });
    const lv = (size: string) => `resource "logical_volume" "data" {\n  volume_group = "vg0"\n  size         = "${size}"\n}\n`;
    const same = await planWith(lv('9G'), new FakeHost('host.local', inv), { state });
    assert.deepEqual(same.diagnostics, []);
    assert.equal(same.plan!.changes[0]!.action, 'no-op');
    const fits = await planWith(lv('10G'), new FakeHost('host.local', inv), { state });
    assert.deepEqual(errors(fits), []);
    assert.equal(fits.plan!.changes[0]!.action, 'update');
    const big = await planWith(lv('11G'), new FakeHost('host.local', inv), { state });
    assert.match(errors(big)[0]!.detail!, /has 1 GiB free; this plan needs 2 GiB there: logical_volume\.data 2 GiB/);
  });

  test('thin volumes promising more than the pool size times its ratio earn a warning, counting volumes made outside tsinfra', async () => {
    const inv = inventory({
      volume_groups: [group('vg0', 10 * GiB, 5 * GiB)],
      logical_volumes: [volume('vg0/pool', 'thin-pool', GiB), volume('vg0/other', 'thin', GiB, 'pool')],
    });
    const hcl = `
resource "logical_volume" "a" {
  thin_pool    = "vg0/pool"
  virtual_size = "1G"
}
`;
    const r = await planWith(hcl, new FakeHost('host.local', inv));
    const w = r.diagnostics.filter((d) => d.severity === 'warning');
    assert.deepEqual(errors(r), []);
    assert.deepEqual(w, []);
    const over = await planWith(hcl.replace('"1G"', '"1.5G"'), new FakeHost('host.local', inv));
    const warned = over.diagnostics.filter((d) => d.severity === 'warning');
    assert.deepEqual(
      warned.map((d) => d.code),
      ['E_THIN_POOL_OVERCOMMIT'],
    );
    assert.match(warned[0]!.detail!, /thin pool vg0\/pool \(1 GiB\) is promised 2\.5 GiB by its thin volumes, 2\.5 times its size \(more than 2\)/);
    assert.equal(warned[0]!.range?.start.line, 7);
    assert.deepEqual(errors(over), []);
  });

  test('what a volume names must exist or be planned; a create over an existing object points to import', async () => {
    const inv = inventory({ volume_groups: [group('vg0', 10 * GiB, 5 * GiB)], logical_volumes: [volume('vg0/data', 'linear', GiB)] });
    const missing = await planWith(
      `
resource "logical_volume" "x" {
  volume_group = "nope"
  size         = "1G"
}
`,
      new FakeHost('host.local', inv),
    );
    assert.equal(errors(missing)[0]?.code, 'E_STORAGE_NOT_FOUND');
    assert.match(errors(missing)[0]!.summary, /Volume group nope does not exist on host\.local/);
    assert.equal(errors(missing)[0]!.range?.start.line, 6);
    const notPool = await planWith(
      `
resource "logical_volume" "x" {
  thin_pool    = "vg0/data"
  virtual_size = "1G"
}
`,
      new FakeHost('host.local', inv),
    );
    assert.match(errors(notPool)[0]!.summary, /vg0\/data on host\.local is a linear logical volume, not a thin pool/);
    const exists = await planWith(
      `
resource "logical_volume" "data" {
  volume_group = "vg0"
  size         = "1G"
}
`,
      new FakeHost('host.local', inv),
    );
    assert.equal(errors(exists)[0]?.code, 'E_STORAGE_EXISTS');
    assert.match(errors(exists)[0]!.detail!, /tsinfra import logical_volume\.data vg0\/data/);
    const thinInv = inventory({
      volume_groups: [group('vg0', 10 * GiB, 5 * GiB)],
      logical_volumes: [volume('vg0/pool', 'thin-pool', 4 * GiB), volume('vg0/tsi-vol-cache', 'thin', GiB, 'pool')],
    });
    const volumeExists = await planWith('resource "volume" "cache" {\n  thin_pool = "vg0/pool"\n  size      = "1G"\n}\n', new FakeHost('host.local', thinInv));
    assert.match(errors(volumeExists)[0]!.summary, /Logical volume vg0\/tsi-vol-cache already exists/);
    assert.match(errors(volumeExists)[0]!.detail!, /tsinfra import volume\.cache cache\./);
  });

  test('a host without lvm2 is one error naming the host and what to install; without thin tools, pools are refused', async () => {
    const noLvm = inventory({ lvm: { present: false, thin: false }, block_devices: [device('/dev/vdb', 10 * GiB)] });
    const r = await planWith(STACK, new FakeHost('host.local', noLvm));
    assert.deepEqual(
      errors(r).map((d) => d.code),
      ['E_LVM_NOT_INSTALLED'],
    );
    assert.match(
      errors(r)[0]!.summary,
      /^host\.local has no LVM tools \(lvm2\), which logical_volume\.data, logical_volume\.scratch, thin_pool\.pool and volume_group\.vg0 need$/,
    );
    assert.match(errors(r)[0]!.detail!, /apt-get install lvm2.*install_packages = true/);
    assert.equal(errors(r)[0]!.range?.start.line, 1);
    const noThin = inventory({ lvm: { present: true, thin: false }, block_devices: [device('/dev/vdb', 10 * GiB)] });
    const t = await planWith(STACK, new FakeHost('host.local', noThin));
    assert.deepEqual(
      errors(t).map((d) => d.code),
      ['E_THIN_NOT_INSTALLED'],
    );
    assert.match(errors(t)[0]!.summary, /logical_volume\.scratch and thin_pool\.pool need: thin_check is missing/);
  });

  test('with install_packages = true, missing tools are a warning: the apply installs them', async () => {
    const config = await loadHcl('host "local" {\n  transport        = "local"\n  install_packages = true\n}\n' + STACK);
    const noLvm = inventory({ lvm: { present: false, thin: false }, block_devices: [device('/dev/vdb', 10 * GiB)] });
    const r = await makePlan(
      config,
      null,
      { mode: 'normal', refresh: true, targets: [], replace: [], inputs: new Map() },
      pool(new FakeHost('host.local', noLvm)),
    );
    assert.deepEqual(errors(r), []);
    const warning = r.diagnostics.find((d) => d.code === 'W_TOOLS_INSTALLED_BY_APPLY');
    assert.match(warning!.summary, /^host\.local has no LVM tools \(lvm2\): the apply installs them before logical_volume\.data/);
    const noThin = inventory({ lvm: { present: true, thin: false }, block_devices: [device('/dev/vdb', 10 * GiB)] });
    const t = await makePlan(
      config,
      null,
      { mode: 'normal', refresh: true, targets: [], replace: [], inputs: new Map() },
      pool(new FakeHost('host.local', noThin)),
    );
    assert.deepEqual(errors(t), []);
    assert.match(t.diagnostics.find((d) => d.code === 'W_TOOLS_INSTALLED_BY_APPLY')!.summary, /no thin-provisioning-tools/);
  });

  test('a device with a filesystem is refused at plan time, at its line, and only that is reported', async () => {
    const inv = inventory({ block_devices: [device('/dev/vdb', 10 * GiB, { fs_type: 'xfs' })] });
    const r = await planWith(STACK + 'resource "logical_volume" "literal" {\n  volume_group = "vg0"\n  size = "1G"\n}\n', new FakeHost('host.local', inv));
    assert.deepEqual(
      errors(r).map((d) => d.code),
      ['E_DEVICE_IN_USE'],
    );
    assert.equal(errors(r)[0]!.address, 'volume_group.vg0');
    assert.equal(errors(r)[0]!.range?.start.line, 6);
  });

  test('observed attributes (free space, pool usage) refresh silently; a hand resize is drift planned back', async () => {
    const inv = inventory({
      volume_groups: [group('vg0', 10 * GiB, 3 * GiB, ['/dev/vdb'])],
      logical_volumes: [volume('vg0/pool', 'thin-pool', 5 * GiB), volume('vg0/data', 'linear', 2 * GiB)],
      block_devices: [device('/dev/vdb', 10 * GiB + MiB, { fs_type: 'LVM2_member', vg: 'vg0' })],
    });
    const first = await planWith(STACK.replace(/resource "logical_volume" "scratch"[^}]*}\n/, ''), new FakeHost('host.local', blankDisk()));
    const state = newState('0.1.0');
    for (const c of first.plan!.changes) {
      const attrs = { ...c.after! };
      if (c.type === 'volume_group') attrs['free_bytes'] = 5 * GiB - 16 * MiB;
      if (c.type === 'thin_pool') Object.assign(attrs, { data_percent: 0, metadata_percent: 1 });
      state.resources.push({
        address: c.address,
        type: c.type,
        name: c.name,
        host: c.host,
        attributes: attrs,
        sensitivePaths: [],
        dependencies: [],
        status: 'ready',
      });
    }
    const busy = new FakeHost('host.local', inv, (type, s) =>
      type === 'volume_group' ? { ...s, free_bytes: 3 * GiB } : type === 'thin_pool' ? { ...s, data_percent: 42.5, metadata_percent: 7 } : s,
    );
    const r = await planWith(STACK.replace(/resource "logical_volume" "scratch"[^}]*}\n/, ''), busy, { state });
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.plan!.drift, []);
    assert.deepEqual(
      r.plan!.changes.map((c) => c.action),
      ['no-op', 'no-op', 'no-op'],
    );
    assert.deepEqual(busy.calls.sort(), ['resource.read', 'storage.inventory']);
    const resized = new FakeHost('host.local', inv, (type, s) => (type === 'logical_volume' ? { ...s, size_bytes: 3 * GiB } : s));
    const d = await planWith(STACK.replace(/resource "logical_volume" "scratch"[^}]*}\n/, ''), resized, { state });
    assert.deepEqual(
      d.plan!.drift.map((x) => x.address),
      ['logical_volume.data'],
    );
    assert.equal(errors(d)[0]?.code, 'E_SHRINK_REFUSED', 'back to 2.5 GiB from the hand-grown 3 GiB is a shrink');
  });

  test('directory volumes need no inventory; thin-pool volumes do', async () => {
    const host = new FakeHost('host.local', inventory({ volume_groups: [group('vg0', GiB, GiB)], logical_volumes: [volume('vg0/pool', 'thin-pool', GiB)] }));
    const dir = await planWith('resource "volume" "cache" {}\n', host);
    assert.deepEqual(dir.diagnostics, []);
    assert.deepEqual(host.calls, []);
    const thin = await planWith('resource "volume" "cache" {\n  thin_pool = "vg0/pool"\n  size      = "3G"\n}\n', host);
    assert.deepEqual(host.calls, ['storage.inventory']);
    assert.equal(thin.diagnostics[0]?.code, 'E_THIN_POOL_OVERCOMMIT');
  });

  test('during apply, a change with unknowns is planned again without the inventory and keeps the sizes the plan resolved', async () => {
    const config = await loadHcl(HOST + STACK);
    const r = await makePlan(
      config,
      null,
      { mode: 'normal', refresh: true, targets: [], replace: [], inputs: new Map() },
      pool(new FakeHost('host.local', blankDisk())),
    );
    const change = r.plan!.changes.find((c) => c.address === 'thin_pool.pool')!;
    assert.ok(isUnknown(change.after!['data_percent']), 'a new pool has unknowns: apply plans it again');
    const replanned = replanInstance(config, r.context!, change, new Diagnostics())!;
    assert.equal(replanned['size_bytes'], 5 * GiB);
    const vg = r.plan!.changes.find((c) => c.address === 'volume_group.vg0')!;
    assert.equal(replanInstance(config, r.context!, vg, new Diagnostics())!['size_bytes'], pvBytes(10 * GiB + MiB));
  });
});
