// Published ports on the real kernel: a throw-away host namespace with a bridge and an
// uplink to an "outside" namespace (another machine), containers attached to the
// bridge, TCP servers inside them, and clients everywhere.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLog } from '../../../agent/log.js';
import { ContainerNetworks } from '../../../agent/network/container-networks.js';
import { Ipam } from '../../../agent/network/ipam.js';
import { PORTS_TABLE, PortForwarding } from '../../../agent/network/port-forwarding.js';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { inNetns } from '../throwaway-netns.js';
import { addOutside, createTestHost, inContainer, startContainerProcess, type FakeContainer, type TestHost } from './netns-fixtures.js';

const ID1 = 'a1a1a1a1a1a1a1a1';
const ID2 = 'b2b2b2b2b2b2b2b2';
const BRIDGE = 'tsi-ports-t1';
const HOST_IP = '192.168.50.1';

type Place = { netns: string } | { pid: number };

function argvIn(place: Place, argv: string[]): string[] {
  return 'netns' in place ? ['ip', 'netns', 'exec', place.netns, ...argv] : ['nsenter', `--net=/proc/${place.pid}/ns/net`, ...argv];
}

/** What a TCP client gets from ip:port, or null when it cannot connect. */
async function fetchFrom(place: Place, ip: string, port: number): Promise<string | null> {
  const argv = ['timeout', '3', 'busybox', 'nc', ip, String(port)];
  const out = 'netns' in place ? await inNetns(place.netns, argv) : await inContainer(place.pid, argv);
  return out.code === 0 && out.stdout.trim() !== '' ? out.stdout.trim() : null;
}

