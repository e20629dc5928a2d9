import type { Count } from '../diagnosis/types.js';

// Counting by key, shared by gather and the reports.

export function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Largest first, ties by key, at most `limit`. */
export function sortedCounts(map: Map<string, number>, limit = Number.POSITIVE_INFINITY): Count[] {
  return [...map]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, limit);
}
