/**
 * At most `limit` tasks run at once; the others queue in arrival order. Bounds the sockets and the memory held by
 * parallel requests (a page of 500 pods is a few MB).
 */
export class ConcurrencyLimit {
  readonly #limit: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency limit must be >= 1, got ${limit}`);
    this.#limit = limit;
  }

  get running(): number {
    return this.#running;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      const next = this.#queue.shift();
      // The slot passes straight to the next waiter, so #running only drops when nobody waits.
      if (next) next();
      else this.#running -= 1;
    }
  }
}
