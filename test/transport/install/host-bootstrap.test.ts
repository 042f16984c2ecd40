// host-bootstrap.ts on this machine, through the script the engine sends (`sh -s`): an
// upload whose files do not match the checksums the engine sent is refused, and nothing
// of it is kept or installed. (The good paths run against sshd hosts in
// agent-bootstrap.test.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { bootstrapScript } from '../../../transport/install/agent-bootstrap.js';
import { sha256 } from '../../../transport/install/agent-bundle.js';
import type { PackEntry } from '../../../transport/install/agent-pack.js';

const VERSION = '0.0.0-test';

/** Runs the bootstrap against `stateDir`: answers its probe with `install`, returns what it says next. */
function installWith(stateDir: string, install: object): Promise<{ probe: Record<string, unknown>; reply: Record<string, unknown>; code: number | null }> {
  const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.write(bootstrapScript(stateDir, VERSION, 0));
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>);
      buffered = buffered.slice(nl + 1);
      if (lines.length === 1) child.stdin.write(JSON.stringify(install) + '\n');
    }
  });
  child.stderr.resume();
  return new Promise((resolve) => child.on('close', (code) => resolve({ probe: lines[0]!, reply: lines[1]!, code })));
}

describe('host bootstrap: a damaged upload', () => {
  let stateDir: string;
  before(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'tsit-host-bootstrap-'));
  });
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  /** A pack of `files` (name -> content) as agent-pack.ts makes one, compressed. */
  const pack = (files: Record<string, string>): { data: Buffer; entries: PackEntry[] } => {
    let offset = 0;
    const parts = Object.entries(files).map(([name, content]) => {
      const bytes = brotliCompressSync(Buffer.from(content));
      const entry = { name, sha256: sha256(content), offset, length: bytes.length, brotli: true };
      offset += bytes.length;
      return { entry, bytes };
    });
    return { data: Buffer.concat(parts.map((p) => p.bytes)), entries: parts.map((p) => p.entry) };
  };

  for (const [what, damage] of [
    ['a file that differs from its checksum', (data: Buffer) => Buffer.concat([data.subarray(0, 10), Buffer.from([data[10]! ^ 0xff]), data.subarray(11)])],
    ['a broken compressed stream', (data: Buffer) => data.subarray(0, data.length - 3)],
  ] as const) {
    test(`${what} is refused; neither the pack nor anything unpacked is kept`, async () => {
      // One file, so that whatever the damage hits is that file.
      const { data, entries } = pack({ 'agent-code.cjs': 'the agent '.repeat(50) });
      mkdirSync(join(stateDir, 'agent'), { recursive: true, mode: 0o700 });
      const packPath = join(stateDir, 'agent', `${VERSION}.tmp-abc.pack`);
      writeFileSync(packPath, damage(data));
      const { probe, reply, code } = await installWith(stateDir, {
        t: 'install',
        mode: 'install',
        pack: packPath,
        nonce: 'abc',
        entries,
        all: Object.fromEntries(entries.map((e) => [e.name, e.sha256])),
        extras: [],
      });
      assert.equal(probe['t'], 'probe');
      assert.equal(reply['t'], 'error', JSON.stringify(reply));
      assert.equal(reply['message'], 'the uploaded agent-code.cjs differs from the bundle (the transfer was damaged; try again)');
      assert.equal(code, 1);
      assert.deepEqual(readdirSync(join(stateDir, 'agent')), [], 'no pack, no temporary directory, no version directory');
    });
  }
});
