// The supervisor's pure parts: the lifecycle state machine, the restart decision and
// back-off, and log rotation (on a real directory).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canTransition, ContainerLifecycle } from '../../../agent/supervisor/container-status.js';
import { Backoff, BACKOFF_MAX_MS, shouldRestart } from '../../../agent/supervisor/restart-backoff.js';
import { ContainerLog } from '../../../agent/supervisor/log-files.js';

describe('container lifecycle', () => {
  test('the moves a container has', () => {
    const c = new ContainerLifecycle('container.web');
    for (const to of ['creating', 'created', 'running', 'paused', 'running', 'stopped', 'creating', 'stopped'] as const) c.transition(to);
    assert.equal(c.status, 'stopped');
  });

  test('a move it does not have is a user error naming the container', () => {
    const c = new ContainerLifecycle('container.web');
    assert.throws(
      () => c.transition('paused'),
      (e: Error & { code?: string }) => e.code === 'E_CONTAINER_STATE' && /container\.web is stopped: it cannot become paused/.test(e.message),
    );
    assert.equal(canTransition('created', 'paused'), false);
    assert.equal(canTransition('paused', 'stopped'), true);
  });
});

describe('restart policy', () => {
  test('which exits restart', () => {
    assert.equal(shouldRestart({ policy: 'no' }, 1, 0, false), false);
    assert.equal(shouldRestart({ policy: 'on-failure', maxRetries: 3 }, 3, 2, false), true);
    assert.equal(shouldRestart({ policy: 'on-failure', maxRetries: 3 }, 3, 3, false), false);
    assert.equal(shouldRestart({ policy: 'on-failure' }, 0, 0, false), false);
    assert.equal(shouldRestart({ policy: 'on-failure' }, null, 0, false), true, 'an unknown status counts as a failure');
    assert.equal(shouldRestart({ policy: 'always' }, 0, 50, false), true);
    assert.equal(shouldRestart({ policy: 'unless-stopped' }, 0, 0, true), false, 'a stop the user asked for never restarts');
  });

  test('back-off doubles from 100 ms to a one-minute cap and starts over after 10 s up', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 12 }, () => b.next(50));
    assert.deepEqual(delays.slice(0, 5), [100, 200, 400, 800, 1600]);
    assert.equal(Math.max(...delays), BACKOFF_MAX_MS);
    assert.equal(delays.at(-1), BACKOFF_MAX_MS);
    assert.equal(b.next(10_000), 100);
    assert.equal(b.next(20), 200);
  });
});

describe('container log files', () => {
  test('JSON lines, rotated by size, read back across the rotations', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsit-log-'));
    try {
      const log = new ContainerLog(dir, 400, 3);
      for (let i = 0; i < 30; i++) log.write(i % 2 ? 'stderr' : 'stdout', `line ${i}`);
      log.close();
      assert.ok(existsSync(join(dir, 'container.log.1')) && existsSync(join(dir, 'container.log.2')));
      assert.ok(!existsSync(join(dir, 'container.log.3')), 'only 3 files are kept');
      for (const f of ['container.log', 'container.log.1']) assert.ok(readFileSync(join(dir, f)).length <= 400);
      const first = JSON.parse(readFileSync(join(dir, 'container.log'), 'utf8').split('\n')[0]!) as Record<string, unknown>;
      assert.deepEqual(Object.keys(first).sort(), ['log', 'stream', 'time']);
      const all = new ContainerLog(dir, 400, 3).read();
      assert.equal(all.at(-1)?.data, 'line 29');
      assert.equal(all.at(-1)?.stream, 'stderr');
      assert.ok(all.length < 30, 'the oldest lines rotated away');
      assert.deepEqual(
        new ContainerLog(dir, 400, 3).read(2).map((e) => e.data),
        ['line 28', 'line 29'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('followers get new entries until they stop', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsit-log-'));
    try {
      const log = new ContainerLog(dir);
      const seen: string[] = [];
      const stop = log.follow((e) => seen.push(e.data));
      log.write('stdout', 'a');
      stop();
      log.write('stdout', 'b');
      log.close();
      assert.deepEqual(seen, ['a']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
