import type { TimelineBucket, TimelineMark } from './types.js';

// When did it start, is it still growing: the Failed launchers by the time their last container terminated, in
// buckets sized to the span, with the moments that may explain them (an upgrade, nodes going NotReady, migration
// waves) marked on the same axis.

const MINUTE = 60_000;
/** Bucket sizes tried in order; the first that covers the span in at most MAX_BUCKETS buckets wins. */
const BUCKET_SIZES = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 10_080].map((minutes) => minutes * MINUTE);
export const MAX_BUCKETS = 60;

export interface Timeline {
  timeline: TimelineBucket[];
  /** Marks up to the timeline's end (a bucket after), oldest first. */
  marks: TimelineMark[];
}

/** `terminations` ascending, in ms since the epoch; empty buckets are kept, so the buckets are evenly spaced. */
export function buildTimeline(terminations: readonly number[], marks: readonly TimelineMark[]): Timeline {
  const first = terminations[0];
  const last = terminations.at(-1);
  if (first === undefined || last === undefined) return { timeline: [], marks: [] };
  const size =
    BUCKET_SIZES.find(
      (candidate) => Math.floor(last / candidate) - Math.floor(first / candidate) < MAX_BUCKETS,
    ) ??
    // Past a week per bucket: whole minutes, wide enough that the aligned buckets still number at most MAX_BUCKETS.
    Math.ceil((last - first + 1) / (MAX_BUCKETS - 2) / MINUTE) * MINUTE;
  const start = Math.floor(first / size) * size;
  const counts = new Array<number>(Math.floor((last - start) / size) + 1).fill(0);
  for (const time of terminations) {
    const index = Math.floor((time - start) / size);
    counts[index] = (counts[index] ?? 0) + 1;
  }
  const end = start + counts.length * size;
  return {
    timeline: counts.map((count, index) => ({ start: new Date(start + index * size).toISOString(), count })),
    marks: marks
      // Every mark is of something still under way (an upgrade in flight, a node NotReady, a wave's migrations),
      // so one that began before the first failure still explains it; the chart draws it at the left edge.
      .filter((mark) => Date.parse(mark.time) < end + size)
      .sort((a, b) => a.time.localeCompare(b.time)),
  };
}
