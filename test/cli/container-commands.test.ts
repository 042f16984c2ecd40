// logs, exec and stats up to the agent: addresses resolved against the state with clear
// errors (no state, no such address with a suggestion, not a container, not created
// yet, several instances, a host no longer declared), command-line parsing, and one
// run against a real agent in a throw-away namespace to show the session is opened with
// the host's settings. Output from real containers is tested with the runtime.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveContainer, type ContainerTarget } from '../../cli/container-target.js';
import { parseEnvFlags, readPipedStdin, splitCommand } from '../../cli/exec-arguments.js';
import type { Diagnostic } from '../../plan-engine/diagnostics.js';
import { LocalBackend } from '../../state/local-backend.js';
import { newState, upsertResource, type ResourceInstanceState, type State } from '../../state/model.js';
import { Readable } from 'node:stream';
import { configDir, tsinfra } from './cli-harness.js';
import { openLab, type Lab } from './lab-workspace.js';

function instance(address: string, type: string, attributes: Record<string, unknown>, host = 'host.local'): ResourceInstanceState {
  const m = /^([a-z_]+)\.([a-z_]+)(?:\[(.+)\])?$/.exec(address)!;
  const index = m[3] === undefined ? undefined : m[3].startsWith('"') ? (JSON.parse(m[3]) as string) : Number(m[3]);
  return {
    address,
    type,
    name: m[2]!,
    ...(index !== undefined ? { index } : {}),
    host,
    attributes,
    sensitivePaths: [],
    dependencies: [],
    status: 'ready',
  };
}

function stateWith(...instances: ResourceInstanceState[]): State {
  const s = newState('0.1.0-test');
  for (const i of instances) upsertResource(s, i);
  return s;
}

const STATE = stateWith(
  instance('container.web', 'container', { id: '0123456789abcdef', image: 'x' }),
  instance('container.app[0]', 'container', { id: 'aaaaaaaaaaaaaaaa' }),
  instance('container.app[1]', 'container', { id: 'bbbbbbbbbbbbbbbb' }, 'host.other'),
  instance('container.kv["a"]', 'container', { id: 'cccccccccccccccc' }),
  instance('container.broken', 'container', { image: 'x' }),
  instance('network.front', 'network', { id: 'tsi-front-123456' }),
);

function resolve(arg: string, declared: string[] = [], state: State | null = STATE): ContainerTarget | Diagnostic {
  return resolveContainer(state, arg, (k) => declared.includes(k), '/cfg');
}

function code(r: ContainerTarget | Diagnostic): string {
  return 'severity' in r ? r.code : 'ok';
}

describe('container addresses', () => {
  test('single, counted and keyed instances resolve to their id and host', () => {
    assert.deepEqual(resolve('container.web'), { address: 'container.web', host: 'host.local', id: '0123456789abcdef' });
    assert.deepEqual(resolve('container.app[1]'), { address: 'container.app[1]', host: 'host.other', id: 'bbbbbbbbbbbbbbbb' });
    assert.deepEqual(resolve('container.kv["a"]'), { address: 'container.kv["a"]', host: 'host.local', id: 'cccccccccccccccc' });
  });

  test('mistakes are explained', () => {
    const cases: [string, string, RegExp, string[]?, (State | null)?][] = [
      ['container web', 'E_INVALID_ADDRESS', /not a resource address/],
      ['container.wbe', 'E_STATE_NO_MATCH', /Did you mean container\.web\?/],
      ['network.front', 'E_NOT_A_CONTAINER', /network\.front is a network/],
      ['container.app', 'E_STATE_AMBIGUOUS_ADDRESS', /container\.app\[0\], container\.app\[1\]/],
      ['container.app[7]', 'E_STATE_NO_MATCH', /Instances of container\.app: container\.app\[0\], container\.app\[1\]/],
      ['container.db', 'E_CONTAINER_NOT_CREATED', /tsinfra apply/, ['container.db']],
      ['container.broken', 'E_CONTAINER_NOT_CREATED', /tsinfra apply/],
      ['container.web', 'E_NO_STATE', /No state in \/cfg/, [], null],
      ['container.web', 'E_CONTAINER_NOT_CREATED', /tsinfra apply/, ['container.web'], null],
    ];
    for (const [arg, expected, says, declared, state] of cases) {
      const r = resolve(arg, declared ?? [], state === undefined ? STATE : state);
      assert.equal(code(r), expected, `${arg}: ${JSON.stringify(r)}`);
      const d = r as Diagnostic;
      assert.match(`${d.summary}\n${d.detail ?? ''}`, says, arg);
    }
  });
});

