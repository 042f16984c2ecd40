// `network.peers` end to end on the real kernel: containers made by the CLI on a bridge
// network, the real agent (local transport, in the lab's namespace) called directly as
// the engine calls it for overlays, and the supervisor it starts. The peers go into the
// /etc/hosts the containers see, now and at later starts, across a supervisor restart,
// and go away with an empty list.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTransport } from '../../transport/local.js';
import type { AgentSession } from '../../transport/types.js';
import { attrs, buildTestImage, containerLab, type ContainerLab } from './container-lab.js';
import { tsinfra } from './cli-harness.js';

function config(netns: string, image: string, containers: readonly string[]): string {
  return `
host "lab" {
  transport = "local"
  netns     = "${netns}"
}
resource "image" "busybox" {
  host   = host.lab
  source = "oci-archive:${image}"
}
resource "network" "ovl" {
  host   = host.lab
  driver = "bridge"
  subnet = "10.91.0.0/24"
}
${containers
  .map(
    (name) => `
resource "container" "${name}" {
  host         = host.lab
  image        = image.busybox.id
  command      = ["sleep", "3600"]
  stop_timeout = "1s"
  network {
    id      = network.ovl.id
    aliases = ["${name}-alias"]
  }
}`,
  )
  .join('\n')}
`;
}

const REMOTE = [
  { name: 'api', aliases: ['backend', 'api-v2'], ip: '10.91.1.2' },
  { name: 'db', aliases: [], ip: '10.91.2.7' },
];
const REMOTE_LINES = /# containers on the same networks on other hosts\n10\.91\.1\.2\tapi backend api-v2\n10\.91\.2\.7\tdb\n/;

describe('network.peers: names of containers on other hosts', () => {
  let lab: ContainerLab;
  let image: string;
  let agent: AgentSession | undefined;
  let network: string;

  const apply = async (containers: readonly string[]) => {
    await lab.cfg.write('main.hcl', config(lab.netns, image, containers));
    const r = await tsinfra(['apply', '--auto-approve', lab.cfg.dir], { env: lab.env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
  };
  /** /etc/hosts as the container sees it. */
  const hostsSeenBy = async (name: string) => {
    const r = await tsinfra(['exec', `container.${name}`, '--dir', lab.cfg.dir, '--', 'cat', '/etc/hosts'], { env: lab.env });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** The file on the host that is bind-mounted over it. */
  const hostsFileOf = (name: string) => join(lab.env['TSINFRA_AGENT_RUN_DIR']!, 'containers', attrs(lab.cfg.dir, `container.${name}`)['id'] as string, 'hosts');
  const peersFile = () => join(lab.env['TSINFRA_AGENT_STATE_DIR']!, 'networks', `${network}.peers.json`);
  const openAgent = async () => {
    await agent?.close();
    agent = await new LocalTransport({ env: lab.env }).open({ address: 'host.lab', transport: 'local', netns: lab.netns, settings: {} });
    return agent;
  };

  before(async () => {
    lab = await containerLab();
    image = await buildTestImage(lab.scratch);
    await apply(['web', 'worker']);
    network = attrs(lab.cfg.dir, 'network.ovl')['id'] as string;
  });
  after(async () => {
    await agent?.close().catch(() => undefined);
    await tsinfra(['destroy', '--auto-approve', lab.cfg.dir], { env: lab.env }).catch(() => undefined);
    await lab.close();
  });

  test("running containers on the network get them at once, after this host's own peers", async () => {
    const session = await openAgent();
    assert.deepEqual(await session.call('network.peers', { network, peers: REMOTE }), { changed: true });
    for (const name of ['web', 'worker']) {
      const seen = await hostsSeenBy(name);
      assert.match(seen, REMOTE_LINES, `${name} sees the remote peers`);
      const other = name === 'web' ? 'worker' : 'web';
      assert.match(seen, new RegExp(`# containers on the same networks\\n10\\.91\\.0\\.\\d+\\t${other} ${other}-alias\\n`), `${name} still sees ${other}`);
    }
    assert.equal(statSync(peersFile()).mode & 0o777, 0o600);
  });

  test('the same list again changes nothing and rewrites no file', async () => {
    const hosts = statSync(hostsFileOf('web'));
    const recorded = statSync(peersFile());
    const again = await agent!.call('network.peers', { network, peers: [...REMOTE].reverse() });
    assert.deepEqual(again, { changed: false });
    assert.equal(statSync(hostsFileOf('web')).mtimeMs, hosts.mtimeMs);
    assert.equal(statSync(peersFile()).ino, recorded.ino, 'the peers file was not replaced');
    assert.equal(statSync(peersFile()).mtimeMs, recorded.mtimeMs);
  });

  test('bad input is refused with a clear error, and the recorded peers stay', async () => {
    await assert.rejects(
      agent!.call('network.peers', { network, peers: [{ name: 'db;rm', aliases: [], ip: '10.91.2.7' }] }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_INVALID_HOSTNAME');
        assert.match(e.message, /peer 1: name "db;rm" is not a valid host name/);
        return true;
      },
    );
    await assert.rejects(agent!.call('network.peers', { network, peers: [{ name: 'db', aliases: [], ip: '10.91.2' }] }), { code: 'E_INVALID_IP' });
    await assert.rejects(agent!.call('network.peers', { network: '../x', peers: [] }), { code: 'E_UNSAFE_NAME' });
    assert.match(await hostsSeenBy('web'), REMOTE_LINES);
  });

  test('a container started later has them', async () => {
    await apply(['web', 'worker', 'late']);
    const seen = await hostsSeenBy('late');
    assert.match(seen, REMOTE_LINES);
    assert.match(seen, /\tweb web-alias\n/);
  });

  test('after a supervisor restart: kept, and given to containers started then', async () => {
    const pidFile = join(lab.env['TSINFRA_AGENT_RUN_DIR']!, 'supervisor.pid');
    const killed = readFileSync(pidFile, 'utf8').trim();
    lab.killSupervisor();
    await new Promise((r) => setTimeout(r, 300));
    await apply(['web', 'worker', 'late', 'newest']);
    assert.notEqual(readFileSync(pidFile, 'utf8').trim(), killed, 'another supervisor runs');
    assert.match(await hostsSeenBy('newest'), REMOTE_LINES);
    assert.match(await hostsSeenBy('web'), REMOTE_LINES, 'an adopted container keeps them when its peers change');
    const session = await openAgent();
    assert.deepEqual(await session.call('network.peers', { network, peers: REMOTE }), { changed: false }, 'the new supervisor read the recorded list');
  });

  test('an empty list removes them from every container; the peers file goes', async () => {
    const session = agent!;
    assert.deepEqual(await session.call('network.peers', { network, peers: [] }), { changed: true });
    for (const name of ['web', 'worker', 'late', 'newest']) {
      const seen = await hostsSeenBy(name);
      assert.doesNotMatch(seen, /other hosts|10\.91\.[12]\./, `${name} no longer lists them`);
      assert.match(seen, /# containers on the same networks\n/);
    }
    assert.ok(!existsSync(peersFile()));
    assert.deepEqual(await session.call('network.peers', { network, peers: [] }), { changed: false });
    assert.doesNotMatch(readFileSync(hostsFileOf('web'), 'utf8'), /other hosts/);
  });
});
