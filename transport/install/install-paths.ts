// Where the agent lives on a host (under the state directory, 0700 all the way):
//
//   <state>/agent/<version>/agent.mjs, koffi/<libc>_<abi>/koffi.node.br, agent.json
//   <state>/agent/<version>/host-cache/      what the host makes: a code cache, koffi's unpacked module
//   <state>/agent/<version>.tmp-<random>/    an upload, or the bootstrap's unpacking, in progress
//                                            (renamed when verified)
//   <state>/agent/<version>.tmp-<random>.pack  the bootstrap's upload (agent-pack.ts), removed once unpacked
//   <state>/agent/node-<node version>/node   a Node.js runtime uploaded by tsinfra
//   <state>/agent/node-runtime               the Node.js chosen last (see host-probe.ts)
import { posix } from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/tsinfra';
/** Where the agent's sockets are (the resident agent's agent.sock). */
export const DEFAULT_RUN_DIR = '/run/tsinfra';
/** The oldest Node.js major version the agent runs on. */
export const NODE_MAJOR = 20;
/** How many agent versions a host keeps (running supervisors may use older ones). */
export const KEEP_VERSIONS = 3;

export const agentDir = (stateDir: string) => posix.join(stateDir, 'agent');
export const versionDir = (stateDir: string, version: string) => posix.join(agentDir(stateDir), version);
export const nodeRecord = (stateDir: string) => posix.join(agentDir(stateDir), 'node-runtime');
export const nodeDirName = (nodeVersion: string) => `node-${nodeVersion}`;
