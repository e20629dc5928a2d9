import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  type RetryPolicyOptions,
  retryDelayMs,
} from './retry-policy.js';

const noJitter: RetryPolicyOptions = { ...DEFAULT_RETRY_POLICY, random: () => 0 };
const fullJitter: RetryPolicyOptions = { ...DEFAULT_RETRY_POLICY, random: () => 0.999_999 };

describe('retryDelayMs', () => {
  it('honours Retry-After on 429: never earlier than asked, a little later at most', () => {
    assert.equal(
      retryDelayMs(noJitter, 0, true, { kind: 'status', statusCode: 429, retryAfterSeconds: 1 }),
      1000,
    );
    const late = retryDelayMs(fullJitter, 0, true, {
      kind: 'status',
      statusCode: 429,
      retryAfterSeconds: 1,
    });
    assert.ok(late !== undefined && late >= 1000 && late <= 1150, String(late));
    assert.equal(
      retryDelayMs(noJitter, 3, true, { kind: 'status', statusCode: 429, retryAfterSeconds: 7 }),
      7000,
    );
  });

  it('caps an absurd Retry-After', () => {
    assert.equal(
      retryDelayMs(noJitter, 0, true, { kind: 'status', statusCode: 429, retryAfterSeconds: 3600 }),
      DEFAULT_RETRY_POLICY.maxRetryAfterMs,
    );
  });

  it('is bounded: after maxRetries the outcome is final', () => {
    const policy = { ...noJitter, maxRetries: 3 };
    const outcome = { kind: 'status', statusCode: 429, retryAfterSeconds: 1 } as const;
    assert.notEqual(retryDelayMs(policy, 2, true, outcome), undefined);
    assert.equal(retryDelayMs(policy, 3, true, outcome), undefined);
  });

  it('backs off exponentially with jitter on 5xx without Retry-After, up to the ceiling', () => {
    const delays = [0, 1, 2, 3, 9].map((n) =>
      retryDelayMs(noJitter, n, true, { kind: 'status', statusCode: 503 }),
    );
    assert.deepEqual(delays, [100, 200, 400, 800, 5000]);
    for (let n = 0; n < 8; n += 1) {
      const ceiling = Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** n);
      const delay = backoffMs(fullJitter, n);
      assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${n}: ${delay}`);
    }
  });

  it('does not retry client errors', () => {
    for (const statusCode of [400, 401, 403, 404, 409, 410, 422]) {
      assert.equal(
        retryDelayMs(noJitter, 0, true, { kind: 'status', statusCode }),
        undefined,
        String(statusCode),
      );
    }
  });

  it('retries resets for idempotent methods, never connection refused', () => {
    assert.notEqual(
      retryDelayMs(noJitter, 0, true, { kind: 'transport', errorCode: 'ECONNRESET' }),
      undefined,
    );
    assert.notEqual(
      retryDelayMs(noJitter, 0, true, { kind: 'transport', errorCode: 'ETIMEDOUT' }),
      undefined,
    );
    assert.equal(retryDelayMs(noJitter, 0, false, { kind: 'transport', errorCode: 'ECONNRESET' }), undefined);
    assert.equal(
      retryDelayMs(noJitter, 0, true, { kind: 'transport', errorCode: 'ECONNREFUSED' }),
      undefined,
    );
    assert.equal(retryDelayMs(noJitter, 0, true, { kind: 'transport', errorCode: 'ENOTFOUND' }), undefined);
    assert.equal(retryDelayMs(noJitter, 0, true, { kind: 'transport', errorCode: undefined }), undefined);
  });

  it('retries a 5xx of a non-idempotent method only when the server says when', () => {
    assert.equal(retryDelayMs(noJitter, 0, false, { kind: 'status', statusCode: 500 }), undefined);
    assert.equal(
      retryDelayMs(noJitter, 0, false, { kind: 'status', statusCode: 503, retryAfterSeconds: 2 }),
      2000,
    );
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('1', 0), 1);
    assert.equal(parseRetryAfter(' 30 ', 0), 30);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  });

  it('ignores what it cannot read', () => {
    assert.equal(parseRetryAfter(undefined, 0), undefined);
    assert.equal(parseRetryAfter('', 0), undefined);
    assert.equal(parseRetryAfter('soon', 0), undefined);
  });
});
