import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type Harness, startHarness, WEBHOOK_TOKEN, webhookBody } from '../../test/helpers/serve-harness.js';

// Whatever arrives at the webhook with a valid token but a bad body: a 4xx, never a 5xx or a crash, and nothing
// stored. Each property mutates a valid Alertmanager body in one way (a field of the wrong type, a field missing,
// a huge string, deep nesting, bytes that are not UTF-8, another content type).

const BODY_LIMIT = 256 * 1024;
const GROUP = 'fuzz-group';

type Json = Record<string, unknown>;

/** Every path to a field of the body, the alert's fields included. */
function fieldPaths(): Array<Array<string | number>> {
  const body = webhookBody(GROUP, 'firing') as Json;
  const paths: Array<Array<string | number>> = Object.keys(body).map((key) => [key]);
  for (const key of Object.keys((body.alerts as Json[])[0] as Json)) paths.push(['alerts', 0, key]);
  return paths;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

function setAt(
  body: Json,
  path: ReadonlyArray<string | number>,
  change: (parent: Json, key: string) => void,
): Json {
  let parent = body as Json;
  for (const key of path.slice(0, -1)) parent = parent[key as string] as Json;
  change(parent, String(path.at(-1)));
  return body;
}

function valueAt(body: Json, path: ReadonlyArray<string | number>): unknown {
  let value: unknown = body;
  for (const key of path) value = (value as Json)[key as string];
  return value;
}

const anyJsonValue = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string(),
  fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ minLength: 1 }), fc.integer(), { minKeys: 1, maxKeys: 3 }),
);

describe('webhook under fuzzed bodies', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ bodyLimit: BODY_LIMIT });
  });
  after(async () => {
    await h.close();
  });

  async function send(payload: string | Buffer, contentType = 'application/json') {
    return h.app.inject({
      method: 'POST',
      url: '/webhook/alertmanager',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': contentType },
      payload,
    });
  }

  async function assertRefused(payload: string | Buffer, contentType?: string): Promise<void> {
    const response = await send(payload, contentType);
    assert.ok(
      response.statusCode >= 400 && response.statusCode < 500,
      `expected 4xx, got ${response.statusCode}: ${response.body.slice(0, 200)}`,
    );
    assert.equal((await h.store.list()).length, 0, 'nothing stored');
  }

  it('refuses a field of the wrong type', async () => {
    const paths = fieldPaths();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), anyJsonValue, async (path, value) => {
        const body = webhookBody(GROUP, 'firing') as Json;
        fc.pre(kindOf(value) !== kindOf(valueAt(body, path)));
        await assertRefused(JSON.stringify(setAt(body, path, (parent, key) => (parent[key] = value))));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a body with a field missing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fieldPaths()), async (path) => {
        const body = setAt(webhookBody(GROUP, 'firing') as Json, path, (parent, key) => delete parent[key]);
        await assertRefused(JSON.stringify(body));
      }),
      { numRuns: 40 },
    );
  });

  it('refuses huge strings (413 past the body limit, 400 below it)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['groupKey'], ['alerts', 0, 'fingerprint'], ['commonAnnotations', 'summary']),
        fc.integer({ min: 8_193, max: 2 * BODY_LIMIT }),
        async (path, length) => {
          const body = setAt(webhookBody(GROUP, 'firing') as Json, path, (parent, key) => {
            parent[key] = 'x'.repeat(length);
          });
          await assertRefused(JSON.stringify(body));
        },
      ),
      { numRuns: 15 },
    );
  });

  it('refuses deep nesting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom('commonLabels', 'alerts', 'top'),
        async (depth, where) => {
          const nested = `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;
          if (where === 'top') {
            await assertRefused(nested);
            return;
          }
          const text = JSON.stringify(webhookBody(GROUP, 'firing')).replace(
            `"${where}":`,
            `"${where}":${nested},"ignored":`,
          );
          await assertRefused(text);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('refuses bytes that are not UTF-8', async () => {
    const valid = Buffer.from(JSON.stringify(webhookBody(GROUP, 'firing')));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: valid.length }),
        fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]),
        async (at, bytes) => {
          await assertRefused(Buffer.concat([valid.subarray(0, at), Buffer.from(bytes), valid.subarray(at)]));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses other content types (415)', async () => {
    const valid = JSON.stringify(webhookBody(GROUP, 'firing'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/xml',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          'text/json',
        ),
        async (contentType) => {
          const response = await send(valid, contentType);
          assert.equal(response.statusCode, 415);
          assert.equal((await h.store.list()).length, 0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('refuses arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        await assertRefused(JSON.stringify(value));
      }),
      { numRuns: 100 },
    );
  });

  it('still accepts a valid body afterwards', async () => {
    const response = await send(JSON.stringify(webhookBody(GROUP, 'firing')));
    assert.equal(response.statusCode, 200);
    await h.service.idle();
    assert.equal((await h.store.list()).length, 1);
  });
});
