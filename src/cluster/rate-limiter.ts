import type { Clock } from './clock.js';

export interface TokenBucketOptions {
  /** Sustained requests per second; 0 or Infinity turns the limiter off. */
  qps: number;
  /** Requests that may go out at once after a quiet period (at least 1). */
  burst: number;
  clock: Clock;
}

/**
 * A token bucket like client-go's flowcontrol limiter (kubectl: 5 QPS, burst 10): the bucket starts full, refills
 * at qps, and every request takes one token. A caller that finds it empty reserves the next token and sleeps until
 * it is due, so waiting callers are served in arrival order and the rate holds however many callers there are.
 */
export class TokenBucket {
  readonly #qps: number;
  #lifted = false;
  readonly #burst: number;
  readonly #clock: Clock;
  /** May go negative: each waiting caller has reserved a token that is not minted yet. */
  #tokens: number;
  #last: number;
  #waitedMs = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.qps >= 0)) throw new RangeError(`qps must be >= 0, got ${options.qps}`);
    this.#qps = options.qps;
    this.#burst = Math.max(1, Math.floor(options.burst));
    this.#clock = options.clock;
    this.#tokens = this.#burst;
    this.#last = options.clock.now();
  }

  get unlimited(): boolean {
    return this.#lifted || this.#qps === 0 || this.#qps === Number.POSITIVE_INFINITY;
  }

  /**
   * Lets every caller through from now on. Callers already sleeping keep their reservation: they were due within
   * a second at the old rate.
   */
  lift(): void {
    this.#lifted = true;
  }

  /** Total time callers have been held back, for benchmarks. */
  get waitedMs(): number {
    return this.#waitedMs;
  }

  /** Waits until the caller may send one request. */
  async take(signal?: AbortSignal): Promise<void> {
    if (this.unlimited) return;
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return;
    const waitMs = (-this.#tokens / this.#qps) * 1000;
    this.#waitedMs += waitMs;
    try {
      await this.#clock.sleep(waitMs, signal);
    } catch (error) {
      // An abandoned reservation gives its token back, so an aborted caller does not slow the others down.
      this.#tokens += 1;
      throw error;
    }
  }
}
