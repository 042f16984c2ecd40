import assert from 'node:assert/strict';
import { release } from 'node:os';
import { after, before, test } from 'node:test';
import { parseCgroupMembership } from '../../agent/facts.js';
import { startAgentInNetns, type NetnsAgent } from './throwaway-netns.js';

let agent: NetnsAgent;
before(async () => {
  agent = await startAgentInNetns();
});
after(async () => {
  await agent?.close();
});

test('facts describe the host as seen from the agent network namespace', async () => {
  const facts = await agent.session.call('facts', {});
  assert.equal(facts.kernel_release, release());
  assert.equal(facts.arch, process.arch);
  assert.ok(facts.cpus >= 1);
  assert.ok(['v1', 'v2', 'hybrid'].includes(facts.cgroup.version));
  assert.ok(facts.cgroup.controllers.length > 0);
  assert.deepEqual(facts.tools, { ...facts.tools, ip: true, nft: true });
  // A fresh namespace has only its loopback device.
  assert.deepEqual(
    facts.interfaces.map((i) => i.name),
    ['lo'],
  );
  assert.equal(facts.interfaces[0]!.mtu, 65536);
  assert.ok(facts.interfaces[0]!.addresses.includes('127.0.0.1/8'));
  assert.equal(typeof facts.state_dir_free_bytes, 'number');
});

test('the cgroup layout is read from /proc/self/cgroup', () => {
  assert.deepEqual(parseCgroupMembership('0::/user.slice\n'), { version: 'v2', v1Controllers: [] });
  assert.deepEqual(parseCgroupMembership('4:memory:/x\n3:cpu,cpuacct:/\n1:name=systemd:/\n'), { version: 'v1', v1Controllers: ['memory', 'cpu', 'cpuacct'] });
  assert.deepEqual(parseCgroupMembership('2:pids:/\n1:name=systemd:/\n0::/\n'), { version: 'hybrid', v1Controllers: ['pids'] });
  assert.deepEqual(parseCgroupMembership(''), { version: 'none', v1Controllers: [] });
});
