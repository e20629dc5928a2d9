import type { AlertState } from '../prometheus/client.js';

// The alert's condition evaluated from the API, without Prometheus (DESIGN §4, `watch`): the count of Failed
// launchers against the threshold, since when it holds, and whether the alert would be pending or firing.
// Since when: the moment the threshold-th launcher that is still Failed terminated. The condition cannot have held
// before that moment, so the time held is a lower bound; when the count was seen below the threshold and crossing it
// during the watch, the crossing is the later (and better) bound.

/** The alert's `for` upstream (kubevirt pkg/monitoring/rules/alerts): the condition must hold this long to fire. */
export const ALERT_FOR_MS = 10 * 60_000;

/** The trend is the change over this long (or over the history there is). */
export const TREND_WINDOW_MS = 5 * 60_000;

export interface AlertConditionInput {
  count: number;
  /** Termination times (ms) of the Failed launchers; NaN where unknown. */
  terminationTimes: Iterable<number>;
  threshold: number;
  now: number;
  /** When the watch saw the count cross up to the threshold, if it did. */
  crossedAt?: number | undefined;
  history?: CountHistory | undefined;
  forMs?: number;
}

export interface Trend {
  /** Launchers per minute, positive when the count grows. */
  perMinute: number;
  /** The span the rate is measured over. */
  overMs: number;
}

export interface AlertConditionEvaluation {
  /** ISO time of the evaluation. */
  at: string;
  count: number;
  threshold: number;
  holds: boolean;
  /** ISO time since when the condition holds (a lower bound on how long); undefined when it does not. */
  since: string | undefined;
  heldMs: number;
  state: AlertState;
  trend: Trend | undefined;
}

/**
 * The threshold-th earliest termination among the Failed launchers, or undefined when there are fewer. Unknown
 * times sort last: such a pod may have ended just now, so it cannot make the condition older than it is.
 */
export function conditionSince(terminationTimes: Iterable<number>, threshold: number): number | undefined {
  if (threshold <= 0) return undefined;
  const times = Float64Array.from(terminationTimes, (time) =>
    Number.isNaN(time) ? Number.POSITIVE_INFINITY : time,
  );
  if (times.length < threshold) return undefined;
  times.sort();
  const since = times[threshold - 1];
  return since === undefined || since === Number.POSITIVE_INFINITY ? undefined : since;
}

export function evaluateAlertCondition(input: AlertConditionInput): AlertConditionEvaluation {
  const { count, threshold, now } = input;
  const holds = count >= threshold;
  let since: number | undefined;
  if (holds) {
    const estimate = conditionSince(input.terminationTimes, threshold);
    // No usable times: the condition holds at least since now.
    since = Math.max(estimate ?? now, input.crossedAt ?? Number.NEGATIVE_INFINITY);
    since = Math.min(since, now);
  }
  const heldMs = since === undefined ? 0 : now - since;
  const forMs = input.forMs ?? ALERT_FOR_MS;
  return {
    at: new Date(now).toISOString(),
    count,
    threshold,
    holds,
    since: since === undefined ? undefined : new Date(since).toISOString(),
    heldMs,
    state: !holds ? 'inactive' : heldMs >= forMs ? 'firing' : 'pending',
    trend: input.history?.trend(now),
  };
}

/**
 * The count over the last minutes, for the trend: one point per second at most (the first of that second) plus the
 * latest, points older than the window dropped, so it holds a few hundred numbers however fast pods change.
 */
export class CountHistory {
  readonly #windowMs: number;
  readonly #resolutionMs: number;
  #points: Array<{ at: number; count: number }> = [];
  #latest: { at: number; count: number } | undefined;

  constructor(windowMs: number = TREND_WINDOW_MS, resolutionMs = 1_000) {
    this.#windowMs = windowMs;
    this.#resolutionMs = resolutionMs;
  }

  record(at: number, count: number): void {
    this.#latest = { at, count };
    const last = this.#points.at(-1);
    if (last === undefined || at - last.at >= this.#resolutionMs) this.#points.push({ at, count });
    // Keep one point at or before the window's start, so the rate spans the whole window once it can.
    while (this.#points.length > 2 && (this.#points[1]?.at ?? at) <= at - this.#windowMs)
      this.#points.shift();
  }

  get size(): number {
    return this.#points.length;
  }

  /** Change per minute from the oldest point kept to the latest; undefined until there is a span to measure. */
  trend(now: number): Trend | undefined {
    const first = this.#points[0];
    const latest = this.#latest;
    if (first === undefined || latest === undefined) return undefined;
    const overMs = now - first.at;
    if (overMs <= 0) return undefined;
    return { perMinute: ((latest.count - first.count) / overMs) * 60_000, overMs };
  }
}