describe('exec arguments', () => {
  test('the command after -- is kept verbatim', () => {
    assert.deepEqual(splitCommand(['container.web', '--env', 'A=1', '--', 'ls', '-la', '--', 'x']), {
      own: ['container.web', '--env', 'A=1'],
      command: ['ls', '-la', '--', 'x'],
    });
    assert.deepEqual(splitCommand(['container.web']), { own: ['container.web'], command: undefined });
  });

  test('--env pairs', () => {
    assert.deepEqual(parseEnvFlags(['A=1', 'B=x=y', 'A=2', 'EMPTY=']), { A: '2', B: 'x=y', EMPTY: '' });
    assert.match(parseEnvFlags(['NOVALUE']) as string, /NAME=VALUE/);
    assert.match(parseEnvFlags(['=x']) as string, /NAME=VALUE/);
  });

  test('piped stdin is read to the end; a terminal is left alone', async () => {
    assert.equal(await readPipedStdin(Readable.from([Buffer.from('héllo\n'), Buffer.from('world')])), 'héllo\nworld');
    const tty = Object.assign(Readable.from([]), { isTTY: true });
    assert.equal(await readPipedStdin(tty), undefined);
  });
});

/** The JSON diagnostics a failed command printed on stderr. */
function diagnosticsOf(stderr: string): { code: string; summary: string; detail?: string }[] {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  assert.ok(line, `no JSON diagnostics on stderr:\n${stderr}`);
  return (JSON.parse(line) as { diagnostics: { code: string; summary: string; detail?: string }[] }).diagnostics;
}

