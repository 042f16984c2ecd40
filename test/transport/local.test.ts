// The local transport: the real agent in a throw-away network namespace, and small
// scripted agents for the ways a process can misbehave.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MethodName } from '../../agent/rpc/protocol.js';
import type { AgentClient } from '../../transport/agent-client.js';
import { LocalTransport } from '../../transport/local.js';
import { AgentError, type HostConnection } from '../../transport/types.js';
import { agentDirs, createNetns, deleteNetns } from '../agent/throwaway-netns.js';

const host = (netns?: string): HostConnection => ({ address: 'host.test', transport: 'local', ...(netns ? { netns } : {}), settings: {} });

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentError, `expected an AgentError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.host, 'host.test');
    if (message) assert.match(e.message, message);
    return true;
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A minimal agent: answers hello (hostname = its pid), then behaves as `script` says.
const fakeAgentSource = (script: string) => `
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line);
  if (req.method === 'hello') return send({ jsonrpc: '2.0', id: req.id, result: { agentVersion: 'fake', protocol: 1, hostname: String(process.pid), arch: 'x', nodeVersion: 'x' } });
  ${script}
});
`;

describe('LocalTransport', () => {
  let netns: string;
  let dirs: Awaited<ReturnType<typeof agentDirs>>;
  let scripts: string;
  before(async () => {
    netns = await createNetns();
    dirs = await agentDirs();
    scripts = await mkdtemp(join(tmpdir(), 'tsit-fake-agents-'));
  });
  after(async () => {
    await rm(scripts, { recursive: true, force: true });
    await dirs?.remove();
    if (netns) await deleteNetns(netns);
  });

  async function fakeAgent(name: string, body: string): Promise<string> {
    const file = join(scripts, `${name}.mjs`);
    await writeFile(file, body);
    return file;
  }

  test('runs the real agent inside the network namespace and closes it cleanly', async () => {
    const session = (await new LocalTransport({ env: dirs.env }).open(host(netns))) as AgentClient;
    assert.equal(session.agent?.protocol, 1);
    const facts = await session.call('facts', {});
    assert.deepEqual(
      facts.interfaces.map((i) => i.name),
      ['lo'],
      'the agent sees the namespace, not the machine',
    );
    await rejectsWith(session.call('explode' as MethodName, {} as never), 'E_RPC_METHOD', /unknown method "explode"/);
    await session.close();
    const log = await readFile(join(dirs.env['TSINFRA_AGENT_STATE_DIR']!, 'agent.log'), 'utf8');
    assert.match(log, /agent session over: shutdown requested/);
  });

  test('an agent that dies at start fails open with E_AGENT_EXITED, its exit code and stderr', async () => {
    const main = await fakeAgent('dies', `process.stderr.write('boom: cannot start\\n'); process.exit(3);`);
    await rejectsWith(new LocalTransport({ agentMain: main }).open(host()), 'E_AGENT_EXITED', /exit code 3.*boom: cannot start/s);
  });

  test('an agent that dies during a call fails it with E_AGENT_EXITED', async () => {
    const main = await fakeAgent('dies-later', fakeAgentSource(`process.stderr.write('dying on ' + req.method + '\\n'); process.exit(7);`));
    const session = await new LocalTransport({ agentMain: main }).open(host());
    await rejectsWith(session.call('facts', {}), 'E_AGENT_EXITED', /exit code 7.*dying on facts/s);
    await session.close();
  });

  test('an agent that ignores shutdown, end of input and SIGTERM is killed', async () => {
    const main = await fakeAgent(
      'stubborn',
      fakeAgentSource('') + `process.on('SIGTERM', () => {}); process.stdin.on('end', () => {}); setInterval(() => {}, 1000);`,
    );
    const session = (await new LocalTransport({ agentMain: main, graceMs: 100, closeTimeoutMs: 200 }).open(host())) as AgentClient;
    const pid = Number(session.agent?.hostname);
    assert.ok(isAlive(pid));
    await session.close();
    assert.ok(!isAlive(pid), 'the agent process is gone after close');
  });

  test('a malformed namespace name is refused before anything runs', async () => {
    await rejectsWith(new LocalTransport().open(host('../etc')), 'E_INVALID_NETNS');
    await rejectsWith(new LocalTransport().open(host('-n')), 'E_INVALID_NETNS');
  });
});
