import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from './clock.js';
import { TokenBucket } from './rate-limiter.js';

/** A clock that only moves when someone sleeps, and records every sleep. */
function manualClock(): Clock & { sleeps: number[]; advance(ms: number): void } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      now += ms;
    },
  };
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests at 1/qps', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ qps: 5, burst: 10, clock });
    for (let i = 0; i < 10; i += 1) await bucket.take();
    assert.deepEqual(clock.sleeps, []);
    await bucket.take();
    await bucket.take();
    // kubectl's 5 QPS: one request every 200 ms once the burst is spent.
    assert.deepEqual(
      clock.sleeps.map((ms) => Math.round(ms)),
      [200, 200],
    );
    assert.equal(Math.round(bucket.waitedMs), 400);
  });

  it('lets every caller through once lifted', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    await bucket.take();
    await bucket.take();
    assert.equal(clock.sleeps.length, 1);
    bucket.lift();
    for (let i = 0; i < 100; i += 1) await bucket.take();
    assert.equal(clock.sleeps.length, 1);
    assert.equal(bucket.unlimited, true);
  });

  it('refills while idle, up to the burst and no further', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3, clock });
    for (let i = 0; i < 3; i += 1) await bucket.take();
    clock.advance(10_000);
    for (let i = 0; i < 3; i += 1) await bucket.take();
    assert.deepEqual(clock.sleeps, []);
    await bucket.take();
    assert.equal(clock.sleeps.length, 1);
    assert.equal(Math.round(clock.sleeps[0] ?? 0), 100);
  });

  it('queues concurrent callers in order, each one interval after the previous', async () => {
    const sleeps: number[] = [];
    const clock: Clock = { now: () => 0, sleep: async (ms) => void sleeps.push(ms) };
    const bucket = new TokenBucket({ qps: 2, burst: 1, clock });
    await Promise.all([bucket.take(), bucket.take(), bucket.take(), bucket.take()]);
    // Time stands still here, so the reservations pile up: 0.5 s, 1 s, 1.5 s.
    assert.deepEqual(sleeps, [500, 1000, 1500]);
  });

  it('is off when qps is 0', async () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ qps: 0, burst: 1, clock });
    for (let i = 0; i < 1000; i += 1) await bucket.take();
    assert.equal(bucket.unlimited, true);
    assert.deepEqual(clock.sleeps, []);
  });

  it('gives the token back when the waiting caller aborts', async () => {
    const sleeps: number[] = [];
    const controller = new AbortController();
    const clock: Clock = {
      now: () => 0,
      sleep: async (ms, signal) => {
        sleeps.push(ms);
        if (signal?.aborted) throw signal.reason;
      },
    };
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    await bucket.take();
    controller.abort(new Error('stop'));
    await assert.rejects(bucket.take(controller.signal), /stop/);
    await bucket.take();
    // The aborted reservation was returned: the next caller waits one interval, not two.
    assert.deepEqual(sleeps, [1000, 1000]);
  });
});
