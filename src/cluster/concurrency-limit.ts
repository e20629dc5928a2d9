/**
 * At most `limit` tasks run at once; the others queue in arrival order. Bounds the sockets and the memory held by
 * parallel requests (a page of 500 pods is a few MB).
 *
 * The limit adapts to an API server under pressure, as TCP's congestion window does (additive increase,
 * multiplicative decrease): throttled() halves it (API Priority and Fairness answered 429, so fewer requests at
 * once is what it asks for), and each run of successes as long as the current limit grows it back by one, up to
 * the cap it was built with. Tasks already running when the limit drops finish; no new one starts until the
 * number running is under the new limit.
 */
export class ConcurrencyLimit {
  readonly #max: number;
  #limit: number;
  #running = 0;
  #successes = 0;
  readonly #queue: Array<() => void> = [];

  constructor(limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency limit must be >= 1, got ${limit}`);
    this.#max = limit;
    this.#limit = limit;
  }

  get running(): number {
    return this.#running;
  }

  /** The limit in force now (between 1 and the cap). */
  get limit(): number {
    return this.#limit;
  }

  /** The cap it was built with, the most the limit grows back to. */
  get max(): number {
    return this.#max;
  }

  /** The server pushed back (429): halve the limit, and start counting successes again. */
  throttled(): void {
    this.#limit = Math.max(1, Math.floor(this.#limit / 2));
    this.#successes = 0;
  }

  /** One request succeeded: after as many in a row as the current limit, allow one more at once. */
  succeeded(): void {
    if (this.#limit >= this.#max) return;
    this.#successes += 1;
    if (this.#successes >= this.#limit) {
      this.#successes = 0;
      this.#limit += 1;
      this.#wake();
    }
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#limit) {
      // The slot is counted for us by whoever wakes us (#wake), so #running never over-counts a waiter.
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await task();
    } finally {
      this.#running -= 1;
      this.#wake();
    }
  }

  /** Starts queued tasks while there is room under the limit. */
  #wake(): void {
    while (this.#running < this.#limit) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#running += 1;
      next();
    }
  }
}
