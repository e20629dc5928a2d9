import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { parseDurationFlag } from './duration-flag.js';

describe('parseDurationFlag', () => {
  it('gives milliseconds', () => {
    assert.equal(parseDurationFlag('1h30m'), 5_400_000);
  });

  it('refuses a bad value as a usage error that shows the form', () => {
    assert.throws(
      () => parseDurationFlag('10 minutes'),
      (error: unknown) =>
        error instanceof InvalidArgumentError && /such as 10m, 90s or 1h30m/.test(error.message),
    );
  });

  it('says how to write days, which Go durations do not have', () => {
    assert.throws(() => parseDurationFlag('2d'), /for days write hours, e\.g\. 48h/);
  });
});
