import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend, LockHandle } from '../../state/backend.js';
import { cloneState, newState, upsertResource, type State } from '../../state/model.js';
import { StateWriter } from '../../state/state-writer.js';

/** Records writes; each takes a few event-loop turns, and overlapping writes are counted. */
class RecordingBackend implements Backend {
  writes: State[] = [];
  inFlight = 0;
  maxInFlight = 0;
  failNext = false;
  async readState(): Promise<State | null> {
    return this.writes.at(-1) ?? null;
  }
  async writeState(s: State): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(2);
      if (this.failNext) {
        this.failNext = false;
        throw new Error('disk full');
      }
      this.writes.push(cloneState(s));
    } finally {
      this.inFlight--;
    }
  }
  lock(): Promise<LockHandle> {
    throw new Error('not used');
  }
  forceUnlock(): Promise<void> {
    throw new Error('not used');
  }
  describe(): string {
    return 'memory';
  }
}

function addInstance(s: State, n: number): void {
  upsertResource(s, {
    address: `volume.v[${n}]`,
    type: 'volume',
    name: 'v',
    index: n,
    host: 'host.local',
    attributes: { n },
    sensitivePaths: [],
    dependencies: [],
    status: 'ready',
  });
}

describe('state writer', () => {
  test('concurrent persists never overlap and serials grow by one per write', async () => {
    const backend = new RecordingBackend();
    const stored = newState('t');
    stored.serial = 5;
    const w = new StateWriter(backend, stored);
    const s = cloneState(stored);
    const done: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      addInstance(s, i);
      done.push(w.persist(s));
      if (i % 3 === 0) await sleep(1);
    }
    await Promise.all(done);
    await w.flush();
    assert.equal(backend.maxInFlight, 1);
    assert.ok(backend.writes.length >= 1 && backend.writes.length <= 20);
    assert.deepEqual(
      backend.writes.map((x) => x.serial),
      backend.writes.map((_, i) => 6 + i),
    );
    assert.equal(backend.writes.at(-1)!.resources.length, 20, 'the last write holds every change');
    assert.equal(w.current?.serial, 5 + backend.writes.length);
    assert.equal(s.serial, 5, "the caller's object is not touched");
  });

  test('an unchanged state is not written and keeps its serial', async () => {
    const backend = new RecordingBackend();
    const stored = newState('t');
    stored.serial = 2;
    const w = new StateWriter(backend, stored);
    await w.persist(cloneState(stored));
    assert.equal(backend.writes.length, 0);
    const s = cloneState(stored);
    addInstance(s, 1);
    await w.persist(s);
    await w.persist(s);
    await w.flush();
    assert.deepEqual(
      backend.writes.map((x) => x.serial),
      [3],
    );
  });

  test('a new state starts at serial 1', async () => {
    const backend = new RecordingBackend();
    const w = new StateWriter(backend, null);
    const s = newState('t');
    await w.persist(s);
    assert.deepEqual(
      backend.writes.map((x) => x.serial),
      [1],
    );
  });

  test('a failed write rejects its persist and flush, until a later write succeeds', async () => {
    const backend = new RecordingBackend();
    const w = new StateWriter(backend, null);
    const s = newState('t');
    backend.failNext = true;
    await assert.rejects(w.persist(s), /disk full/);
    await assert.rejects(w.flush(), /disk full/);
    addInstance(s, 1);
    await w.persist(s);
    await w.flush();
    assert.deepEqual(
      backend.writes.map((x) => x.serial),
      [1],
    );
  });
});
