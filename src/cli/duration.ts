import { InvalidArgumentError } from 'commander';

// Durations as kubectl and Go spell them (`30s`, `10m`, `2h`, `1h30m`), plus `d` for days, which an SRE asking for
// "older than two days" types.

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in a duration like `1h30m`; a commander argParser, so a bad value is a usage error saying why. */
export function parseDurationSeconds(value: string): number {
  const trimmed = value.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let seconds = 0;
  let matched = 0;
  for (let match = pattern.exec(trimmed); match !== null; match = pattern.exec(trimmed)) {
    seconds += Number(match[1]) * (UNIT_SECONDS[match[2] as string] ?? 0);
    matched = pattern.lastIndex;
  }
  if (trimmed === '' || matched !== trimmed.length) {
    throw new InvalidArgumentError(
      `expected a duration such as 30m, 2h or 1h30m (units ms, s, m, h, d), got "${value}"`,
    );
  }
  return seconds;
}
