// The agent's side of the supervisor connection, against a real Unix socket that answers
// as a supervisor of the same build does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { SupervisorClient, supervisorSocket } from '../../../agent/supervisor/supervisor-client.js';
import { silentLog } from '../../../agent/log.js';
import { agentBuild } from '../../../agent/version.js';

/** A supervisor stand-in that answers ping and counts its connections. */
async function fakeSupervisor(runDir: string): Promise<{ server: Server; connections: Socket[] }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const request = JSON.parse(buffered.slice(0, nl)) as { id: number; method: string };
        buffered = buffered.slice(nl + 1);
        socket.write(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { pid: process.pid, version: agentBuild() } }) + '\n');
      }
    });
  });
  server.listen(supervisorSocket(runDir));
  await once(server, 'listening');
  return { server, connections };
}

test('supervisor client: one connection serves every call, and close() ends it', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'tsinfra-supervisor-client-'));
  const { server, connections } = await fakeSupervisor(runDir);
  const client = new SupervisorClient(runDir, silentLog);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await client.call('ping', {})).version, agentBuild());
    await Promise.all([client.call('ping', {}), client.call('ping', {})]);
    assert.equal(connections.length, 1, 'calls after the first reuse its connection');
    client.close();
    await once(connections[0]!, 'end');
  } finally {
    client.close();
    for (const c of connections) c.destroy();
    server.close();
    await rm(runDir, { recursive: true, force: true });
  }
});

test('supervisor client: a connection that broke is made again on the next call', async () => {
  const runDir = await mkdtemp(join(tmpdir(), 'tsinfra-supervisor-client-'));
  const { server, connections } = await fakeSupervisor(runDir);
  const client = new SupervisorClient(runDir, silentLog);
  try {
    await client.call('ping', {});
    connections[0]!.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await client.call('ping', {})).pid, process.pid);
    assert.equal(connections.length, 2);
  } finally {
    client.close();
    for (const c of connections) c.destroy();
    server.close();
    await rm(runDir, { recursive: true, force: true });
  }
});
