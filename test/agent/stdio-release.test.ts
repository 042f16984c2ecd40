// releaseStdio (agent/system/stdio-release.ts) in a child process whose stdio are pipes,
// as a session agent's are: afterwards fds 0-2 are /dev/null. The child answers over the
// IPC channel (fd 3), since its stdout is gone by then.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../agent/system/stdio-release.js', import.meta.url));

interface Outcome {
  readonly how: string;
  readonly fds: string[];
  readonly koffi: boolean;
}

/** Runs releaseStdio in a child; `busy` keeps a file request in flight on libuv's pool the whole time. */
async function releaseInChild(busy: boolean): Promise<Outcome> {
  const script = `
    const fs = require('node:fs');
    if (${busy}) { let on = true; const again = () => { if (on) fs.stat('/', again); }; again(); setTimeout(() => (on = false), 3000).unref(); }
    import(${JSON.stringify(MODULE)}).then(async ({ releaseStdio }) => {
      const how = await releaseStdio();
      const fds = [0, 1, 2].map((fd) => fs.readlinkSync('/proc/self/fd/' + fd));
      const koffi = fs.readFileSync('/proc/self/maps', 'utf8').includes('koffi');
      process.send({ how, fds, koffi }, () => process.exit(0));
    });
  `;
  const child = fork('-e', [script], { execArgv: [], stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  // fork runs `node -e script`: '-e' stands where the module's path would.
  child.stdout!.resume();
  child.stderr!.resume();
  return new Promise<Outcome>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Outcome));
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) without an answer`)));
  });
}

describe('releaseStdio', () => {
  test('swaps fds 0-2 onto /dev/null without loading koffi', async () => {
    const outcome = await releaseInChild(false);
    assert.equal(outcome.how, 'swapped');
    assert.deepEqual(outcome.fds, ['/dev/null', '/dev/null', '/dev/null']);
    assert.equal(outcome.koffi, false);
  });

  test('with file requests in flight all along, falls back to dup2', async () => {
    const outcome = await releaseInChild(true);
    assert.equal(outcome.how, 'dup2');
    assert.deepEqual(outcome.fds, ['/dev/null', '/dev/null', '/dev/null']);
    assert.equal(outcome.koffi, true);
  });
});