describe('logs, exec and stats refuse what they cannot operate on', { concurrency: 4 }, () => {
  const HCL = `host "local" {\n  transport = "local"\n}\n\nresource "container" "web" {\n  image = "sha256:1111"\n}\n\nresource "container" "db" {\n  image = "sha256:1111"\n}\n`;
  let cfg: Awaited<ReturnType<typeof configDir>>;
  let empty: Awaited<ReturnType<typeof configDir>>;

  before(async () => {
    cfg = await configDir({ 'main.hcl': HCL });
    // container.db is declared but not in state; host.other is no longer declared.
    await new LocalBackend({ dir: cfg.dir }).writeState(
      stateWith(
        instance('container.web', 'container', { id: '0123456789abcdef' }),
        instance('container.old', 'container', { id: 'dddddddddddddddd' }, 'host.other'),
        instance('network.front', 'network', { id: 'tsi-front-123456' }),
      ),
    );
    empty = await configDir({ 'main.hcl': HCL });
  });
  after(async () => {
    await cfg?.remove();
    await empty?.remove();
  });

  const cases: { name: string; args: (dir: string) => string[]; code: string; says: RegExp; inEmpty?: boolean }[] = [
    { name: 'logs without state', args: (d) => ['logs', 'container.zzz', '--dir', d, '--json'], code: 'E_NO_STATE', says: /tsinfra apply/, inEmpty: true },
    { name: 'logs of a misspelled address', args: (d) => ['logs', 'container.wbe', '--dir', d, '--json'], code: 'E_STATE_NO_MATCH', says: /container\.web/ },
    { name: 'logs of a network', args: (d) => ['logs', 'network.front', '--dir', d, '--json'], code: 'E_NOT_A_CONTAINER', says: /network/ },
    {
      name: 'logs of a container not created yet',
      args: (d) => ['logs', 'container.db', '--dir', d, '--json'],
      code: 'E_CONTAINER_NOT_CREATED',
      says: /apply/,
    },
    {
      name: 'exec on a container not created yet',
      args: (d) => ['exec', 'container.db', '--dir', d, '--json', '--', 'true'],
      code: 'E_CONTAINER_NOT_CREATED',
      says: /apply/,
    },
    {
      name: 'stats of several addresses reports each mistake',
      args: (d) => ['stats', 'container.db', 'network.front', '--dir', d, '--json'],
      code: 'E_NOT_A_CONTAINER',
      says: /network/,
    },
    {
      name: 'stats of a container on a host no longer declared',
      args: (d) => ['stats', 'container.old', '--dir', d, '--json'],
      code: 'E_UNKNOWN_HOST',
      says: /host\.other/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = await tsinfra(c.args(c.inEmpty ? empty.dir : cfg.dir));
      assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      assert.equal(r.stdout, '');
      const ds = diagnosticsOf(r.stderr);
      const d = ds.find((x) => x.code === c.code);
      assert.ok(d, `expected ${c.code}, got ${JSON.stringify(ds)}`);
      assert.match(`${d.summary}\n${d.detail ?? ''}`, c.says);
    });
  }

  test('stats of several bad addresses reports them all', async () => {
    const r = await tsinfra(['stats', 'container.db', 'network.front', 'container.nope', '--dir', cfg.dir, '--json']);
    assert.equal(r.code, 1);
    assert.deepEqual(
      diagnosticsOf(r.stderr)
        .map((d) => d.code)
        .sort(),
      ['E_CONTAINER_NOT_CREATED', 'E_NOT_A_CONTAINER', 'E_STATE_NO_MATCH'],
    );
  });

  test('exec needs the command after --, and well-formed --env', async () => {
    const noCommand = await tsinfra(['exec', 'container.web', '--dir', cfg.dir]);
    assert.equal(noCommand.code, 1);
    assert.match(noCommand.stderr, /after --/);
    const emptyCommand = await tsinfra(['exec', 'container.web', '--dir', cfg.dir, '--']);
    assert.equal(emptyCommand.code, 1);
    assert.match(emptyCommand.stderr, /after --/);
    const badEnv = await tsinfra(['exec', 'container.web', '--dir', cfg.dir, '--env', 'NOVALUE', '--', 'true']);
    assert.equal(badEnv.code, 1);
    assert.match(badEnv.stderr, /NAME=VALUE/);
  });

  test('logs needs an address; --tail a number', async () => {
    const none = await tsinfra(['logs', '--dir', cfg.dir]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /address/i);
    const tail = await tsinfra(['logs', 'container.web', '--tail', 'x', '--dir', cfg.dir]);
    assert.equal(tail.code, 1);
    assert.match(tail.stderr, /tail/);
  });

  test('stats without containers prints an empty table, or an empty list with --json', async () => {
    const human = await tsinfra(['stats', '--dir', empty.dir]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /No containers/);
    const json = await tsinfra(['stats', '--dir', empty.dir, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual((JSON.parse(json.stdout) as { containers: unknown[] }).containers, []);
  });
});

describe('logs, exec and stats reach the host agent', () => {
  let lab: Lab;

  before(async () => {
    lab = await openLab((netns) => ({
      'main.hcl': `variable "ns" {\n  type = string\n}\n\nhost "lab" {\n  transport = "local"\n  netns     = var.ns\n}\n\nresource "container" "web" {\n  host  = host.lab\n  image = "sha256:1111"\n}\n`,
      'lab.auto.vars.hcl': `ns = "${netns}"\n`,
    }));
    await new LocalBackend({ dir: lab.cfg.dir }).writeState(stateWith(instance('container.web', 'container', { id: 'ffffffffffffffff' }, 'host.lab')));
  });
  after(async () => {
    await lab?.close();
  });

  // The container does not exist on the agent's host: whatever the agent answers, the
  // command got a session to the host the configuration names (its netns from a
  // variable) and reports the agent's answer.
  test('logs reports what the agent answers, naming the container', async () => {
    const r = await tsinfra(['logs', 'container.web', '--dir', lab.cfg.dir, '--json'], { env: lab.env });
    assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const [d] = diagnosticsOf(r.stderr);
    assert.match(d!.code, /^E_[A-Z_]+$/);
    assert.match(d!.summary, /Cannot read the logs of container\.web: /);
  });

  test('exec reports what the agent answers, naming the command', async () => {
    const r = await tsinfra(['exec', 'container.web', '--dir', lab.cfg.dir, '--json', '--', 'cat', '/etc/hostname'], { env: lab.env, input: 'in' });
    assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.match(diagnosticsOf(r.stderr)[0]!.summary, /Cannot run cat in container\.web: /);
  });

  test('stats shows the container, found or not', async () => {
    const r = await tsinfra(['stats', '--dir', lab.cfg.dir, '--json'], { env: lab.env });
    assert.ok(r.code === 0 || r.code === 1, r.stderr);
    const doc = JSON.parse(r.stdout) as { containers: { address: string; id: string; found: boolean; error?: { code: string } }[] };
    assert.equal(doc.containers.length, 1);
    assert.equal(doc.containers[0]!.address, 'container.web');
    assert.equal(doc.containers[0]!.id, 'ffffffffffffffff');
    assert.equal(doc.containers[0]!.found, false);
  });
});
