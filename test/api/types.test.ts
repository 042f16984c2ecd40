// Compile-time checks of the typed API: this file only builds if every line marked
// `@ts-expect-error` is rejected by tsc and everything else is accepted. At run time it
// checks that the data lists (NESTED_BLOCKS, READ_ONLY_ATTRIBUTES, ...) and the
// reference getters agree with the interfaces.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expr,
  hcl,
  Manifest,
  NESTED_BLOCKS,
  READ_ONLY_ATTRIBUTES,
  ref,
  REPEATABLE_BLOCKS,
  type AttributeRefMap,
  type CamelCase,
  type Ref,
  type ResourceAttributes,
  type ResourceType,
  type ResourceTypes,
} from '../../api/index.js';
import { refToRaw } from '../../api/raw-value.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

// --- The data lists agree with the interfaces -------------------------------------

/** Read-only attribute names missing from READ_ONLY_ATTRIBUTES (must be none). */
type MissingReadOnly = {
  [T in ResourceType]: Exclude<keyof ResourceAttributes[T], (typeof READ_ONLY_ATTRIBUTES)[T][number]>;
}[ResourceType];
const readOnlyComplete: Equal<MissingReadOnly, never> = true;

/** The hand-written camelCase reference interfaces have exactly the attributes, with the right types. */
type RefsMatch = {
  [T in ResourceType]: Equal<AttributeRefMap[T], { readonly [K in keyof ResourceAttributes[T] & string as CamelCase<K>]: Ref<ResourceAttributes[T][K]> }>;
}[ResourceType];
const refsMatch: Equal<RefsMatch, true> = true;

/** Nested-block arguments whose type is an array are exactly the repeatable ones. */
type ArrayBlocks<T extends ResourceType> = {
  [K in (typeof NESTED_BLOCKS)[T][number]]: NonNullable<ResourceTypes[T][K & keyof ResourceTypes[T]]> extends readonly unknown[] ? K : never;
}[(typeof NESTED_BLOCKS)[T][number]];
const repeatableMatch: Equal<ArrayBlocks<'container'>, (typeof REPEATABLE_BLOCKS)['container'][number]> = true;
const lvBlocksSingle: Equal<ArrayBlocks<'logical_volume'>, never> = true;

// --- What manifests may and may not write -----------------------------------------

