// The agent bundle: what it holds, its version, what a host of each architecture gets,
// and that it runs from a directory with no node_modules anywhere above it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { brotliDecompressSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AGENT_VERSION } from '../../../agent/version.js';
import { buildAgentBundle, hostBundle, readAgentBundle, sealAgentBundle, sha256, type AgentBundle } from '../../../transport/install/agent-bundle.js';
import { hostArch } from '../../../transport/install/host-arch.js';

const run = promisify(execFile);

/** Runs a program with `input` on stdin to its end. */
function runWithInput(file: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env }, (e, stdout) => (e ? reject(e) : resolve({ stdout })));
    child.stdin!.end(input);
  });
}

describe('agent bundle', () => {
  let scratch: string;
  let bundle: AgentBundle;
  before(async () => {
    // In /tmp, with no node_modules above: the bundle must find koffi's module by itself.
    scratch = mkdtempSync('/tmp/tsit-bundle-');
    bundle = await buildAgentBundle({ outDir: join(scratch, 'bundle') });
  });
  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  test('holds the launcher, the code with its V8 code cache, and koffi modules, listed with their checksums in agent.json', () => {
    assert.match(bundle.version, new RegExp(`^${AGENT_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    assert.equal(bundle.node, '>=20');
    for (const name of ['agent.mjs', 'agent-code.cjs', 'agent-code.cache']) assert.ok(bundle.files[name], name);
    // The cache is made by running the bundle; this machine's Node.js accepts it.
    const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(join(bundle.dir, 'agent-code.cjs'), 'utf8')}\n})`;
    const script = new Script(source, { filename: join(bundle.dir, 'agent-code.cjs'), cachedData: readFileSync(join(bundle.dir, 'agent-code.cache')) });
    assert.equal(script.cachedDataRejected, false);
    // What the SSH transport uploads: each file brotli-compressed at build time, by checksum;
    // koffi's modules ship compressed already (unpacked on a host when first loaded).
    for (const [name, sum] of Object.entries(bundle.files)) {
      if (name.endsWith('.br')) assert.equal(existsSync(join(bundle.dir, 'compressed', `${sum}.br`)), false, name);
      else assert.deepEqual(brotliDecompressSync(readFileSync(join(bundle.dir, 'compressed', `${sum}.br`))), readFileSync(join(bundle.dir, name)), name);
    }
    assert.ok(bundle.files['koffi/linux_x64/koffi.node.br'], Object.keys(bundle.files).join(', '));
    const manifest = JSON.parse(readFileSync(join(bundle.dir, 'agent.json'), 'utf8')) as { version: string; files: Record<string, string> };
    assert.equal(manifest.version, bundle.version);
    assert.deepEqual(manifest.files, bundle.files);
  });

  test('the same sources give the same version (V8 does not make the same cache twice: it is not counted); a changed file gives another', async () => {
    const again = await buildAgentBundle({ outDir: join(scratch, 'again') });
    assert.equal(again.version, bundle.version);
    cpSync(bundle.dir, join(scratch, 'recached'), { recursive: true });
    appendFileSync(join(scratch, 'recached', 'agent-code.cache'), 'x');
    assert.equal(sealAgentBundle(join(scratch, 'recached')).version, bundle.version);
    cpSync(bundle.dir, join(scratch, 'changed'), { recursive: true });
    appendFileSync(join(scratch, 'changed', 'agent.mjs'), '\n');
    assert.notEqual(sealAgentBundle(join(scratch, 'changed')).version, bundle.version);
  });

  test('a damaged bundle is refused', () => {
    cpSync(bundle.dir, join(scratch, 'damaged'), { recursive: true });
    appendFileSync(join(scratch, 'damaged', 'koffi/linux_x64/koffi.node.br'), 'x');
    assert.throws(() => readAgentBundle(join(scratch, 'damaged')), /koffi\/linux_x64\/koffi\.node\.br differs from agent\.json/);
  });

  test("koffi's module is unpacked when first loaded, checked against the build's checksum, and unpacked again when damaged", async () => {
    const dir = join(scratch, 'unpack');
    cpSync(bundle.dir, dir, { recursive: true });
    const env = { ...process.env, TSINFRA_AGENT_STATE_DIR: join(scratch, 'state-unpack'), TSINFRA_AGENT_RUN_DIR: join(scratch, 'run-unpack') };
    // The init loads koffi before it looks at its arguments: its usage message means koffi loaded.
    const init = () =>
      run(process.execPath, [join(dir, 'agent.mjs'), 'init'], { env }).then(
        () => assert.fail('the init ran without its arguments'),
        (e: { code: number; stderr: string }) => e,
      );
    const unpacked = join(dir, 'host-cache', 'koffi', 'linux_x64', 'koffi.node');
    const original = brotliDecompressSync(readFileSync(join(dir, 'koffi', 'linux_x64', 'koffi.node.br')));
    assert.equal(existsSync(unpacked), false, 'nothing is unpacked before koffi is needed');

    assert.equal((await init()).code, 2);
    assert.deepEqual(readFileSync(unpacked), original);
    assert.equal(statSync(unpacked).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dirname(unpacked)), ['koffi.node'], 'no temporary file is left');
    // Not one of the bundle's files.
    assert.equal(sealAgentBundle(dir).version, bundle.version);

    writeFileSync(unpacked, 'truncated');
    assert.equal((await init()).code, 2, 'a damaged unpacked module is unpacked again');
    assert.deepEqual(readFileSync(unpacked), original);

    rmSync(unpacked);
    const packed = join(dir, 'koffi', 'linux_x64', 'koffi.node.br');
    writeFileSync(packed, readFileSync(packed).subarray(0, 1000));
    const failed = await init();
    assert.notEqual(failed.code, 2);
    assert.match(
      failed.stderr,
      /koffi\.node\.br does not unpack to the module this agent was built with: the installed agent is damaged; apply again to repair it/,
    );
    assert.equal(existsSync(unpacked), false);
  });

  test('a host gets the agent files and the koffi modules of its architecture, with a manifest of just those', () => {
    const x64 = hostBundle(bundle, hostArch('x86_64')!);
    assert.ok(x64);
    assert.equal(x64.version, bundle.version);
    const names = Object.keys(x64.files).sort();
    assert.deepEqual(
      names.filter((n) => !n.startsWith('koffi/musl_')),
      ['agent-code.cache', 'agent-code.cjs', 'agent.json', 'agent.mjs', 'koffi/linux_x64/koffi.node.br'],
    );
    assert.equal(x64.files['agent.json'], sha256(x64.manifest));
    assert.deepEqual(
      Object.keys((JSON.parse(x64.manifest) as { files: object }).files).sort(),
      names.filter((n) => n !== 'agent.json'),
    );
    // npm installs koffi's module for this machine's architecture only.
    const other = process.arch === 'arm64' ? 'x86_64' : 'aarch64';
    assert.equal(hostBundle(bundle, hostArch(other)!), undefined);
    assert.equal(hostArch('sparc64'), undefined);
    // A host whose C library is known gets that module only.
    const koffiOf = (libc: 'glibc' | 'musl') => Object.keys(hostBundle(bundle, hostArch('x86_64', libc)!)!.files).filter((n) => n.startsWith('koffi/'));
    assert.deepEqual(koffiOf('glibc'), ['koffi/linux_x64/koffi.node.br']);
    assert.deepEqual(koffiOf('musl'), ['koffi/musl_x64/koffi.node.br']);
  });

  test('a code cache this Node.js refuses: the code is compiled, and the session agent leaves a cache of its own for the next starts', async () => {
    const dir = join(scratch, 'refused');
    cpSync(bundle.dir, dir, { recursive: true });
    writeFileSync(join(dir, 'agent-code.cache'), 'not a V8 code cache');
    const env = { ...process.env, TSINFRA_AGENT_STATE_DIR: join(scratch, 'state-refused'), TSINFRA_AGENT_RUN_DIR: join(scratch, 'run-refused') };
    const hello = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { clientVersion: 'test', protocol: 1 } });
    const { stdout } = await runWithInput(process.execPath, [join(dir, 'agent.mjs')], env, hello + '\n');
    assert.match(stdout, /"agentVersion"/);
    const made = join(dir, 'host-cache', `${process.version}-${process.arch}.cache`);
    assert.ok(existsSync(made), 'host-cache/ has a cache for this Node.js');
    assert.equal(statSync(made).mode & 0o777, 0o600);
    const source = `(function (exports, require, module, __filename, __dirname) {${readFileSync(join(dir, 'agent-code.cjs'), 'utf8')}\n})`;
    assert.equal(new Script(source, { filename: join(dir, 'agent-code.cjs'), cachedData: readFileSync(made) }).cachedDataRejected, false);
    // Not one of the bundle's files: sealing the directory again leaves it out.
    const sealed = sealAgentBundle(dir);
    assert.equal(sealed.version, bundle.version);
    assert.deepEqual(
      Object.keys(sealed.files).filter((n) => n.startsWith('host-cache')),
      [],
    );
  });

  test('runs from its own directory: the agent answers hello; the other programs check their arguments', async () => {
    const hello = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { clientVersion: 'test', protocol: 1 } });
    const env = { ...process.env, TSINFRA_AGENT_STATE_DIR: join(scratch, 'state'), TSINFRA_AGENT_RUN_DIR: join(scratch, 'run') };
    const child = execFile(process.execPath, [join(bundle.dir, 'agent.mjs')], { env });
    child.stdin!.end(hello + '\n');
    const out = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      child.on('close', () => resolve(text));
    });
    const answer = JSON.parse(out.split('\n')[0]!) as { result: { agentVersion: string; nodeVersion: string } };
    // The bundle's own version (its files' hash), which the engine compares with its bundle's.
    assert.equal(answer.result.agentVersion, bundle.version);
    assert.ok(bundle.version.startsWith(`${AGENT_VERSION}-`), bundle.version);
    assert.equal(answer.result.nodeVersion, process.version);

    // The init loads koffi (libc bindings) before it looks at its FIFOs: its usage message means koffi loaded.
    await assert.rejects(run(process.execPath, [join(bundle.dir, 'agent.mjs'), 'init'], { env }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /usage: init-main\.js create\|exec IN_FIFO OUT_FIFO/);
      return true;
    });
    await assert.rejects(run(process.execPath, [join(bundle.dir, 'agent.mjs'), 'bogus'], { env }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /unknown program "bogus"/);
      return true;
    });
  });
});