/** A TCP server answering `text` to every connection, until killed. */
async function startServer(place: Place, port: number, text: string): Promise<() => Promise<void>> {
  const [cmd, ...args] = argvIn(place, ['busybox', 'nc', '-ll', '-p', String(port), '-e', 'echo', text]);
  const child: ChildProcess = spawn(cmd!, args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  for (let i = 0; i < 200; i++) {
    const argv = ['busybox', 'netstat', '-ltn'];
    const out = 'netns' in place ? await inNetns(place.netns, argv) : await inContainer(place.pid, argv);
    if (out.stdout.includes(`:${port} `)) return stop;
    await new Promise((r) => setTimeout(r, 20));
  }
  await stop();
  throw new Error(`server on port ${port} did not start`);
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('port forwarding on the real kernel', () => {
  let host: TestHost;
  let outside: { netns: string; close: () => Promise<void> };
  let stateDir: string;
  let networks: ContainerNetworks;
  let ports: PortForwarding;
  let c1: FakeContainer;
  let c2: FakeContainer;
  let ip1: string;
  let ip2: string;
  const stops: (() => Promise<void>)[] = [];

  const sysctl = async (key: string) => (await inNetns(host.netns, ['sysctl', '-n', key])).stdout.trim();
  const ruleset = async () => (await inNetns(host.netns, ['nft', 'list', 'ruleset'])).stdout;

  before(async () => {
    host = await createTestHost();
    outside = await addOutside(host.netns, `${HOST_IP}/24`, '192.168.50.2/24');
    await host.addBridge(BRIDGE, '10.40.0.1/24');
    stateDir = mkdtempSync(join(tmpdir(), 'tsit-ports-'));
    ports = new PortForwarding(host.runner);
    networks = new ContainerNetworks(host.runner, new Ipam(stateDir), ports, silentLog);
    c1 = await startContainerProcess(host.netns);
    c2 = await startContainerProcess(host.netns);
    ip1 = (await networks.attach(ID1, c1.pid, [{ bridge: BRIDGE, ip: null }]))[0]!.ip;
    ip2 = (await networks.attach(ID2, c2.pid, [{ bridge: BRIDGE, ip: null }]))[0]!.ip;
    stops.push(await startServer({ pid: c1.pid }, 80, 'hello-from-c1'));
    stops.push(await startServer({ pid: c2.pid }, 80, 'hello-from-c2'));
  });

  after(async () => {
    for (const stop of stops) await stop();
    await c1?.kill();
    await c2?.kill();
    await outside?.close();
    await host?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('a published port answers from another machine, the host itself (its addresses and 127.0.0.1) and other containers', async () => {
    const published = await ports.publish(ID1, ip1, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: null }]);
    assert.deepEqual(published, [
      { containerId: ID1, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: ip1, containerPort: 80, bridge: BRIDGE },
    ]);
    assert.equal(await sysctl('net.ipv4.ip_forward'), '1');
    assert.equal(await sysctl(`net.ipv4.conf.${BRIDGE}.route_localnet`), '1');

    assert.equal(await fetchFrom({ netns: outside.netns }, HOST_IP, 8080), 'hello-from-c1', 'from another machine');
    assert.equal(await fetchFrom({ netns: host.netns }, HOST_IP, 8080), 'hello-from-c1', 'from the host, at its own address');
    assert.equal(await fetchFrom({ netns: host.netns }, '10.40.0.1', 8080), 'hello-from-c1', 'from the host, at the gateway');
    assert.equal(await fetchFrom({ netns: host.netns }, '127.0.0.1', 8080), 'hello-from-c1', 'from the host, at 127.0.0.1');
    assert.equal(await fetchFrom({ pid: c2.pid }, HOST_IP, 8080), 'hello-from-c1', 'from a container on the same bridge (hairpin)');
    assert.equal(await fetchFrom({ pid: c1.pid }, HOST_IP, 8080), 'hello-from-c1', 'from the container itself (hairpin)');
  });

  test('publishing again replaces the rules; published() reads them back from the table', async () => {
    const before = await ruleset();
    await networks.publish(ID1, ip1, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0' }]);
    assert.equal((await ruleset()).split('\n').length, before.split('\n').length);
    assert.deepEqual(await ports.published(ID1), [
      { containerId: ID1, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: ip1, containerPort: 80, bridge: BRIDGE },
    ]);
  });

  test('overlapping host ports of another container are refused; another protocol or port is fine', async () => {
    await rejectsWith(
      networks.publish(ID2, ip2, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]),
      'E_PORT_IN_USE',
      new RegExp(`published by container ${ID1}`),
    );
    await rejectsWith(networks.publish(ID2, ip2, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' }]), 'E_PORT_IN_USE');
    await rejectsWith(networks.publish(ID2, ip2, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: HOST_IP }]), 'E_PORT_IN_USE');
    await rejectsWith(
      networks.publish(ID2, ip2, [
        { hostPort: 9000, containerPort: 80, protocol: 'tcp' },
        { hostPort: 9000, containerPort: 81, protocol: 'tcp', hostIp: HOST_IP },
      ]),
      'E_PORT_IN_USE',
      /published twice/,
    );
    await rejectsWith(networks.publish(ID2, ip2, [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }]), 'E_INVALID_PORT');
    await rejectsWith(networks.publish(ID2, ip2, [{ hostPort: 80, containerPort: 80, protocol: 'tcp', hostIp: '::' }]), 'E_INVALID_IP');
    await rejectsWith(networks.publish(ID2, '10.99.0.2', [{ hostPort: 9999, containerPort: 80, protocol: 'tcp' }]), 'E_NETWORK_NOT_FOUND');
    assert.deepEqual(await ports.published(ID2), [], 'nothing was published by the refused calls');

    await networks.publish(ID2, ip2, [
      { hostPort: 8080, containerPort: 53, protocol: 'udp' },
      { hostPort: 9090, containerPort: 80, protocol: 'tcp', hostIp: HOST_IP },
      { hostPort: 7070, containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1' },
    ]);
    assert.equal((await ports.published(ID2)).length, 3);
  });

  test('a host_ip limits where the port answers', async () => {
    assert.equal(await fetchFrom({ netns: outside.netns }, HOST_IP, 9090), 'hello-from-c2');
    assert.equal(await fetchFrom({ netns: host.netns }, HOST_IP, 9090), 'hello-from-c2');
    assert.equal(await fetchFrom({ netns: host.netns }, '127.0.0.1', 9090), null, 'not on loopback');
    assert.equal(await fetchFrom({ netns: host.netns }, '127.0.0.1', 7070), 'hello-from-c2', 'a loopback-only port answers on the host');
    assert.equal(await fetchFrom({ netns: outside.netns }, HOST_IP, 7070), null, 'but not from another machine');
  });

  test('with route_localnet on, containers still cannot reach the host loopback (the guard)', async () => {
    stops.push(await startServer({ netns: host.netns }, 6060, 'host-secret'));
    // A hostile container routes 127.0.0.0/8 to the gateway.
    for (const argv of [
      ['sysctl', '-w', 'net.ipv4.conf.eth0.route_localnet=1'],
      ['ip', 'route', 'add', '127.0.0.2/32', 'via', '10.40.0.1', 'dev', 'eth0'],
    ]) {
      const out = await inContainer(c2.pid, argv);
      assert.equal(out.code, 0, out.stderr);
    }
    assert.equal(await fetchFrom({ pid: c2.pid }, '127.0.0.2', 6060), null);

    // The same without the guard gets through: the guard is what stops it.
    const guard = await inNetns(host.netns, ['nft', 'flush', 'chain', 'ip', PORTS_TABLE, 'localhost_guard']);
    assert.equal(guard.code, 0, guard.stderr);
    assert.equal(await fetchFrom({ pid: c2.pid }, '127.0.0.2', 6060), 'host-secret');
    // Publishing again restores it.
    await networks.publish(ID1, ip1, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(await fetchFrom({ pid: c2.pid }, '127.0.0.2', 6060), null);
  });

  test('unpublish removes every rule of the container, then the table, and turns route_localnet off', async () => {
    await networks.unpublish(ID1);
    const rules = await ruleset();
    assert.doesNotMatch(rules, new RegExp(ID1));
    assert.match(rules, new RegExp(ID2));
    assert.equal(await fetchFrom({ netns: outside.netns }, HOST_IP, 8080), null);
    assert.equal(await sysctl(`net.ipv4.conf.${BRIDGE}.route_localnet`), '1', 'still needed by the loopback port of the other container');
    await networks.unpublish(ID1);

    await networks.unpublish(ID2);
    assert.doesNotMatch(await ruleset(), /tsinfra_ports|tsi-port|tsi-localhost-guard/);
    assert.equal(await sysctl(`net.ipv4.conf.${BRIDGE}.route_localnet`), '0');
    assert.deepEqual(await ports.published(), []);
    await networks.unpublish(ID2);
  });

  test('an empty list unpublishes', async () => {
    await networks.publish(ID1, ip1, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIp: HOST_IP }]);
    assert.equal(await sysctl(`net.ipv4.conf.${BRIDGE}.route_localnet`), '0', 'no loopback mapping, no route_localnet');
    assert.doesNotMatch(await ruleset(), /localhost_guard/);
    assert.deepEqual(await ports.publish(ID1, ip1, []), []);
    assert.equal(await ruleset(), '');
  });
});
