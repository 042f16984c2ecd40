// LVM facts: the vgs JSON report parsed, and what is reported when vgs is missing or
// fails. lvm2 is not installed on every test machine, so a stand-in `vgs` script prints
// a recorded report (and its argv, to check the options the agent passes).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { lvmFacts, parseVgsReport } from '../../agent/facts.js';
import { silentLog } from '../../agent/log.js';
import { ProcessRunner } from '../../agent/system/command.js';

const runner = new ProcessRunner(silentLog);
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsit-vgs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** lvm2 2.03's output for two volume groups. */
const REPORT = `  {
      "report": [
          {
              "vg": [
                  {"vg_name":"data", "vg_size":"107369988096", "vg_free":"53687091200"},
                  {"vg_name":"ubuntu-vg", "vg_size":"31675383808", "vg_free":"0"}
              ]
          }
      ]
      ,
      "log": [
      ]
  }
`;

async function fakeVgs(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o700);
  return path;
}

test('the vgs JSON report gives each volume group with its size and free bytes', () => {
  assert.deepEqual(parseVgsReport(REPORT), [
    { name: 'data', size_bytes: 107369988096, free_bytes: 53687091200 },
    { name: 'ubuntu-vg', size_bytes: 31675383808, free_bytes: 0 },
  ]);
  // Older lvm2 prints a unit letter or decimals; no volume groups is an empty list.
  assert.deepEqual(parseVgsReport('{"report":[{"vg":[{"vg_name":"v","vg_size":"4194304B","vg_free":"1024.00"}]}]}'), [
    { name: 'v', size_bytes: 4194304, free_bytes: 1024 },
  ]);
  assert.deepEqual(parseVgsReport('{"report":[{"vg":[]}]}'), []);
  assert.deepEqual(parseVgsReport('not json'), []);
});

test('without vgs, LVM is reported absent', async () => {
  assert.deepEqual(await lvmFacts(runner, null), { present: false, volume_groups: [] });
});

test('vgs is asked for a JSON report in bytes and its volume groups are returned', async () => {
  const argvFile = join(dir, 'argv');
  const vgs = await fakeVgs('vgs-ok', `echo "$@" > ${argvFile}\ncat <<'EOF'\n${REPORT}EOF`);
  const lvm = await lvmFacts(runner, vgs);
  assert.equal(lvm.present, true);
  assert.deepEqual(
    lvm.volume_groups.map((v) => v.name),
    ['data', 'ubuntu-vg'],
  );
  assert.equal(lvm.error, undefined);
  assert.equal((await readFile(argvFile, 'utf8')).trim(), '--reportformat json --units b --nosuffix -o vg_name,vg_size,vg_free');
});

test('a failing vgs still reports LVM present, with the reason', async () => {
  const vgs = await fakeVgs('vgs-fail', 'echo "  /dev/mapper/control: open failed: Permission denied" >&2\nexit 5');
  assert.deepEqual(await lvmFacts(runner, vgs), {
    present: true,
    volume_groups: [],
    error: 'vgs failed (exit 5): /dev/mapper/control: open failed: Permission denied',
  });
});
