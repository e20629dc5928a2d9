import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsonLogger } from './json-logger.js';

describe('createJsonLogger', () => {
  it('writes one JSON line per call at or above its level, with request, response and error fields reduced', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (chunk: string) => lines.push(chunk) > 0 }, 'info');
    const socket: Record<string, unknown> = {};
    socket.self = socket;
    logger.debug('hidden');
    logger.info({ req: { method: 'POST', url: '/webhook/alertmanager', socket } }, 'incoming request');
    logger
      .child({ reqId: 'r1' })
      .error({ err: new Error('boom'), res: { statusCode: 500, socket } }, 'failed');
    logger.warn({ loop: socket }, 'circular');
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(parsed.length, 3);
    assert.deepEqual(parsed[0]?.req, { method: 'POST', url: '/webhook/alertmanager' });
    assert.equal(parsed[1]?.reqId, 'r1');
    assert.deepEqual(parsed[1]?.res, { statusCode: 500 });
    assert.equal((parsed[1]?.err as { message?: string } | undefined)?.message, 'boom');
    assert.equal(parsed[2]?.msg, 'circular');
  });
});
