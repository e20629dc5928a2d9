import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads kubectl / Go durations', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('0'), 0);
  });

  it('refuses what is not a duration', () => {
    for (const text of ['abc', '', '10', '10d', '-5m', 'm', '10m abc', '1h-30m', '5 m']) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });
});

describe('formatDuration', () => {
  it('writes whole seconds and up, rounded down', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(584), '584ms');
    assert.equal(formatDuration(3_999), '3s');
    assert.equal(formatDuration(600_000), '10m');
    assert.equal(formatDuration(5_430_000), '1h30m30s');
  });

  it('reads back within the second it rounded away', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 10 * 86_400_000 }), (ms) => {
        const back = parseDuration(formatDuration(ms));
        assert.ok(back !== undefined && back <= ms && back > ms - 1_000, `${ms} -> ${formatDuration(ms)}`);
      }),
    );
  });
});
