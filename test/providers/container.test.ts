// The container provider: schema and checks (the diagnostics a user sees, with the
// attribute they concern), the planned state (defaults, canonical forms, computed
// attributes), and how the planner's diff classifies changes: limits, restart policy
// and state in place, everything else a replacement.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { containerProvider } from '../../providers/container.js';
import { isUnknown, UNKNOWN, type ValueObject } from '../../plan-engine/values.js';
import type { PlanContext } from '../../providers/provider.js';
import { planOne, resourceHcl } from './provider-harness.js';

const hcl = (body: string) => resourceHcl('container', 'web', body);
const plan = (body: string, prior: ValueObject | null = null) => planOne(containerProvider, hcl(body), 'container.web', prior);

/** The diagnostics' codes and the text a user reads, for matching. */
async function problems(body: string): Promise<{ code: string; text: string }[]> {
  const r = await plan(body);
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, text: `${d.summary}\n${d.detail ?? ''}` }));
}

async function refused(body: string, code: string, says: RegExp): Promise<void> {
  const ps = await problems(body);
  assert.ok(
    ps.some((p) => p.code === code && says.test(p.text)),
    `expected ${code} matching ${String(says)}, got:\n${ps.map((p) => `${p.code}: ${p.text}`).join('\n') || '(nothing)'}`,
  );
}

