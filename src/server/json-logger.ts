// A small pino-compatible logger (the shape fastify takes as `loggerInstance`): one JSON object per line on the
// stream it is given. The service logs requests and background failures; tests pass silentLogger().
import type { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevel = keyof typeof LEVELS;

function serialize(value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  return value;
}

export function createJsonLogger(
  stream: Pick<Writable, 'write'>,
  level: LogLevel = 'info',
  bindings: Record<string, unknown> = {},
): FastifyBaseLogger {
  const threshold = LEVELS[level];
  const method =
    (name: Exclude<LogLevel, 'silent'>) =>
    (first: unknown, ...rest: unknown[]): void => {
      if (LEVELS[name] < threshold) return;
      const fields = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
      const msg = typeof first === 'string' ? first : rest.find((item) => typeof item === 'string');
      const line: Record<string, unknown> = { level: name, time: new Date().toISOString(), ...bindings };
      for (const [key, value] of Object.entries(fields)) line[key] = serialize(value);
      if (msg !== undefined) line.msg = msg;
      stream.write(`${JSON.stringify(line)}\n`);
    };
  return {
    level,
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
    silent: () => undefined,
    child: (more: Record<string, unknown>) => createJsonLogger(stream, level, { ...bindings, ...more }),
  } as FastifyBaseLogger;
}

export function silentLogger(): FastifyBaseLogger {
  return createJsonLogger({ write: () => true }, 'silent');
}
