// Injected API faults, so callers' retry, backoff and relist paths run against the same failures a loaded
// apiserver produces: APF 429 with Retry-After (apiserver.md §4.7), 500s, latency, compacted continue tokens
// (§4.3) and connections reset mid-request.

import { z } from 'zod';

const rate = z.number().min(0).max(1);

export const faultsSchema = z
  .object({
    /** Share of API requests answered 500 InternalError. */
    errorRate: rate.optional(),
    /** Share of API requests answered 429 TooManyRequests. */
    throttleRate: rate.optional(),
    /** The Retry-After of a 429 (the real apiserver always says 1). */
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** Added before every API answer. */
    latencyMs: z.number().min(0).optional(),
    /** A continue token older than this answers 410 Expired (the etcd compaction window, 5 min for real). */
    expireContinueAfterSeconds: z.number().min(0).optional(),
    /** Share of API requests whose connection is destroyed without an answer. */
    resetRate: rate.optional(),
  })
  .strict();

export type Faults = z.infer<typeof faultsSchema>;

/** Validates a faults object (from JSON or options); throws an Error naming the bad field. */
export function parseFaults(value: unknown): Faults {
  const result = faultsSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid faults: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** `--faults` takes JSON (`{"throttleRate":0.2}`) or `k=v,k=v` (`throttleRate=0.2,latencyMs=5`). */
export function parseFaultSpec(spec: string): Faults {
  const trimmed = spec.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new Error(`invalid faults: not JSON: ${(error as Error).message}`, { cause: error });
    }
    return parseFaults(parsed);
  }
  const value: Record<string, number> = {};
  for (const pair of trimmed.split(',')) {
    if (pair.trim() === '') continue;
    const [key, text, ...rest] = pair.split('=');
    const number = Number(text);
    if (
      key === undefined ||
      text === undefined ||
      rest.length > 0 ||
      text.trim() === '' ||
      !Number.isFinite(number)
    ) {
      throw new Error(`invalid faults: expected key=number, got ${JSON.stringify(pair)}`);
    }
    value[key.trim()] = number;
  }
  return parseFaults(value);
}

/** mulberry32: a small seeded generator, so a seeded simulator injects the same faults run after run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