async function accepted(body: string): Promise<ValueObject> {
  const r = await plan(body);
  assert.deepEqual(
    r.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  return r.change!.after!;
}

/** What the agent would record after creating `planned`: computed attributes filled in. */
function created(planned: ValueObject): ValueObject {
  return {
    ...planned,
    id: '0123456789abcdef',
    pid: 4242,
    ip_address: null,
    ip_addresses: {},
    status: planned['state']!,
    started_at: '2025-01-01T00:00:00.000Z',
    restart_count: 0,
  };
}

const IMAGE = '  image = "sha256:1111"';

describe('container schema and checks', () => {
  test('a misspelled attribute is refused with a suggestion, also inside a block', async () => {
    await refused(`${IMAGE}\n  imagee_pull = true`, 'E_UNKNOWN_ATTRIBUTE', /imagee_pull/);
    await refused(`${IMAGE}\n  resources {\n    memmory = "64M"\n  }`, 'E_UNKNOWN_ATTRIBUTE', /Did you mean "memory"/);
    await refused(`${IMAGE}\n  mount {\n    type = "bind"\n    sourse = "/srv"\n    target = "/x"\n  }`, 'E_UNKNOWN_ATTRIBUTE', /Did you mean "source"/);
  });

  test('an unknown nested block is refused with a suggestion; single blocks appear once', async () => {
    await refused(`${IMAGE}\n  mounts {\n    type = "tmpfs"\n    target = "/x"\n  }`, 'E_UNKNOWN_BLOCK', /"mount"/);
    await refused(`${IMAGE}\n  resources {\n    memory = "64M"\n  }\n  resources {\n    cpus = 1\n  }`, 'E_DUPLICATE_BLOCK', /resources/);
  });

  test('image is required', async () => {
    await refused('  state = "running"', 'E_MISSING_ATTRIBUTE', /image/);
  });

  test('sizes must parse and memory limits must be whole pages', async () => {
    await refused(`${IMAGE}\n  resources {\n    memory = "64X"\n  }`, 'E_INVALID_SIZE', /resources\.memory.*512K/);
    await refused(`${IMAGE}\n  resources {\n    memory = true\n  }`, 'E_INVALID_SIZE', /must be a size/);
    await refused(`${IMAGE}\n  resources {\n    memory = 1000\n  }`, 'E_INVALID_SIZE', /multiple of 4K/);
    await refused(`${IMAGE}\n  tmpfs {\n    target = "/run"\n    size = "lots"\n  }`, 'E_INVALID_SIZE', /tmpfs\[0\]\.size/);
  });

  test('memory_swap is at least memory and needs it; the reservation is not above the limit', async () => {
    await refused(`${IMAGE}\n  resources {\n    memory = "256M"\n    memory_swap = "128M"\n  }`, 'E_CONFLICT', /memory_swap.*at least.*memory/);
    await refused(`${IMAGE}\n  resources {\n    memory_swap = "128M"\n  }`, 'E_CONFLICT', /needs resources\.memory/);
    await refused(`${IMAGE}\n  resources {\n    memory = "64M"\n    memory_reservation = "128M"\n  }`, 'E_CONFLICT', /memory_reservation/);
    await accepted(`${IMAGE}\n  resources {\n    memory = "256M"\n    memory_swap = "256M"\n    memory_reservation = "128M"\n  }`);
  });

  test('cpus must be more than 0, cpu_shares and blkio_weight within the kernel ranges, cpuset a CPU list', async () => {
    await refused(`${IMAGE}\n  resources {\n    cpus = 0\n  }`, 'E_INVALID_VALUE', /more than 0/);
    await refused(`${IMAGE}\n  resources {\n    cpu_shares = 1\n  }`, 'E_INVALID_VALUE', /at least 2/);
    await refused(`${IMAGE}\n  resources {\n    blkio_weight = 5000\n  }`, 'E_INVALID_VALUE', /at most 1000/);
    await refused(`${IMAGE}\n  resources {\n    cpuset = "0-"\n  }`, 'E_INVALID_VALUE', /cpuset.*0-3/);
    await refused(`${IMAGE}\n  resources {\n    cpuset = "3-1"\n  }`, 'E_INVALID_VALUE', /cpuset/);
    await refused(`${IMAGE}\n  resources {\n    device_read_bps = { "vdb" = "1M" }\n  }`, 'E_INVALID_VALUE', /"vdb".*\/dev\//);
  });

  test('state and restart policy take their listed values; max_retries only with on-failure', async () => {
    await refused(`${IMAGE}\n  state = "sleeping"`, 'E_INVALID_VALUE', /"running", "stopped", "paused"/);
    await refused(`${IMAGE}\n  restart {\n    policy = "sometimes"\n  }`, 'E_INVALID_VALUE', /on-failure/);
    await refused(`${IMAGE}\n  restart {\n    policy = "always"\n    max_retries = 3\n  }`, 'E_CONFLICT', /on-failure/);
    await accepted(`${IMAGE}\n  restart {\n    policy = "on-failure"\n    max_retries = 3\n  }`);
  });

  test('network_mode values, and what conflicts with them', async () => {
    const net = '\n  network {\n    id = "tsi-front-123456"\n  }';
    const port = '\n  port {\n    host_port = 8080\n    container_port = 80\n  }';
    await refused(`${IMAGE}\n  network_mode = "overlay"`, 'E_INVALID_VALUE', /bridge, none, host or container:NAME/);
    await refused(`${IMAGE}\n  network_mode = "none"${net}`, 'E_CONFLICT', /network blocks need network_mode = "bridge"/);
    await refused(`${IMAGE}\n  network_mode = "container:db"${net}`, 'E_CONFLICT', /"container:db"/);
    await refused(`${IMAGE}\n  network_mode = "bridge"`, 'E_CONFLICT', /at least one network block/);
    await refused(`${IMAGE}${port}`, 'E_CONFLICT', /port mappings need bridge networking/);
    await refused(`${IMAGE}\n  network_mode = "host"${port}`, 'E_CONFLICT', /host's ports/);
    await refused(`${IMAGE}${net}${port}${port}`, 'E_DUPLICATE', /host port 8080 again/);
    await refused(`${IMAGE}${net}${net}`, 'E_DUPLICATE', /attaches network "tsi-front-123456" again/);
    await refused(`${IMAGE}\n  network {\n    id = "tsi-a"\n    ip = "10.1.0.300"\n  }`, 'E_INVALID_VALUE', /IPv4/);
    await accepted(`${IMAGE}${net}${port}`);
    await accepted(`${IMAGE}\n  network_mode = "host"`);
    await accepted(`${IMAGE}\n  network_mode = "container:db"`);
  });

  test('capability names are checked, with or without CAP_', async () => {
    await refused(
      `${IMAGE}\n  capabilities {\n    add = ["NET_ADMINN"]\n  }`,
      'E_INVALID_CAPABILITY',
      /capabilities\.add\[0\].*NET_ADMINN.*did you mean NET_ADMIN\?/,
    );
    await accepted(`${IMAGE}\n  capabilities {\n    add = ["cap_net_admin", "NET_BIND_SERVICE"]\n    drop = ["ALL"]\n  }`);
  });

  test('privileged is refused unless the host allows it', async () => {
    await refused(`${IMAGE}\n  privileged = true`, 'E_PRIVILEGED_REFUSED', /allow_privileged = true in host "local"/);
    await accepted(`${IMAGE}\n  privileged = false`);
    // Once the planner passes the host's settings to check(), the host decides.
    const ctx = { address: 'container.web', name: 'web', instanceKey: undefined, host: 'host.local', hostSettings: { allow_privileged: true } } as PlanContext;
    assert.deepEqual(containerProvider.check!({ image: 'x', privileged: true }, ctx), []);
  });

  test('seccomp profiles, signals, durations, users, host names and extra hosts', async () => {
    await refused(`${IMAGE}\n  seccomp_profile = "strict"`, 'E_INVALID_VALUE', /default.*unconfined.*absolute path/);
    await accepted(`${IMAGE}\n  seccomp_profile = "/etc/tsinfra/seccomp.json"`);
    await refused(`${IMAGE}\n  stop_signal = "SIGFOO"`, 'E_INVALID_VALUE', /signal name/);
    await refused(`${IMAGE}\n  stop_timeout = "10"`, 'E_INVALID_VALUE', /duration such as 500ms/);
    await refused(`${IMAGE}\n  healthcheck {\n    command = ["true"]\n    interval = "soon"\n  }`, 'E_INVALID_VALUE', /healthcheck\.interval/);
    await refused(`${IMAGE}\n  user = "a:b:c"`, 'E_INVALID_VALUE', /uid, uid:gid, name or name:group/);
    await refused(`${IMAGE}\n  hostname = "web_1"`, 'E_INVALID_VALUE', /host name/);
    await refused(`${IMAGE}\n  extra_hosts = { "db.local" = "db" }`, 'E_INVALID_VALUE', /IPv4 or IPv6/);
    await refused(`${IMAGE}\n  extra_hosts = { "db_local" = "10.0.0.1" }`, 'E_INVALID_VALUE', /"db_local" is not a host name/);
    await refused(`${IMAGE}\n  env = { "A=B" = "x" }`, 'E_INVALID_VALUE', /not a variable name/);
    await refused(`${IMAGE}\n  working_dir = "app"`, 'E_INVALID_VALUE', /absolute path/);
    await accepted(
      `${IMAGE}\n  stop_signal = "quit"\n  stop_timeout = "1500ms"\n  user = "www-data:www-data"\n  hostname = "web-1.local"\n  extra_hosts = { "db.local" = "10.1.0.5", "v6.local" = "fd00::5" }`,
    );
  });

  test('mounts: absolute targets without "..", the right source for each type', async () => {
    const mount = (attrs: string) => `${IMAGE}\n  mount {\n${attrs}\n  }`;
    await refused(mount('    type = "bind"\n    source = "/srv"\n    target = "/a/../etc"'), 'E_INVALID_VALUE', /mount\[0\]\.target.*absolute path/);
    await refused(mount('    type = "bind"\n    source = "srv"\n    target = "/www"'), 'E_INVALID_MOUNT', /absolute host path/);
    await refused(mount('    type = "bind"\n    target = "/www"'), 'E_MISSING_ATTRIBUTE', /needs a source/);
    await refused(mount('    type = "volume"\n    source = "../cache"\n    target = "/cache"'), 'E_INVALID_MOUNT', /not a volume id/);
    await refused(mount('    type = "tmpfs"\n    source = "/x"\n    target = "/t"'), 'E_INVALID_MOUNT', /takes no source/);
    await refused(mount('    type = "logical_volume"\n    source = "data"\n    target = "/data"'), 'E_INVALID_MOUNT', /not a logical volume id/);
    await refused(mount('    type = "logical_volume"\n    source = "vg0/../x"\n    target = "/data"'), 'E_INVALID_MOUNT', /not a logical volume id/);
    await refused(mount('    type = "logical_volume"\n    target = "/data"'), 'E_MISSING_ATTRIBUTE', /needs a source/);
    await refused(mount('    type = "nfs"\n    source = "/x"\n    target = "/t"'), 'E_INVALID_VALUE', /"bind", "volume", "tmpfs", "logical_volume"/);
    await refused(mount('    type = "tmpfs"\n    target = "/"'), 'E_INVALID_MOUNT', /root/);
    await refused(
      `${IMAGE}\n  mount {\n    type = "tmpfs"\n    target = "/run"\n  }\n  tmpfs {\n    target = "/run/"\n  }`,
      'E_DUPLICATE',
      /\/run is already a mount target \(mount\[0\]\)/,
    );
    await accepted(
      `${IMAGE}\n  mount {\n    type = "bind"\n    source = "/srv/www"\n    target = "/usr/share/nginx/html"\n    read_only = true\n  }\n  mount {\n    type = "volume"\n    source = "cache"\n    target = "/cache"\n  }`,
    );
  });

  test('devices: paths under /dev, permissions from rwm', async () => {
    const device = (attrs: string) => `${IMAGE}\n  device {\n${attrs}\n  }`;
    await refused(device('    source = "/dev/vdb"\n    target = "/dev/sde"\n    permissions = "rwx"'), 'E_INVALID_VALUE', /r, w and m/);
    await refused(device('    source = "/dev/vdb"\n    target = "/dev/sde"\n    permissions = "rr"'), 'E_INVALID_VALUE', /each at most once/);
    await refused(device('    source = "vdb"\n    target = "/dev/sde"'), 'E_INVALID_VALUE', /under \/dev\//);
    await refused(device('    source = "vg/../raw"\n    target = "/dev/sde"'), 'E_INVALID_VALUE', /logical volume id/);
    await accepted(device('    source = "vg0/raw"\n    target = "/dev/sde"'));
    await refused(device('    source = "/dev/vdb"\n    target = "/sde"'), 'E_INVALID_VALUE', /target must be under \/dev\//);
    await accepted(device('    source = "/dev/vdb"\n    target = "/dev/sde"\n    permissions = "rw"'));
  });

  test('rootfs_size needs a thin pool, from the container or its host', async () => {
    await refused(`${IMAGE}\n  rootfs_size = "10G"`, 'E_NO_THIN_POOL', /host\.local has none configured[\s\S]*rootfs_thin_pool = thin_pool\.NAME\.id/);
    await refused(`${IMAGE}\n  rootfs_size = "4M"\n  rootfs_thin_pool = "vg0/pool"`, 'E_INVALID_VALUE', /at least 16M/);
    await refused(`${IMAGE}\n  rootfs_size = "1G"\n  rootfs_thin_pool = "pool"`, 'E_INVALID_VALUE', /not a thin pool id/);
    await refused(`${IMAGE}\n  rootfs_thin_pool = "vg0/pool"`, 'E_INVALID_VALUE', /only with rootfs_size/);
    const planned = await accepted(`${IMAGE}\n  rootfs_size = "64M"\n  rootfs_thin_pool = "vg0/pool"`);
    assert.equal(planned['rootfs_size'], '64M');
    assert.equal(planned['rootfs_thin_pool'], 'vg0/pool');
    const ctx: PlanContext = { address: 'container.web', name: 'web', instanceKey: undefined, host: 'host.lab', hostSettings: { rootfs_thin_pool: 'vg1/p' } };
    assert.deepEqual(containerProvider.check!({ image: 'x', rootfs_size: '1G' }, ctx), []);
    assert.equal(containerProvider.plan({ image: 'x', rootfs_size: '1G' }, null, ctx)['rootfs_thin_pool'], 'vg1/p');
    assert.equal(containerProvider.plan({ image: 'x' }, null, ctx)['rootfs_thin_pool'], null, 'no pool without a quota');
  });

  test('values not known until apply are not judged', () => {
    const ctx: PlanContext = { address: 'container.web', name: 'web', instanceKey: undefined, host: 'host.local' };
    const config = {
      image: UNKNOWN,
      network_mode: UNKNOWN,
      network: UNKNOWN,
      port: [{ host_port: 80, container_port: 80 }],
      resources: { memory: UNKNOWN, memory_swap: '64M' },
    };
    assert.deepEqual(containerProvider.check!(config, ctx), []);
    assert.ok(containerProvider.schema.safeParse({ image: 'x', resources: { memory: '64M', memory_swap: '128M' } }).success);
  });
});

describe('container plan', () => {
  test('a new container: defaults filled in, computed attributes known after apply, status the desired state', async () => {
    const after = await accepted(IMAGE);
    const computed = ['id', 'pid', 'ip_address', 'ip_addresses', 'started_at', 'restart_count'];
    for (const k of computed) assert.ok(isUnknown(after[k]), `${k} must be known after apply`);
    const known = Object.fromEntries(Object.entries(after).filter(([k]) => !computed.includes(k)));
    assert.deepEqual(known, {
      image: 'sha256:1111',
      command: null,
      env: null,
      working_dir: null,
      user: null,
      hostname: null,
      extra_hosts: null,
      localtime: false,
      rootfs_size: null,
      rootfs_thin_pool: null,
      read_only_rootfs: false,
      state: 'running',
      status: 'running',
      resources: {
        memory: null,
        memory_swap: null,
        memory_reservation: null,
        cpu_shares: null,
        cpus: null,
        cpuset: null,
        pids_limit: null,
        blkio_weight: null,
        device_read_bps: null,
        device_write_bps: null,
        device_read_iops: null,
        device_write_iops: null,
      },
      mount: null,
      device: null,
      tmpfs: null,
      network: null,
      network_mode: 'none',
      port: null,
      restart: { policy: 'no', max_retries: null },
      capabilities: { add: null, drop: null },
      privileged: false,
      no_new_privileges: true,
      seccomp_profile: 'default',
      healthcheck: null,
      stop_signal: 'SIGTERM',
      stop_timeout: '10s',
    });
  });

  test('empty maps and lists plan as null, as unset ones do', async () => {
    const after = await accepted(
      `${IMAGE}\n  env = {}\n  extra_hosts = {}\n  capabilities {\n    add = []\n  }\n  resources {\n    device_read_iops = {}\n  }`,
    );
    assert.equal(after['env'], null);
    assert.equal(after['extra_hosts'], null);
    assert.deepEqual(after['capabilities'], { add: null, drop: null });
    assert.equal((after['resources'] as ValueObject)['device_read_iops'], null);
  });

  test('values are planned in the canonical form the agent reads back', async () => {
    const after = await accepted(
      `${IMAGE}
  env = { PORT = 8080, DEBUG = true, NAME = "web" }
  stop_signal = "term"
  network {
    id = "tsi-front-123456"
  }
  port {
    host_port = 8080
    container_port = 80
  }
  mount {
    type = "tmpfs"
    target = "/scratch"
  }
  tmpfs {
    target = "/run"
    size = 67108864
  }
  device {
    source = "/dev/vdb"
    target = "/dev/sde"
  }
  capabilities {
    add = ["cap_net_admin"]
    drop = ["all"]
  }
  healthcheck {
    command = ["true"]
  }
  resources {
    memory = "262144K"
    memory_swap = "0.5G"
    cpuset = "0,1,2,5"
    device_read_bps = { "/dev/vdb" = 1048576 }
  }`,
    );
    assert.deepEqual(after['env'], { DEBUG: 'true', NAME: 'web', PORT: '8080' });
    assert.equal(after['stop_signal'], 'SIGTERM');
    assert.equal(after['network_mode'], 'bridge');
    assert.deepEqual(after['network'], [{ id: 'tsi-front-123456', ip: null, aliases: null }]);
    assert.deepEqual(after['port'], [{ host_port: 8080, container_port: 80, protocol: 'tcp', host_ip: null }]);
    assert.deepEqual(after['mount'], [{ type: 'tmpfs', source: null, target: '/scratch', read_only: false }]);
    assert.deepEqual(after['tmpfs'], [{ target: '/run', size: '64M' }]);
    assert.deepEqual(after['device'], [{ source: '/dev/vdb', target: '/dev/sde', permissions: 'rwm' }]);
    assert.deepEqual(after['capabilities'], { add: ['CAP_NET_ADMIN'], drop: ['ALL'] });
    assert.deepEqual(after['healthcheck'], { command: ['true'], interval: '30s', retries: 3 });
    const r = after['resources'] as ValueObject;
    assert.equal(r['memory'], '256M');
    assert.equal(r['memory_swap'], '512M');
    assert.equal(r['cpuset'], '0-2,5');
    assert.deepEqual(r['device_read_bps'], { '/dev/vdb': '1M' });
  });

  test('unknown configuration values stay unknown in the plan', () => {
    const after = containerProvider.plan({ image: UNKNOWN, network: UNKNOWN, resources: { memory: UNKNOWN } }, null, {
      address: 'container.web',
      name: 'web',
      instanceKey: undefined,
      host: 'host.local',
    });
    assert.ok(isUnknown(after['image']));
    assert.ok(isUnknown(after['network']));
    assert.ok(isUnknown(after['network_mode']));
    assert.ok(isUnknown((after['resources'] as ValueObject)['memory']));
  });
});

describe('container changes through the planner', () => {
  const base = `${IMAGE}
  command = ["sleep", "1000"]
  resources {
    memory = "64M"
  }`;

  async function recorded(body = base): Promise<ValueObject> {
    return created(await accepted(body));
  }

  test('an unchanged container plans no change', async () => {
    const r = await plan(base, await recorded());
    assert.equal(r.change!.action, 'no-op');
  });

  test('limits and the restart policy change in place, computed attributes kept', async () => {
    const prior = await recorded();
    const r = await plan(base.replace('"64M"', '"128M"'), prior);
    assert.equal(r.change!.action, 'update');
    assert.equal((r.change!.after!['resources'] as ValueObject)['memory'], '128M');
    assert.equal(r.change!.after!['pid'], 4242);
    assert.equal(r.change!.after!['id'], '0123456789abcdef');
    const r2 = await plan(`${base}\n  restart {\n    policy = "always"\n  }`, prior);
    assert.equal(r2.change!.action, 'update');
  });

  test('the same limit written another way is no change', async () => {
    const r = await plan(base.replace('"64M"', '"65536K"'), await recorded());
    assert.equal(r.change!.action, 'no-op');
  });

  test('a new desired state updates in place; status follows and the process attributes are known after apply', async () => {
    const r = await plan(`${base}\n  state = "stopped"`, await recorded());
    assert.equal(r.change!.action, 'update');
    assert.equal(r.change!.after!['status'], 'stopped');
    assert.ok(isUnknown(r.change!.after!['pid']));
    assert.ok(isUnknown(r.change!.after!['started_at']));
    assert.equal(r.change!.after!['id'], '0123456789abcdef');
  });

  test('a container stopped by hand (refresh reads state "stopped") is started again in place', async () => {
    const prior = { ...(await recorded()), state: 'stopped', status: 'stopped', pid: null };
    const r = await plan(base, prior);
    assert.equal(r.change!.action, 'update');
    assert.deepEqual(r.change!.replacePaths, []);
    assert.equal(r.change!.before!['state'], 'stopped');
    assert.equal(r.change!.after!['state'], 'running');
    assert.equal(r.change!.after!['status'], 'running');
    assert.ok(isUnknown(r.change!.after!['pid']));
  });

  test('anything else forces replacement, and names the attribute', async () => {
    const prior = await recorded();
    for (const [body, path] of [
      [base.replace('sha256:1111', 'sha256:2222'), 'image'],
      [base.replace('"1000"', '"2000"'), 'command'],
      [`${base}\n  env = { A = "1" }`, 'env'],
      [`${base}\n  hostname = "other"`, 'hostname'],
      [`${base}\n  mount {\n    type = "tmpfs"\n    target = "/t"\n  }`, 'mount'],
    ] as const) {
      const r = await plan(body, prior);
      assert.equal(r.change!.action, 'delete-then-create', path);
      assert.deepEqual(r.change!.replacePaths, [path]);
      // A new container: computed attributes afresh.
      assert.ok(isUnknown(r.change!.after!['id']));
    }
  });
});
