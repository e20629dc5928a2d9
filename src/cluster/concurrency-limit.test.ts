import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimit } from './concurrency-limit.js';

/** A task that runs until released, recording how many ran at once. */
function gate(limit: ConcurrencyLimit, peak: { now: number; max: number }) {
  const releases: Array<() => void> = [];
  const start = () =>
    limit.run(async () => {
      peak.now += 1;
      peak.max = Math.max(peak.max, peak.now);
      await new Promise<void>((resolve) => releases.push(resolve));
      peak.now -= 1;
    });
  const releaseAll = async () => {
    while (releases.length > 0) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { start, releases, releaseAll };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('runs at most `limit` tasks at once and queues the rest in order', async () => {
    const limit = new ConcurrencyLimit(3);
    const peak = { now: 0, max: 0 };
    const { start, releaseAll } = gate(limit, peak);
    const all = Array.from({ length: 10 }, start);
    await tick();
    assert.equal(limit.running, 3);
    await releaseAll();
    await Promise.all(all);
    assert.equal(peak.max, 3);
    assert.equal(limit.running, 0);
  });

  it('halves on throttling, down to 1, and never below', () => {
    const limit = new ConcurrencyLimit(16);
    limit.throttled();
    assert.equal(limit.limit, 8);
    limit.throttled();
    limit.throttled();
    limit.throttled();
    assert.equal(limit.limit, 1);
    limit.throttled();
    assert.equal(limit.limit, 1);
  });

  it('grows back by one per run of successes as long as the limit, up to the cap', () => {
    const limit = new ConcurrencyLimit(8);
    limit.throttled();
    limit.throttled();
    assert.equal(limit.limit, 2);
    limit.succeeded();
    assert.equal(limit.limit, 2, 'one success is not a run of two');
    limit.succeeded();
    assert.equal(limit.limit, 3);
    for (let index = 0; index < 3; index += 1) limit.succeeded();
    assert.equal(limit.limit, 4);
    for (let index = 0; index < 100; index += 1) limit.succeeded();
    assert.equal(limit.limit, 8, 'grows back to the cap and no further');
    assert.equal(limit.max, 8);
  });

  it('a throttle in the middle of a run starts the count again', () => {
    const limit = new ConcurrencyLimit(8);
    limit.throttled();
    assert.equal(limit.limit, 4);
    limit.succeeded();
    limit.succeeded();
    limit.succeeded();
    limit.throttled();
    assert.equal(limit.limit, 2);
    limit.succeeded();
    assert.equal(limit.limit, 2);
    limit.succeeded();
    assert.equal(limit.limit, 3);
  });

  it('after a drop, lets the running tasks finish and starts no new one until under the new limit', async () => {
    const limit = new ConcurrencyLimit(4);
    const peak = { now: 0, max: 0 };
    const { start, releases, releaseAll } = gate(limit, peak);
    const all = Array.from({ length: 8 }, start);
    await tick();
    assert.equal(peak.now, 4);
    limit.throttled(); // 2
    // Two of the four finish: still 2 running, at the new limit, so none of the queued ones may start.
    releases.shift()?.();
    releases.shift()?.();
    await tick();
    await tick();
    assert.equal(peak.now, 2);
    releases.shift()?.();
    await tick();
    await tick();
    assert.equal(peak.now, 2, 'one finished, one queued task took its place');
    await releaseAll();
    await Promise.all(all);
    assert.equal(limit.running, 0);
  });

  it('growing wakes queued tasks at once', async () => {
    const limit = new ConcurrencyLimit(2);
    limit.throttled(); // 1
    const peak = { now: 0, max: 0 };
    const { start, releaseAll } = gate(limit, peak);
    const all = Array.from({ length: 3 }, start);
    await tick();
    assert.equal(peak.now, 1);
    limit.succeeded(); // a run of 1 at limit 1: grows to 2
    await tick();
    assert.equal(peak.now, 2);
    await releaseAll();
    await Promise.all(all);
  });

  it('rejects a limit below 1', () => {
    assert.throws(() => new ConcurrencyLimit(0), RangeError);
  });
});
