import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ALERT_FOR_MS, CountHistory, conditionSince, evaluateAlertCondition } from './alert-condition.js';

const T0 = Date.parse('2026-11-29T10:00:00Z');

describe('conditionSince', () => {
  it('is the moment the threshold-th launcher still Failed terminated', () => {
    assert.equal(conditionSince([T0 + 30, T0 + 10, T0 + 20, T0 + 40], 3), T0 + 30);
    assert.equal(conditionSince([T0 + 30, T0 + 10], 3), undefined, 'fewer than the threshold');
  });

  it('sorts unknown times last, so they never make the condition older', () => {
    assert.equal(conditionSince([Number.NaN, T0 + 10, T0 + 20], 2), T0 + 20);
    assert.equal(conditionSince([Number.NaN, T0 + 10, T0 + 20], 3), undefined);
  });

  it('agrees with sorting every time (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1e9 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 300 }),
        (times, threshold) => {
          const sorted = [...times].sort((a, b) => a - b);
          assert.equal(conditionSince(times, threshold), sorted[threshold - 1]);
        },
      ),
    );
  });
});

describe('evaluateAlertCondition', () => {
  const failedAt = (count: number, at: number) => Array.from({ length: count }, (_, index) => at + index);

  it('is inactive below the threshold', () => {
    const evaluation = evaluateAlertCondition({
      count: 199,
      terminationTimes: failedAt(199, T0),
      threshold: 200,
      now: T0 + 3_600_000,
    });
    assert.equal(evaluation.holds, false);
    assert.equal(evaluation.state, 'inactive');
    assert.equal(evaluation.since, undefined);
    assert.equal(evaluation.heldMs, 0);
  });

  it('is pending until the condition has held for the alert’s 10 minutes, then firing', () => {
    const times = failedAt(250, T0);
    const pending = evaluateAlertCondition({
      count: 250,
      terminationTimes: times,
      threshold: 200,
      now: T0 + 199 + ALERT_FOR_MS - 1,
    });
    assert.equal(pending.state, 'pending');
    assert.equal(pending.since, new Date(T0 + 199).toISOString());
    const firing = evaluateAlertCondition({
      count: 250,
      terminationTimes: times,
      threshold: 200,
      now: T0 + 199 + ALERT_FOR_MS,
    });
    assert.equal(firing.state, 'firing');
    assert.equal(firing.heldMs, ALERT_FOR_MS);
  });

  it('takes the crossing the watch saw when it is later than the terminations say', () => {
    const evaluation = evaluateAlertCondition({
      count: 250,
      terminationTimes: failedAt(250, T0),
      threshold: 200,
      now: T0 + 3_600_000,
      crossedAt: T0 + 3_000_000,
    });
    assert.equal(evaluation.since, new Date(T0 + 3_000_000).toISOString());
    assert.equal(evaluation.state, 'firing');
  });

  it('holds since now when no launcher says when it ended', () => {
    const evaluation = evaluateAlertCondition({
      count: 2,
      terminationTimes: [Number.NaN, Number.NaN],
      threshold: 2,
      now: T0,
    });
    assert.equal(evaluation.since, new Date(T0).toISOString());
    assert.equal(evaluation.state, 'pending');
  });
});

describe('CountHistory', () => {
  it('measures the change per minute over the window', () => {
    const history = new CountHistory(300_000);
    history.record(T0, 100);
    history.record(T0 + 60_000, 130);
    history.record(T0 + 120_000, 160);
    assert.deepEqual(history.trend(T0 + 120_000), { perMinute: 30, overMs: 120_000 });
  });

  it('has no trend before it has a span', () => {
    const history = new CountHistory();
    assert.equal(history.trend(T0), undefined);
    history.record(T0, 5);
    assert.equal(history.trend(T0), undefined);
  });

  it('stays small however often the count changes', () => {
    const history = new CountHistory(300_000, 1_000);
    for (let at = 0; at < 3_600_000; at += 10) history.record(T0 + at, at % 1000);
    assert.ok(history.size <= 302, `kept ${history.size} points`);
    const trend = history.trend(T0 + 3_600_000);
    assert.ok(trend !== undefined && trend.overMs <= 301_000 && trend.overMs >= 300_000);
  });
});

describe('CountHistory within one second', () => {
  it('keeps the first count of the second as the baseline, so a fast fall shows', () => {
    const history = new CountHistory();
    history.record(T0, 230);
    history.record(T0 + 300, 0);
    const trend = history.trend(T0 + 300);
    assert.ok(trend !== undefined && trend.perMinute < 0);
  });
});
