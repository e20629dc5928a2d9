// When to send a request again, and after how long. The API server asks for it (429 from API Priority and Fairness,
// with Retry-After: 1 today, kubernetes/kubernetes#117734), or it is briefly unwell (5xx, a reset connection while
// it restarts). client-go retries these up to 10 times (rest/request.go, rest/with_retry.go); client-node never
// does, so this module is ours.

export interface RetryPolicyOptions {
  /** Retries after the first attempt (client-go: 10). */
  maxRetries: number;
  /** First backoff; doubles each retry. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Upper bound on a server's Retry-After, so a misconfigured proxy cannot park us for an hour. */
  maxRetryAfterMs: number;
  /** In [0, 1); injected so that tests are deterministic. */
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: Omit<RetryPolicyOptions, 'random'> = {
  maxRetries: 10,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export type AttemptOutcome =
  | { kind: 'status'; statusCode: number; retryAfterSeconds?: number | undefined }
  | { kind: 'transport'; errorCode: string | undefined };

/**
 * Methods whose repetition leaves the cluster as one request would. DELETE qualifies (a repeat finds the object
 * gone: 404, which callers treat as done); so does a merge patch (applying the same patch twice gives the same
 * object). A POST creates, so it does not, unless it only asks (an access review: see RequestSpec.asksOnly).
 */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'PATCH', 'PUT']);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Wire errors where the request may not have reached the server, or its answer was lost. */
const RETRYABLE_TRANSPORT_ERRORS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * The delay before retry number `retriesSoFar + 1`, or undefined when the outcome is final (not retryable, or the
 * retries are spent). Connection refused and DNS errors are final: the server is not there, and the user should
 * hear it now rather than after a minute of backoff.
 */
export function retryDelayMs(
  policy: RetryPolicyOptions,
  retriesSoFar: number,
  /** Whether sending the request twice does what sending it once does (isIdempotentMethod, for most). */
  idempotent: boolean,
  outcome: AttemptOutcome,
): number | undefined {
  if (retriesSoFar >= policy.maxRetries) return undefined;
  if (outcome.kind === 'transport') {
    if (!idempotent || outcome.errorCode === undefined) return undefined;
    return RETRYABLE_TRANSPORT_ERRORS.has(outcome.errorCode) ? backoffMs(policy, retriesSoFar) : undefined;
  }
  const { statusCode, retryAfterSeconds } = outcome;
  // A 429 was rejected before it was processed, so any method may repeat it; a 5xx only an idempotent one, unless
  // the server said when to come back (client-go's checkWait does the same).
  const retryable =
    statusCode === 429 || (statusCode >= 500 && (idempotent || retryAfterSeconds !== undefined));
  if (!retryable) return undefined;
  if (retryAfterSeconds !== undefined) {
    const asked = Math.min(policy.maxRetryAfterMs, Math.max(0, retryAfterSeconds * 1000));
    // Never earlier than asked; a little later at random, so that throttled clients do not all come back at once.
    return asked + policy.random() * Math.min(1000, asked * 0.1 + 50);
  }
  return backoffMs(policy, retriesSoFar);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries spread out but still back off. */
export function backoffMs(policy: RetryPolicyOptions, retriesSoFar: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retriesSoFar);
  return ceiling / 2 + policy.random() * (ceiling / 2);
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - nowMs) / 1000);
}
