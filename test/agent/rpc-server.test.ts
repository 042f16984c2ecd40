// The agent's RPC server in process, over in-memory streams: framing, validation,
// error codes, pipelining, progress, shutdown, and survival of any input.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { silentLog } from '../../agent/log.js';
import { agentMethods } from '../../agent/methods.js';
import { ResourceRegistry, type ResourceHandler } from '../../agent/resources/registry.js';
import { AgentFailure } from '../../agent/rpc/failure.js';
import { LineSplitter } from '../../agent/rpc/line-splitter.js';
import { responseSchema, type ResourceState } from '../../agent/rpc/protocol.js';
import { RpcServer, type EndReason } from '../../agent/rpc/server.js';
import type { CommandRunner } from '../../agent/system/command.js';

interface Message {
  jsonrpc: '2.0';
  id?: number | null;
  result?: unknown;
  error?: { code: string; message: string };
  method?: string;
  params?: { requestId: number; message: string };
}

/** Promises the test resolves by hand, so ordering never depends on timing. */
class Gates {
  private readonly gates = new Map<string, { promise: Promise<void>; open: () => void }>();
  get(name: string) {
    let g = this.gates.get(name);
    if (!g) {
      let open!: () => void;
      const promise = new Promise<void>((r) => (open = r));
      g = { promise, open };
      this.gates.set(name, g);
    }
    return g;
  }
  wait(name: unknown): Promise<void> {
    return typeof name === 'string' ? this.get(name).promise : Promise.resolve();
  }
  open(name: string): void {
    this.get(name).open();
  }
}

function fakeHandler(gates: Gates): ResourceHandler {
  return {
    async read(state) {
      await gates.wait(state['wait']);
      if (state['fail'] === 'failure') throw new AgentFailure('E_FAKE', 'the fake object is broken');
      if (state['fail'] === 'bug') throw new TypeError('fake bug');
      return state['gone'] ? null : state;
    },
    async apply(_action, _prior, planned, progress) {
      progress('step 1');
      await gates.wait(planned?.['wait']);
      progress('step 2');
      if (planned?.['fail'] === 'bug') throw new Error('apply bug');
      return planned;
    },
    async import(id) {
      return { id };
    },
  };
}

const noCommands: CommandRunner = {
  run: () => Promise.reject(new Error('no commands in this test')),
  tryRun: () => Promise.reject(new Error('no commands in this test')),
};

function harness(maxLineBytes = 4096) {
  const gates = new Gates();
  const registry = new ResourceRegistry().register('fake', fakeHandler(gates));
  const input = new PassThrough();
  const output = new PassThrough();
  const server = new RpcServer(input, output, agentMethods({ registry, runner: noCommands, stateDir: '/nonexistent' }), {
    log: silentLog,
    maxLineBytes,
  });
  const ended: Promise<EndReason> = server.serve();
  const received: Message[] = [];
  const waiters: (() => void)[] = [];
  const lines = new LineSplitter(1 << 30, {
    line: (bytes) => {
      const text = bytes.toString('utf8');
      const json = JSON.parse(text) as Message; // anything but a JSON line fails the test here
      assert.ok(responseSchema.safeParse(json).success, `not a protocol message: ${text}`);
      received.push(json);
      for (const w of waiters.splice(0)) w();
    },
    overlong: () => assert.fail('overlong output line'),
  });
  output.on('data', (c: Buffer) => lines.push(c));

  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((r) => waiters.push(r));
  };
  return {
    gates,
    input,
    received,
    ended,
    send(message: unknown) {
      input.write(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message) + '\n');
    },
    request(id: number, method: string, params?: unknown) {
      this.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    },
    /** The response (not notification) for `id`. */
    async response(id: number | null): Promise<Message> {
      const find = () => received.find((m) => 'id' in m && m.id === id && m.method === undefined);
      await until(() => find() !== undefined);
      const m = find()!;
      received.splice(received.indexOf(m), 1);
      return m;
    },
    async count(n: number) {
      await until(() => received.length >= n);
    },
  };
}

const fakeItem = (state: ResourceState) => ({ type: 'fake', state });

