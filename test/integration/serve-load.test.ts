import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runServeLoad } from '../../bench/serve-load.js';

// The load benchmark, short: a few seconds of new groups, repeats and resolves over loopback. What it checks is
// correctness under concurrency (nothing lost, no 5xx); the latency figures belong to bench/serve-load.ts.

describe('serve under a short webhook load', () => {
  it('loses nothing and never answers 5xx', async () => {
    const result = await runServeLoad({ rate: 50, seconds: 4, seed: 7 });
    assert.deepEqual(result.problems, []);
    assert.equal(result.statuses['200'], result.requests);
    assert.ok(result.byKind.new > 0 && result.byKind.repeat > 0 && result.byKind.resolve > 0);
  });
});
