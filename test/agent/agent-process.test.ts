// The real agent program (dist/agent/main.js) as a process inside a throw-away network
// namespace, fed raw bytes: it must answer, survive and write nothing but protocol lines.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_LINE_BYTES, responseSchema } from '../../agent/rpc/protocol.js';
import { agentDirs, createNetns, deleteNetns } from './throwaway-netns.js';

const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));

interface Run {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Starts the agent, writes `input` (then EOF unless keepOpen), collects its output. */
function runAgent(netns: string, env: NodeJS.ProcessEnv, input: (Buffer | string)[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, MAIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      assert.ok(text === '' || text.endsWith('\n'), 'output ends with a newline');
      const lines = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const json = JSON.parse(l) as Record<string, unknown>;
          assert.ok(responseSchema.safeParse(json).success, `not a protocol line: ${l.slice(0, 200)}`);
          return json;
        });
      resolve({ code, lines, stderr });
    });
    child.stdin.on('error', () => {});
    for (const chunk of input) child.stdin.write(chunk);
    child.stdin.end();
  });
}

const hello = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'hello', params: { clientVersion: 'test', protocol: 1 } }) + '\n';

describe('agent process', () => {
  let netns: string;
  let dirs: Awaited<ReturnType<typeof agentDirs>>;
  before(async () => {
    netns = await createNetns();
    dirs = await agentDirs();
  });
  after(async () => {
    await dirs?.remove();
    if (netns) await deleteNetns(netns);
  });

  test('survives garbage, binary, a huge line and half lines, and answers the next request', async () => {
    const run = await runAgent(netns, dirs.env, [
      'not json at all\n',
      Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a]),
      Buffer.alloc(MAX_LINE_BYTES + 10, 0x61),
      '\n',
      '{"jsonrpc":"2.0","id":1,"meth',
      'od":"hello","params":{"clientVersion":"t","protocol":1}}\n',
      '{"jsonrpc":"2.0","id":2,"method":"resource.read","params":{"items":"nope"}}\n',
      hello(3),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const byId = (id: unknown) => run.lines.find((l) => l['id'] === id);
    assert.deepEqual(
      run.lines.filter((l) => l['id'] === null).map((l) => (l['error'] as { code: string }).code),
      ['E_RPC_PARSE', 'E_RPC_PARSE', 'E_RPC_PARSE'],
    );
    assert.ok(byId(1)?.['result']);
    assert.equal((byId(2)?.['error'] as { code: string }).code, 'E_RPC_INVALID');
    assert.ok(byId(3)?.['result']);
  });

  test('exits after shutdown even with input still open', async () => {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, MAIN], { env: dirs.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', r));
    child.stdin.write('{"jsonrpc":"2.0","id":1,"method":"shutdown"}\n');
    assert.equal(await closed, 0);
    assert.deepEqual(JSON.parse(out), { jsonrpc: '2.0', id: 1, result: {} });
  });

  test('creates its directories 0700 and logs destructive commands with their argv to a 0600 file', async () => {
    const apply = {
      jsonrpc: '2.0',
      id: 1,
      method: 'resource.apply',
      params: {
        type: 'network',
        action: 'create',
        address: 'network.log',
        prior: null,
        planned: {
          name: 'log',
          driver: 'bridge',
          bridge: 'tsi-log',
          subnet: '10.7.0.0/24',
          gateway: '10.7.0.1',
          ip_range: null,
          nat: false,
          mtu: 1500,
          internal: false,
        },
      },
    };
    const del = { ...apply, id: 2, params: { ...apply.params, action: 'delete', prior: apply.params.planned, planned: null } };
    // Sequential: the delete is sent only once the create has been answered.
    const created = await runAgent(netns, dirs.env, [JSON.stringify(apply) + '\n']);
    assert.ok(created.lines.find((l) => l['id'] === 1)?.['result'], created.stderr);
    const deleted = await runAgent(netns, dirs.env, [JSON.stringify(del) + '\n']);
    assert.deepEqual(deleted.lines.find((l) => l['id'] === 2)?.['result'], { state: null });

    const stateDir = dirs.env['TSINFRA_AGENT_STATE_DIR']!;
    for (const dir of [stateDir, dirs.env['TSINFRA_AGENT_RUN_DIR']!]) {
      assert.equal((await stat(dir)).mode & 0o777, 0o700, dir);
    }
    const logFile = join(stateDir, 'agent.log');
    assert.equal((await stat(logFile)).mode & 0o777, 0o600);
    const log = await readFile(logFile, 'utf8');
    // A new bridge is added, addressed, set up and read back in one `ip -batch`, its script logged.
    assert.match(
      log,
      /exec ip -j -d -batch - <<< "link add name tsi-log address 02(:[0-9a-f]{2}){5} mtu 1500 type bridge\\naddr add 10\.7\.0\.1\/24 dev tsi-log\\nlink set dev tsi-log up\\naddr show dev tsi-log\\n"/,
    );
    assert.match(log, /exec ip link del dev tsi-log/);
  });
});