describe('agent RPC server', () => {
  test('answers a request that arrives byte by byte, multi-byte characters split', async () => {
    const h = harness();
    const bytes = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'resource.import', params: { type: 'fake', id: 'ü€😀' } }) + '\n');
    for (const b of bytes) h.input.write(Buffer.from([b]));
    assert.deepEqual(await h.response(7), { jsonrpc: '2.0', id: 7, result: { state: { id: 'ü€😀' } } });
  });

  test('survives garbage, binary and invalid UTF-8, answering each line, then serves the next request', async () => {
    const h = harness();
    h.send('garbage\n');
    h.send(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a]));
    h.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"hello","params":{"clientVersion":"\xc3\x28"}}\n', 'latin1'));
    h.send('\n   \n\r\n'); // blank lines are ignored
    h.send('{"unterminated": \n');
    h.send('[1,2,3]\n');
    h.send('null\n');
    h.send('"just a string"\n');
    h.send('{"jsonrpc":"2.0","id":-1,"method":"hello"}\n');
    h.send('{"jsonrpc":"2.0","id":1.5,"method":"hello"}\n');
    h.send('{"jsonrpc":"2.0","id":1e400,"method":"hello"}\n');
    await h.count(10);
    const codes = h.received.map((m) => m.error?.code);
    assert.deepEqual(codes, [
      'E_RPC_PARSE',
      'E_RPC_PARSE',
      'E_RPC_PARSE',
      'E_RPC_PARSE',
      'E_RPC_INVALID',
      'E_RPC_INVALID',
      'E_RPC_INVALID',
      'E_RPC_INVALID',
      'E_RPC_INVALID',
      'E_RPC_INVALID',
    ]);
    assert.ok(h.received.every((m) => m.id === null));
    h.received.length = 0;

    h.request(2, 'hello', { clientVersion: 'test', protocol: 1 });
    const hello = await h.response(2);
    assert.equal((hello.result as { protocol: number }).protocol, 1);
  });

  test('survives random bytes', async () => {
    const h = harness(1024);
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let chunk = 0; chunk < 200; chunk++) {
      h.input.write(Buffer.from(Array.from({ length: 1 + (random() % 200) }, random)));
    }
    h.send('\n');
    h.request(99, 'resource.import', { type: 'fake', id: 'still alive' });
    assert.deepEqual((await h.response(99)).result, { state: { id: 'still alive' } });
  });

  test('discards an overlong line, says so, and reads the next one', async () => {
    const h = harness(1024);
    const long = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { clientVersion: 'x'.repeat(5000), protocol: 1 } });
    for (let i = 0; i < long.length; i += 100) h.send(long.slice(i, i + 100));
    h.send('\n');
    const err = await h.response(null);
    assert.equal(err.error?.code, 'E_RPC_PARSE');
    assert.match(err.error!.message, /exceeds the limit of 1024 bytes/);
    h.request(2, 'resource.import', { type: 'fake', id: 'x' });
    assert.ok((await h.response(2)).result);
    assert.equal(h.received.length, 0, 'the long line produced exactly one error');
  });

  test('names the invalid field of an envelope or of the params', async () => {
    const h = harness();
    h.send({ jsonrpc: '1.0', id: 3, method: 'hello' });
    const e3 = await h.response(3);
    assert.equal(e3.error?.code, 'E_RPC_INVALID');
    assert.match(e3.error!.message, /jsonrpc/);

    h.send({ jsonrpc: '2.0', id: 4 });
    assert.match((await h.response(4)).error!.message, /method/);

    h.request(5, 'resource.read', {
      items: [
        { type: 'fake', state: {} },
        { type: 7, state: {} },
      ],
    });
    const e5 = await h.response(5);
    assert.equal(e5.error?.code, 'E_RPC_INVALID');
    assert.match(e5.error!.message, /params\.items\[1\]\.type/);

    h.request(6, 'resource.apply', { type: 'fake', action: 'explode', address: 'x', prior: null, planned: null });
    assert.match((await h.response(6)).error!.message, /params\.action/);

    h.request(7, 'resource.apply', { type: 'fake', action: 'update', address: 'x', prior: null, planned: {} });
    const e7 = await h.response(7);
    assert.equal(e7.error?.code, 'E_RPC_INVALID');
    assert.match(e7.error!.message, /params\.prior/);
  });

  test('unknown methods and resource types get their own codes', async () => {
    const h = harness();
    for (const [id, method] of [
      [1, 'nope'],
      [2, '__proto__'],
      [3, 'constructor'],
      [4, 'toString'],
      [5, 'progress'],
    ] as const) {
      h.request(id, method);
      const r = await h.response(id);
      assert.equal(r.error?.code, 'E_RPC_METHOD', method);
    }
    h.request(6, 'resource.import', { type: 'volcano', id: 'x' });
    assert.equal((await h.response(6)).error?.code, 'E_UNKNOWN_TYPE');
    h.request(7, 'resource.apply', { type: 'volcano', action: 'create', address: 'x', prior: null, planned: {} });
    assert.equal((await h.response(7)).error?.code, 'E_UNKNOWN_TYPE');
  });

  test('runs pipelined requests concurrently and answers by id', async () => {
    const h = harness();
    h.request(1, 'resource.read', { items: [fakeItem({ n: 1, wait: 'first' })] });
    h.request(2, 'resource.read', { items: [fakeItem({ n: 2 })] });
    assert.deepEqual((await h.response(2)).result, { items: [{ state: { n: 2 } }] });
    assert.equal(h.received.length, 0, 'the first request is still waiting');
    h.gates.open('first');
    assert.deepEqual((await h.response(1)).result, { items: [{ state: { n: 1, wait: 'first' } }] });
  });

  test('a read batch answers per item: one broken item does not fail the batch', async () => {
    const h = harness();
    h.request(1, 'resource.read', {
      items: [fakeItem({ n: 1 }), fakeItem({ fail: 'failure' }), { type: 'volcano', state: {} }, fakeItem({ gone: true }), fakeItem({ fail: 'bug' })],
    });
    const r = (await h.response(1)).result as { items: { state?: unknown; error?: { code: string; message: string } }[] };
    assert.deepEqual(r.items[0], { state: { n: 1 } });
    assert.equal(r.items[1]!.error?.code, 'E_FAKE');
    assert.match(r.items[1]!.error!.message, /^items\[1\]: /);
    assert.equal(r.items[2]!.error?.code, 'E_UNKNOWN_TYPE');
    assert.deepEqual(r.items[3], { state: null });
    assert.equal(r.items[4]!.error?.code, 'E_AGENT_INTERNAL');
  });

  test('sends progress notifications for the request before its response', async () => {
    const h = harness();
    h.request(1, 'resource.apply', { type: 'fake', action: 'create', address: 'fake.a', prior: null, planned: { wait: 'apply' } });
    await h.count(1);
    assert.deepEqual(h.received[0], { jsonrpc: '2.0', method: 'progress', params: { requestId: 1, message: 'step 1' } });
    h.gates.open('apply');
    const result = await h.response(1);
    assert.deepEqual(result.result, { state: { wait: 'apply' } });
    assert.deepEqual(
      h.received.map((m) => m.params),
      [
        { requestId: 1, message: 'step 1' },
        { requestId: 1, message: 'step 2' },
      ],
    );
  });

  test('a handler bug becomes E_AGENT_INTERNAL and the server carries on', async () => {
    const h = harness();
    h.request(1, 'resource.apply', { type: 'fake', action: 'create', address: 'fake.a', prior: null, planned: { fail: 'bug' } });
    const r = await h.response(1);
    assert.equal(r.error?.code, 'E_AGENT_INTERNAL');
    assert.match(r.error!.message, /apply bug/);
    h.request(2, 'resource.import', { type: 'fake', id: 'ok' });
    assert.ok((await h.response(2)).result);
  });

  test('refuses an id that is still in use', async () => {
    const h = harness();
    h.request(1, 'resource.read', { items: [fakeItem({ wait: 'slow' })] });
    h.request(1, 'resource.import', { type: 'fake', id: 'dup' });
    const dup = await h.response(1);
    assert.equal(dup.error?.code, 'E_RPC_INVALID');
    assert.match(dup.error!.message, /already used/);
    h.gates.open('slow');
    assert.ok((await h.response(1)).result);
  });

  test('shutdown waits for requests in progress, refuses new ones, then ends serve()', async () => {
    const h = harness();
    h.request(1, 'resource.read', { items: [fakeItem({ wait: 'slow' })] });
    h.request(2, 'shutdown', {});
    h.request(3, 'resource.import', { type: 'fake', id: 'late' });
    assert.equal((await h.response(3)).error?.code, 'E_AGENT_SHUTTING_DOWN');
    h.gates.open('slow');
    assert.ok((await h.response(1)).result);
    assert.deepEqual((await h.response(2)).result, {});
    assert.equal(await h.ended, 'shutdown');
  });

  test('end of input finishes requests in progress (and a last line without newline) before ending', async () => {
    const h = harness();
    h.request(1, 'resource.read', { items: [fakeItem({ wait: 'slow' })] });
    h.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resource.import', params: { type: 'fake', id: 'last' } }));
    h.input.end();
    assert.deepEqual((await h.response(2)).result, { state: { id: 'last' } });
    h.gates.open('slow');
    assert.ok((await h.response(1)).result);
    assert.equal(await h.ended, 'eof');
  });
});
