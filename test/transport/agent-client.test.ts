// The engine's protocol client against a scripted fake agent (in-memory streams),
// so that every failure mode can be produced on demand.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { LineSplitter } from '../../agent/rpc/line-splitter.js';
import { PROTOCOL_VERSION, type MethodName } from '../../agent/rpc/protocol.js';
import { AgentClient } from '../../transport/agent-client.js';
import { AgentError } from '../../transport/types.js';

interface SeenRequest {
  id: number;
  method: string;
  params: unknown;
}

/** A fake agent: the test decides what to answer, and when. */
function fakeAgent() {
  const fromAgent = new PassThrough();
  const toAgent = new PassThrough();
  const stderr = new PassThrough();
  const requests: SeenRequest[] = [];
  const waiters: (() => void)[] = [];
  const lines = new LineSplitter(1 << 20, {
    line: (b) => {
      requests.push(JSON.parse(b.toString()) as SeenRequest);
      for (const w of waiters.splice(0)) w();
    },
    overlong: () => assert.fail('overlong request'),
  });
  toAgent.on('data', (c: Buffer) => lines.push(c));
  let disposed = 0;
  const agent = {
    channel: { fromAgent, toAgent, stderr },
    requests,
    get disposed() {
      return disposed;
    },
    dispose: async () => {
      disposed++;
    },
    /** The next request for `method` not yet taken. */
    async next(method: string): Promise<SeenRequest> {
      for (;;) {
        const i = requests.findIndex((r) => r.method === method);
        if (i >= 0) return requests.splice(i, 1)[0]!;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    send(message: unknown) {
      fromAgent.write(typeof message === 'string' ? message : JSON.stringify(message) + '\n');
    },
    answer(id: number, result: unknown) {
      this.send({ jsonrpc: '2.0', id, result });
    },
    helloResult(protocol = PROTOCOL_VERSION) {
      return { agentVersion: '9.9.9', protocol, hostname: 'fake', arch: 'x64', nodeVersion: 'v20' };
    },
    /** Opens a client and plays the hello exchange. */
    async open(options: { timeoutMs?: number } = {}): Promise<AgentClient> {
      const opening = AgentClient.open(agent.channel, { host: 'host.fake', dispose: agent.dispose, ...options });
      const hello = await agent.next('hello');
      assert.deepEqual((hello.params as { protocol: number }).protocol, PROTOCOL_VERSION);
      agent.answer(hello.id, agent.helloResult());
      return opening;
    },
  };
  return agent;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<AgentError> {
  let caught: AgentError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    caught = e;
    return true;
  });
  return caught!;
}

describe('AgentClient', () => {
  test('open says hello and keeps what the agent reported', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    assert.equal(client.agent?.agentVersion, '9.9.9');
    assert.equal(client.host, 'host.fake');
  });

  test('a protocol mismatch fails open with E_AGENT_PROTOCOL and releases the channel', async () => {
    const agent = fakeAgent();
    const opening = AgentClient.open(agent.channel, { host: 'host.fake', dispose: agent.dispose });
    const hello = await agent.next('hello');
    agent.answer(hello.id, agent.helloResult(PROTOCOL_VERSION + 1));
    const shutdown = agent.next('shutdown').then((r) => {
      agent.answer(r.id, {});
      agent.channel.fromAgent.end();
    });
    const e = await rejectsWith(opening, 'E_AGENT_PROTOCOL', /speaks protocol 2.*protocol 1/);
    assert.equal(e.host, 'host.fake');
    await shutdown;
    assert.equal(agent.disposed, 1);
  });

  test('pipelined calls are matched by id, whatever the order of the answers', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const a = client.call('resource.import', { type: 'network', id: 'tsi-a' });
    const b = client.call('resource.import', { type: 'network', id: 'tsi-b' });
    const ra = await agent.next('resource.import');
    const rb = await agent.next('resource.import');
    assert.notEqual(ra.id, rb.id);
    agent.answer(rb.id, { state: { id: 'b' } });
    agent.answer(ra.id, { state: { id: 'a' } });
    assert.deepEqual(await a, { state: { id: 'a' } });
    assert.deepEqual(await b, { state: { id: 'b' } });
  });

  test('progress notifications reach the callback of their call only', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const seenA: string[] = [];
    const seenB: string[] = [];
    const a = client.call('resource.apply', { type: 'network', action: 'create', address: 'network.a', prior: null, planned: {} }, (m) => seenA.push(m));
    const b = client.call('resource.apply', { type: 'network', action: 'create', address: 'network.b', prior: null, planned: {} }, (m) => {
      seenB.push(m);
      throw new Error('a broken callback does not break the session');
    });
    const ra = await agent.next('resource.apply');
    const rb = await agent.next('resource.apply');
    agent.send({ jsonrpc: '2.0', method: 'progress', params: { requestId: ra.id, message: 'a1' } });
    agent.send({ jsonrpc: '2.0', method: 'progress', params: { requestId: rb.id, message: 'b1' } });
    agent.send({ jsonrpc: '2.0', method: 'progress', params: { requestId: 999, message: 'nobody' } });
    agent.send({ jsonrpc: '2.0', method: 'progress', params: { requestId: ra.id, message: 'a2' } });
    agent.answer(ra.id, { state: null });
    agent.answer(rb.id, { state: null });
    await Promise.all([a, b]);
    assert.deepEqual(seenA, ['a1', 'a2']);
    assert.deepEqual(seenB, ['b1']);
  });

  test('an error response becomes an AgentError with its code, message, data and host', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const call = client.call('resource.import', { type: 'network', id: 'eth0' });
    const r = await agent.next('resource.import');
    agent.send({ jsonrpc: '2.0', id: r.id, error: { code: 'E_UNSAFE_NAME', message: 'refusing eth0', data: { name: 'eth0' } } });
    const e = await rejectsWith(call, 'E_UNSAFE_NAME', /refusing eth0/);
    assert.equal(e.host, 'host.fake');
    assert.deepEqual(e.data, { name: 'eth0' });
  });

  test('a result that does not validate is E_AGENT_PROTOCOL; stray lines are ignored', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const bad = client.call('resource.read', { items: [] });
    const good = client.call('resource.import', { type: 'network', id: 'tsi-a' });
    agent.send('Welcome to the machine (a noisy login shell)\n');
    agent.send('{"half": \n');
    agent.send(Buffer.from([0xff, 0xfe, 0x0a]).toString('latin1'));
    agent.send({ jsonrpc: '2.0', id: 424242, result: {} });
    const rb = await agent.next('resource.read');
    const rg = await agent.next('resource.import');
    agent.answer(rb.id, { items: 'not a list' });
    agent.answer(rg.id, { state: { id: 'a' } });
    await rejectsWith(bad, 'E_AGENT_PROTOCOL', /result\.items/);
    assert.deepEqual(await good, { state: { id: 'a' } });
  });

  test('a call nobody answers fails with E_AGENT_TIMEOUT; the session goes on', async () => {
    const agent = fakeAgent();
    const client = await agent.open({ timeoutMs: 200 });
    await rejectsWith(client.call('facts', {}), 'E_AGENT_TIMEOUT', /did not answer facts/);
    const later = client.call('resource.import', { type: 'network', id: 'tsi-a' });
    const r = await agent.next('resource.import');
    agent.answer(r.id, { state: null });
    assert.deepEqual(await later, { state: null });
  });

  test('a dead agent fails pending and later calls with E_AGENT_EXITED and its last stderr lines', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const pending = client.call('resource.read', { items: [] });
    await agent.next('resource.read');
    agent.channel.stderr.write('starting\n');
    agent.channel.stderr.write('fatal: out of cheese\n');
    agent.channel.stderr.end();
    agent.channel.fromAgent.end();
    const e = await rejectsWith(pending, 'E_AGENT_EXITED', /host\.fake exited while handling resource\.read.*out of cheese/s);
    assert.deepEqual((e.data as { stderr: string[] }).stderr, ['starting', 'fatal: out of cheese']);
    await rejectsWith(client.call('facts', {}), 'E_AGENT_EXITED', /out of cheese/);
    await client.close();
    assert.equal(agent.disposed, 1);
  });

  test('close asks the agent to shut down, ends its input and releases the channel once', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const inputEnded = new Promise<void>((r) => agent.channel.toAgent.on('end', r));
    const closing = client.close();
    const shutdown = await agent.next('shutdown');
    agent.answer(shutdown.id, {});
    await inputEnded;
    agent.channel.fromAgent.end();
    await closing;
    await client.close();
    assert.equal(agent.disposed, 1);
    await rejectsWith(client.call('facts', {}), 'E_AGENT_CLOSED');
  });

  test('unknown methods are the agent’s E_RPC_METHOD', async () => {
    const agent = fakeAgent();
    const client = await agent.open();
    const call = client.call('explode' as MethodName, {} as never);
    const r = await agent.next('explode');
    agent.send({ jsonrpc: '2.0', id: r.id, error: { code: 'E_RPC_METHOD', message: 'unknown method "explode"' } });
    await rejectsWith(call, 'E_RPC_METHOD');
  });
});
