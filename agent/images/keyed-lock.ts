// An in-process lock per key: two imports that need the same layer unpack it once (the
// second waits, then finds it in the store), and store-wide changes run one at a time.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` is done. */
  async with<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // The last holder removes the key, so that the map does not grow with every layer.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
