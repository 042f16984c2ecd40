// The supervisor's real parts: this host's cgroups, image store, container networking
// (veths, macvlans, IPAM, port forwards) and the warm init pool.
import { join } from 'node:path';
import type { AgentLog } from '../log.js';
import { ImageStore } from '../images/image-store.js';
import { ContainerNetworks } from '../network/container-networks.js';
import { Ipam } from '../network/ipam.js';
import { NetworkRecords } from '../network/network-records.js';
import { PortForwarding } from '../network/port-forwarding.js';
import { detectCgroupManager } from '../runtime/cgroups/detect.js';
import { volumePath } from '../storage/volume-directory.js';
import { ProcessRunner } from '../system/command.js';
import { InitPool } from './init-launcher.js';
import type { ContainerNetworking, SupervisorDeps } from './runtime-deps.js';

export function wireSupervisorDeps(opts: { stateDir: string; runDir: string; log: AgentLog }): SupervisorDeps {
  const runner = new ProcessRunner(opts.log);
  const ports = new PortForwarding(runner);
  // Macvlan networks are found by the records the agent's network resource writes in the same state dir.
  const links = new ContainerNetworks(runner, new Ipam(opts.stateDir), ports, opts.log, new NetworkRecords(opts.stateDir));
  const networks: ContainerNetworking = {
    attach: (id, pid, requests) => links.attach(id, pid, requests),
    loopbackUp: (pid) => links.loopbackUp(pid),
    detach: (id) => links.detach(id),
    release: (id) => links.release(id),
    publish: async (id, ip, mappings) => {
      await ports.publish(id, ip, mappings);
    },
    unpublish: (id) => ports.unpublish(id),
  };
  const images = new ImageStore(join(opts.stateDir, 'images'), opts.log);
  return {
    stateDir: opts.stateDir,
    runDir: opts.runDir,
    log: opts.log,
    cgroups: detectCgroupManager({ parent: process.env['TSINFRA_CGROUP_PARENT'] || 'tsinfra' }),
    images: { get: (id) => images.get(id) },
    networks,
    inits: new InitPool(opts.runDir, opts.log),
    volumePath: (id) => volumePath(opts.stateDir, id),
  };
}
