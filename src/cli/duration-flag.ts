import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../duration.js';

/** A commander argParser: a bad value is a usage error (exit 2) that shows how to write one. */
export function parseDurationFlag(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new InvalidArgumentError('expected a duration such as 10m, 90s or 1h30m (units: ms, s, m, h)');
  }
  return ms;
}
