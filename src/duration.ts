// Durations as kubectl and Go's time.ParseDuration write them (`10m`, `90s`, `1h30m`, `500ms`, `1.5h`), for flags
// such as validate --window and clean --older-than. Days are left out on purpose, as Go does: a "day" is not a
// fixed length, and kubectl users already write `24h`.

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)/gy;

/** Milliseconds, or undefined when the text is not a duration. A bare `0` is zero, as in Go. */
export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(input); match !== null; match = PART.exec(input)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    consumed = PART.lastIndex;
  }
  return consumed === input.length && Number.isFinite(total) ? Math.round(total) : undefined;
}

/** `10m`, `1h30m`, `1m30s`, `250ms`: for humans, whole seconds (rounded down) from one second up. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  // Down, not to the nearest: "held for 3s" must not claim a second that has not passed.
  let seconds = Math.floor(ms / 1_000);
  const hours = Math.floor(seconds / 3_600);
  seconds -= hours * 3_600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const parts = [
    hours > 0 ? `${hours}h` : '',
    minutes > 0 ? `${minutes}m` : '',
    seconds > 0 ? `${seconds}s` : '',
  ];
  return parts.join('') || '0s';
}
