// Assertions of the real-kernel network tests: a command in a throw-away namespace that
// must succeed, and an agent call that must fail with a given code.
import assert from 'node:assert/strict';
import { isAgentFailure } from '../../../agent/rpc/failure.js';
import { inNetns } from '../throwaway-netns.js';

/** Runs a command in the namespace and returns its stdout; any other exit than 0 fails the test. */
export async function must(netns: string, argv: readonly string[]): Promise<string> {
  const out = await inNetns(netns, argv);
  assert.equal(out.code, 0, `${argv.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

/** `p` rejects with an AgentFailure of `code`, whose message matches `message` when given. */
export async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isAgentFailure(e), `expected an AgentFailure, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}
