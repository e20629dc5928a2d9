import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildTimeline, MAX_BUCKETS } from './timeline.js';

const at = (time: string) => Date.parse(time);

describe('buildTimeline', () => {
  it('buckets by termination time, sized to the span, empty buckets kept', () => {
    const { timeline } = buildTimeline(
      [at('2026-11-23T21:01:10Z'), at('2026-11-23T21:02:00Z'), at('2026-11-23T21:04:59Z')],
      [],
    );
    assert.deepEqual(timeline, [
      { start: '2026-11-23T21:01:00.000Z', count: 1 },
      { start: '2026-11-23T21:02:00.000Z', count: 1 },
      { start: '2026-11-23T21:03:00.000Z', count: 0 },
      { start: '2026-11-23T21:04:00.000Z', count: 1 },
    ]);
  });

  it('keeps the marks up to the end of the span, oldest first, and drops later ones', () => {
    const { marks } = buildTimeline(
      [at('2026-11-23T21:00:00Z'), at('2026-11-23T23:00:00Z')],
      [
        { time: '2026-11-23T22:00:00Z', kind: 'node', text: '1 node NotReady: worker-1' },
        { time: '2026-11-23T20:55:00Z', kind: 'kubevirt-version', text: 'KubeVirt upgrade started' },
        { time: '2026-11-20T00:00:00Z', kind: 'migrations', text: 'under way since long ago' },
        { time: '2026-11-24T00:00:00Z', kind: 'node', text: 'after the last failure' },
      ],
    );
    assert.deepEqual(
      marks.map((mark) => mark.text),
      ['under way since long ago', 'KubeVirt upgrade started', '1 node NotReady: worker-1'],
    );
  });

  it('has nothing to show when no launcher says when it ended', () => {
    assert.deepEqual(buildTimeline([], []), { timeline: [], marks: [] });
  });

  it('counts every pod once, in at most MAX_BUCKETS evenly spaced buckets', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }), {
          minLength: 1,
          maxLength: 200,
        }),
        (times) => {
          const sorted = [...times].sort((a, b) => a - b);
          const { timeline } = buildTimeline(sorted, []);
          assert.equal(
            timeline.reduce((sum, bucket) => sum + bucket.count, 0),
            times.length,
          );
          assert.ok(timeline.length <= MAX_BUCKETS);
          const steps = new Set(
            timeline
              .slice(1)
              .map((bucket, index) => Date.parse(bucket.start) - Date.parse(timeline[index]?.start ?? '')),
          );
          assert.ok(steps.size <= 1);
        },
      ),
    );
  });
});
