// The resident agent (agent/resident.ts) as real processes: after its stdio session an
// agent started with TSINFRA_AGENT_LINGER_MS serves sessions on <run>/agent.sock, lets go
// of its stdio, leaves when idle, and a second agent of the same build does not take over.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { agentDirs } from './throwaway-netns.js';

const MAIN = fileURLToPath(new URL('../../agent/main.js', import.meta.url));
const request = (id: number, method: string, params: unknown = {}) => JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n';
const hello = (id: number) => request(id, 'hello', { clientVersion: 'test', protocol: 1 });

interface Started {
  readonly child: ChildProcess;
  /** Settles with all of stdout once the agent lets go of it. */
  readonly stdout: Promise<string>;
  readonly exited: Promise<number | null>;
}

function startAgent(env: NodeJS.ProcessEnv, input: string): Started {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const stdout = new Promise<string>((resolve) => child.stdout!.on('end', () => resolve(out)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stderr!.resume();
  child.stdin!.end(input);
  return { child, stdout, exited };
}

/** One session over the socket: sends `lines`, returns the answers once the agent ends the connection. */
function socketSession(path: string, lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('error', reject);
    s.on('end', () => resolve(out));
    s.write(lines);
  });
}

const waitUntil = async (what: string, ok: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const alive = (pid: number | undefined) => pid !== undefined && existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z';

describe('resident agent', () => {
  let dirs: Awaited<ReturnType<typeof agentDirs>>;
  const started: ChildProcess[] = [];
  before(async () => {
    dirs = await agentDirs();
  });
  after(async () => {
    for (const c of started) if (alive(c.pid)) c.kill('SIGKILL');
    await dirs?.remove();
  });

  test('stays after its session, serves the socket, and leaves when idle', async () => {
    const env = { ...dirs.env, TSINFRA_AGENT_LINGER_MS: '1500' };
    const socket = join(dirs.env['TSINFRA_AGENT_RUN_DIR']!, 'agent.sock');
    const first = startAgent(env, hello(1) + request(2, 'shutdown'));
    started.push(first.child);
    // The engine sees the end of the output although the process stays.
    const out = await first.stdout;
    assert.match(out, /"agentVersion"/);
    assert.ok(alive(first.child.pid), 'still running after its session');
    // Its stdio becomes /dev/null, swapped without loading the native module (see
    // stdio-release.ts). The end of output is seen when fd 1 closes, a moment before it reopens.
    const fdTarget = (fd: number) => {
      try {
        return readlinkSync(`/proc/${first.child.pid}/fd/${fd}`);
      } catch {
        return undefined;
      }
    };
    await waitUntil('stdio on /dev/null', () => [0, 1, 2].every((fd) => fdTarget(fd) === '/dev/null'));
    assert.doesNotMatch(readFileSync(`/proc/${first.child.pid}/maps`, 'utf8'), /koffi/);
    await waitUntil('the socket', () => existsSync(socket));
    assert.equal(readFileSync(join(dirs.env['TSINFRA_AGENT_RUN_DIR']!, 'agent.pid'), 'utf8').trim(), String(first.child.pid));

    const answers = await socketSession(socket, hello(1) + request(2, 'facts') + request(3, 'shutdown'));
    const lines = answers
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; result?: Record<string, unknown> });
    assert.equal(lines.find((l) => l.id === 1)?.result?.['protocol'], 1);
    assert.equal(typeof lines.find((l) => l.id === 2)?.result?.['hostname'], 'string');

    // Another agent of the same build serves its own session and exits: one resident per host.
    const second = startAgent(env, hello(1) + request(2, 'shutdown'));
    started.push(second.child);
    assert.equal(await second.exited, 0);
    assert.ok(alive(first.child.pid));

    // No session for the linger time: it exits and removes its socket and pid file.
    assert.equal(await first.exited, 0);
    assert.equal(existsSync(socket), false);
    assert.equal(existsSync(join(dirs.env['TSINFRA_AGENT_RUN_DIR']!, 'agent.pid')), false);
  });

  test('without TSINFRA_AGENT_LINGER_MS it exits with its session', async () => {
    const env = { ...dirs.env };
    const run = startAgent(env, hello(1) + request(2, 'shutdown'));
    started.push(run.child);
    assert.equal(await run.exited, 0);
    assert.equal(existsSync(join(dirs.env['TSINFRA_AGENT_RUN_DIR']!, 'agent.sock')), false);
  });

  test('SIGTERM: finishes the open session, then exits', async () => {
    const env = { ...dirs.env, TSINFRA_AGENT_LINGER_MS: '60000' };
    const socket = join(dirs.env['TSINFRA_AGENT_RUN_DIR']!, 'agent.sock');
    const agent = startAgent(env, hello(1) + request(2, 'shutdown'));
    started.push(agent.child);
    await agent.stdout;
    await waitUntil('the socket', () => existsSync(socket));
    const conn = connect(socket);
    let out = '';
    conn.on('data', (c: Buffer) => (out += c.toString()));
    conn.write(hello(1));
    await waitUntil('the hello answer', () => out.includes('"id":1'));
    agent.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(alive(agent.child.pid), 'waits for the open session');
    conn.write(request(2, 'facts') + request(3, 'shutdown'));
    assert.equal(await agent.exited, 0);
    assert.match(out, /"id":2,"result"/);
  });
});
