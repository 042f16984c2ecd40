// NAT networks need the kernel to route between the bridge and the uplinks. The
// setting is per network namespace: /proc/sys/net reflects the namespace of the
// process that opens it, i.e. the agent's. It is only ever switched on, never off,
// since other software on the host may rely on it as well.
import { readFile, writeFile } from 'node:fs/promises';
import type { AgentLog } from '../log.js';
import { AgentFailure } from '../rpc/failure.js';

const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

export async function ipv4ForwardingEnabled(): Promise<boolean> {
  return (await readFile(IP_FORWARD, 'utf8')).trim() === '1';
}

export async function enableIpv4Forwarding(log: AgentLog): Promise<void> {
  if (await ipv4ForwardingEnabled()) return;
  log.command(['sysctl', '-w', 'net.ipv4.ip_forward=1']);
  try {
    await writeFile(IP_FORWARD, '1\n');
  } catch (e) {
    throw new AgentFailure('E_SYSCTL', `cannot enable net.ipv4.ip_forward: ${(e as Error).message}`);
  }
}