function typeChecks(): void {
  const m = new Manifest();
  const env = m.variable('env', { type: 'string', default: 'dev' });
  const count = m.variable('n', { type: 'number', default: 2 });
  const names = m.variable('names', { type: 'list(string)', default: ['a'] });
  const local = m.host('local', { transport: 'local' });

  const envIsString: Equal<typeof env, Ref<string>> = true;
  const namesIsList: Equal<typeof names, Ref<string[]>> = true;
  void [envIsString, namesIsList];
  m.output('names', { value: names });

  // @ts-expect-error unknown type constraint
  m.variable('bad', { type: 'strin' });
  // @ts-expect-error default does not match the type
  m.variable('bad', { type: 'number', default: 'two' });
  // @ts-expect-error transport is ssh or local
  m.host('bad', { transport: 'telnet' });

  const front = m.resource('network', 'front', { host: local, driver: 'bridge', subnet: '10.1.0.0/24', nat: true });
  // @ts-expect-error misspelt attribute
  m.resource('network', 'bad', { host: local, driver: 'bridge', subnett: '10.1.0.0/24' });
  // @ts-expect-error driver is bridge or macvlan
  m.resource('network', 'bad', { host: local, driver: 'vxlan' });
  // @ts-expect-error nat is a boolean
  m.resource('network', 'bad', { host: local, driver: 'bridge', nat: 'yes' });
  // @ts-expect-error host is required
  m.resource('network', 'bad', { driver: 'bridge' });
  // @ts-expect-error not a resource type
  m.resource('vm', 'bad', { host: local });
  // A string variable may fill a literal-union attribute; the engine checks the value.
  m.resource('network', 'by_var', { host: local, driver: ref.variable<string>('driver') });

  m.resource('overlay_network', 'ov', { hosts: [local, ref.host('b')], subnet: '10.9.0.0/16' });
  // @ts-expect-error overlay_network spans hosts: no host argument
  m.resource('overlay_network', 'bad', { host: local, hosts: [local], subnet: '10.9.0.0/16' });

  const web = m.resource('container', 'web', {
    host: local,
    count,
    image: ref.image('nginx').id,
    hostname: expr`${env}-web-${ref.countIndex}`,
    env: { TZ: 'UTC', ENV: env },
    resources: { memory: '200M', cpus: 1.5, device_read_bps: { '/dev/vdb': '1M' } },
    mount: { type: 'bind', source: '/srv', target: '/srv' },
    network: [{ id: front.id, aliases: ['web'] }],
    port: [{ host_port: 8080, container_port: 80, protocol: 'tcp' }],
    restart: { policy: 'on-failure', max_retries: 5 },
    healthcheck: { command: ['true'], interval: '10s' },
    seccomp_profile: '/etc/seccomp.json',
    depends_on: [front, local],
    lifecycle: { prevent_destroy: true, ignore_changes: ['env', 'resources.memory'] },
    stop_timeout: hcl`var.stop_timeout`,
  });
  // @ts-expect-error image is required
  m.resource('container', 'bad', { host: local });
  // @ts-expect-error a container is not a host either (it shares the `user` attribute with hosts)
  m.resource('container', 'bad', { host: web, image: 'x' });
  // @ts-expect-error count is a number, env is a string
  m.resource('container', 'bad', { host: local, image: 'x', count: env });
  // @ts-expect-error unknown field in a nested block
  m.resource('container', 'bad', { host: local, image: 'x', mount: [{ typ: 'bind', source: '/a', target: '/b' }] });
  // @ts-expect-error not a size
  m.resource('container', 'bad', { host: local, image: 'x', resources: { memory: '200X' } });
  // @ts-expect-error restart is a single block, not a list
  m.resource('container', 'bad', { host: local, image: 'x', restart: [{ policy: 'always' }] });
  // @ts-expect-error state is running, stopped or paused
  m.resource('container', 'bad', { host: local, image: 'x', state: 'gone' });
  // @ts-expect-error ignore_changes names attributes of the type
  m.resource('container', 'bad', { host: local, image: 'x', lifecycle: { ignore_changes: ['subnet'] } });
  // @ts-expect-error depends_on takes resources and hosts, not values
  m.resource('container', 'bad', { host: local, image: 'x', depends_on: [env] });
  // @ts-expect-error a resource is not a host
  m.resource('container', 'bad', { host: front, image: 'x' });

  m.resource('logical_volume', 'data', { host: local, volume_group: 'vg0', size: '20%VG', filesystem: { type: 'xfs', label: 'data' } });
  // @ts-expect-error filesystem type is ext4 or xfs
  m.resource('logical_volume', 'bad', { host: local, volume_group: 'vg0', size: '1G', filesystem: { type: 'btrfs' } });
  m.resource('tsinfra_data', 'd', { host: local, input: { anything: [1, 'two'] } });

  const ip: Ref<string> = web.index(0).ipAddress;
  const pid: Ref<number> = web.pid;
  const ips: Ref<Record<string, string>> = web.key('a').ipAddresses;
  const subnet: Ref<string | undefined> = front.attr('subnet');
  void [ip, pid, ips, subnet];
  // @ts-expect-error misspelt attribute reference
  void web.ipAdress;
  // @ts-expect-error containers have no bridge
  void web.bridge;
  // @ts-expect-error attr() takes the type's attribute names
  void front.attr('memory');
  // @ts-expect-error a number attribute reference is not a string
  m.resource('container', 'bad', { host: local, image: web.pid });

  m.output('ip', { value: ip, sensitive: true });
  m.moved({ from: 'network.old', to: front });
  // @ts-expect-error moved takes addresses
  m.moved({ from: 1, to: front });
  m.settings({ required_version: '>= 0.1', backend: { postgres: { conn_str: ref.variable('db') } } });
  // @ts-expect-error unknown backend
  m.settings({ backend: { s3: { bucket: 'x' } } });
}

describe('typed API', () => {
  test('the compile-time checks above hold (this file compiled)', () => {
    assert.deepEqual([readOnlyComplete, refsMatch, repeatableMatch, lvBlocksSingle], [true, true, true, true]);
    assert.doesNotThrow(typeChecks);
  });

  test('every read-only attribute of every type has its camelCase getter', () => {
    for (const [type, attrs] of Object.entries(READ_ONLY_ATTRIBUTES)) {
      const r = ref.resource(type as ResourceType, 'x') as unknown as Record<string, Ref<unknown>>;
      for (const a of attrs) {
        const camel = a.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
        assert.equal(refToRaw(r[camel]!), `\${${type}.x.${a}}`, `${type}.${camel}`);
      }
    }
  });

  test('repeatable blocks are nested blocks of their type', () => {
    for (const [type, blocks] of Object.entries(REPEATABLE_BLOCKS)) {
      for (const b of blocks) assert.ok((NESTED_BLOCKS[type as ResourceType] as readonly string[]).includes(b), `${type}.${b}`);
    }
  });
});
