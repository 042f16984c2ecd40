import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseV1Hierarchies } from '../../../../agent/runtime/cgroups/v1-hierarchies.js';

// A Debian 10 host: cpu and cpuacct (and net_cls, net_prio) share hierarchies; systemd's
// named hierarchy and the unified mount are not controllers.
const DEBIAN10 = `25 18 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
31 25 0:29 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio
32 25 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
33 25 0:31 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
34 25 0:32 / /sys/fs/cgroup/my\\040cpuset rw,relatime shared:18 - cgroup cgroup rw,cpuset
35 18 0:33 / /mnt/elsewhere/freezer rw,relatime shared:19 - cgroup cgroup rw,freezer
`;

describe('cgroup v1 hierarchies', () => {
  it('finds the controllers mounted under the root, co-mounted ones included', () => {
    const found = parseV1Hierarchies(DEBIAN10, '/sys/fs/cgroup');
    assert.deepEqual(Object.fromEntries(found), {
      cpu: '/sys/fs/cgroup/cpu,cpuacct',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
      cpuset: '/sys/fs/cgroup/my cpuset',
    });
  });

  it('finds nothing on a pure v2 host', () => {
    const v2 = '25 18 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
    assert.equal(parseV1Hierarchies(v2, '/sys/fs/cgroup').size, 0);
  });
});
