// How the agent reads the outcome of the commands a fresh host's bridge costs (one
// `ip -batch`, one `nft` listing) when they fail: answers scripted here, because a kernel
// will not fail an `addr add` on a new bridge on request. The successful paths run
// against the real kernel in bridge.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpRoute } from '../../../agent/network/iproute.js';
import { readNftTable } from '../../../agent/network/nft-table.js';
import type { CommandOutput, CommandRunner } from '../../../agent/system/command.js';

/** Answers each command with the next scripted output, and records what was run. */
class ScriptedRunner implements CommandRunner {
  readonly ran: string[] = [];
  constructor(private readonly answers: CommandOutput[]) {}

  tryRun(argv: readonly string[]): Promise<CommandOutput> {
    this.ran.push(argv.join(' '));
    const next = this.answers.shift();
    if (!next) throw new Error(`unexpected command: ${argv.join(' ')}`);
    return Promise.resolve(next);
  }

  async run(argv: readonly string[]): Promise<CommandOutput> {
    const out = await this.tryRun(argv);
    if (out.code !== 0) throw new Error(`${argv.join(' ')} failed`);
    return out;
  }
}

const LINK_JSON = JSON.stringify([
  {
    ifname: 'tsi-web',
    mtu: 1400,
    flags: ['BROADCAST', 'UP'],
    linkinfo: { info_kind: 'bridge' },
    addr_info: [{ family: 'inet', local: '10.8.0.1', prefixlen: 24, scope: 'global' }],
  },
]);

describe('creating a bridge in one ip -batch', () => {
  test('returns the new link as ip read it back', async () => {
    const runner = new ScriptedRunner([{ code: 0, stdout: LINK_JSON, stderr: '' }]);
    const made = await new IpRoute(runner).tryCreateBridge('tsi-web', 1400, '10.8.0.1/24');
    assert.ok(made.made);
    assert.deepEqual(
      { kind: made.link.kind, mtu: made.link.mtu, up: made.link.up, addresses: made.link.addresses.map((a) => `${a.address}/${a.prefix}`) },
      { kind: 'bridge', mtu: 1400, up: true, addresses: ['10.8.0.1/24'] },
    );
    assert.deepEqual(runner.ran, ['ip -j -d -batch -']);
  });

  test('a failed first line means nothing was made (a link of that name exists, say)', async () => {
    const runner = new ScriptedRunner([{ code: 1, stdout: '', stderr: 'RTNETLINK answers: File exists\nCommand failed -:1\n' }]);
    const made = await new IpRoute(runner).tryCreateBridge('tsi-web', 1400, '10.8.0.1/24');
    assert.deepEqual(made.made ? 'made' : made.stage, 'add');
  });

  test('a failed later line means the link was made: the caller removes it', async () => {
    const runner = new ScriptedRunner([{ code: 1, stdout: '', stderr: 'Error: ipv4: Address already assigned.\nCommand failed -:2\n' }]);
    const made = await new IpRoute(runner).tryCreateBridge('tsi-web', 1400, '10.8.0.1/24');
    assert.deepEqual(made.made ? 'made' : made.stage, 'configure');
  });

  test('a read-back that cannot be parsed is a failure after the link was made', async () => {
    const runner = new ScriptedRunner([{ code: 0, stdout: 'not json', stderr: '' }]);
    const made = await new IpRoute(runner).tryCreateBridge('tsi-web', 1400, '10.8.0.1/24');
    assert.deepEqual(made.made ? 'made' : made.stage, 'configure');
  });

  test('a failure ip does not place is not taken as ours to remove', async () => {
    const runner = new ScriptedRunner([{ code: 255, stdout: '', stderr: 'Cannot open netlink socket: Permission denied\n' }]);
    const made = await new IpRoute(runner).tryCreateBridge('tsi-web', null, '10.8.0.1/24');
    assert.deepEqual(made.made ? 'made' : made.stage, 'add');
  });
});

describe("reading tsinfra's nftables table", () => {
  test("nft's ENOENT means no table, without asking again", async () => {
    const runner = new ScriptedRunner([{ code: 1, stdout: '', stderr: 'Error: No such file or directory\nlist table ip tsinfra\n              ^^^^^^^\n' }]);
    const table = await readNftTable(runner, 'tsinfra');
    assert.equal(table.exists, false);
    assert.deepEqual(runner.ran, ['nft -j list table ip tsinfra']);
  });

  test('another failure is checked against the list of tables', async () => {
    const runner = new ScriptedRunner([
      { code: 1, stdout: '', stderr: 'Error: Could not process rule: Device or resource busy\n' },
      { code: 0, stdout: JSON.stringify({ nftables: [{ metainfo: {} }, { table: { family: 'ip', name: 'other' } }] }), stderr: '' },
    ]);
    const table = await readNftTable(runner, 'tsinfra');
    assert.equal(table.exists, false);
    assert.deepEqual(runner.ran, ['nft -j list table ip tsinfra', 'nft -j list tables ip']);
  });
});
