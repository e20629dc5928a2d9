import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createProgressReporter } from './progress.js';

/** A stream that keeps what was written, and a clock the test moves by hand. */
function harness() {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk.toString('utf8'));
      callback();
    },
  });
  const clock = { now: 0 };
  return { writes, stream, clock, now: () => clock.now };
}

describe('createProgressReporter', () => {
  it('writes nothing when stderr is not a terminal, or with --quiet', () => {
    for (const [isTTY, quiet] of [
      [false, false],
      [true, true],
      [false, true],
    ] as const) {
      const { writes, stream, now } = harness();
      const progress = createProgressReporter({ stream, isTTY, quiet, now });
      progress.start('listing pods');
      progress.update(500);
      progress.stop();
      assert.deepEqual(writes, [], `isTTY=${isTTY} quiet=${quiet}`);
    }
  });

  it('redraws one line in place on a terminal and clears it at the end', () => {
    const { writes, stream, clock, now } = harness();
    const progress = createProgressReporter({ stream, isTTY: true, quiet: false, now });
    progress.start('fetching events', 40);
    clock.now = 150;
    progress.update(10);
    clock.now = 300;
    progress.update(40);
    progress.stop();
    assert.deepEqual(writes, [
      '\r\u001b[2Kfetching events… 0/40 (0%)',
      '\r\u001b[2Kfetching events… 10/40 (25%)',
      '\r\u001b[2Kfetching events… 40/40 (100%)',
      '\r\u001b[2K',
    ]);
  });

  it('counts without a total, throttles redraws, but always draws the last step', () => {
    const { writes, stream, clock, now } = harness();
    const progress = createProgressReporter({ stream, isTTY: true, quiet: false, now, minIntervalMs: 100 });
    progress.start('listing pods');
    for (let done = 1; done <= 1000; done += 1) {
      clock.now = done; // 1 ms per update: a redraw every 100 updates
      progress.update(done);
    }
    assert.equal(writes.length, 11);
    assert.equal(writes[1], '\r\u001b[2Klisting pods… 100');
    progress.start('fetching events', 3);
    progress.update(1);
    progress.update(3);
    assert.equal(writes.at(-1), '\r\u001b[2Kfetching events… 3/3 (100%)');
  });

  it('does nothing on stop when nothing was started', () => {
    const { writes, stream, now } = harness();
    createProgressReporter({ stream, isTTY: true, quiet: false, now }).stop();
    assert.deepEqual(writes, []);
  });
});
