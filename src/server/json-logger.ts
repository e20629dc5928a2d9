// A small pino-compatible logger (the shape fastify takes as `loggerInstance`): one JSON object per line on the
// stream it is given. The service logs requests and background failures; tests pass silentLogger().
import type { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LogLevel = keyof typeof LEVELS;

/** pino's standard serializers, the ones fastify's log lines rely on (it logs `req`, `res` and `err` objects). */
function serialize(key: string, value: unknown): unknown {
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  if (key === 'req' && typeof value === 'object' && value !== null) {
    const request = value as { method?: string; url?: string; ip?: string };
    return { method: request.method, url: request.url, remoteAddress: request.ip };
  }
  if (key === 'res' && typeof value === 'object' && value !== null) {
    return { statusCode: (value as { statusCode?: number }).statusCode };
  }
  return value;
}

function stringify(line: Record<string, unknown>): string {
  try {
    return JSON.stringify(line);
  } catch {
    // A field that does not serialise (circular) never costs the log line.
    return JSON.stringify({ level: line.level, time: line.time, msg: line.msg });
  }
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
      for (const [key, value] of Object.entries(fields)) line[key] = serialize(key, value);
      if (msg !== undefined) line.msg = msg;
      stream.write(`${stringify(line)}\n`);
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
