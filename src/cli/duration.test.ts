import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationSeconds } from './duration.js';

describe('parseDurationSeconds', () => {
  it('reads Go-style durations and days', () => {
    assert.equal(parseDurationSeconds('30m'), 1800);
    assert.equal(parseDurationSeconds('2h'), 7200);
    assert.equal(parseDurationSeconds('1h30m'), 5400);
    assert.equal(parseDurationSeconds('45s'), 45);
    assert.equal(parseDurationSeconds('1d'), 86_400);
    assert.equal(parseDurationSeconds('1500ms'), 1.5);
  });

  it('refuses anything else with a message that shows the form', () => {
    for (const bad of ['', '10', 'm', '10x', '1h 30m', '-5m', '1h30']) {
      assert.throws(() => parseDurationSeconds(bad), /expected a duration such as 30m/);
    }
  });
});
