import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import { generateCertificates } from '../sim/tls.js';
import { createPrometheusClient } from './client.js';

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  form: URLSearchParams;
}

type Handler = (request: Seen, response: ServerResponse) => void;

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A stand-in Prometheus on 127.0.0.1 that records what it was sent and answers with the handler of the moment. */
async function listen(server: Server, state: { handler: Handler; seen: Seen[] }): Promise<string> {
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const seen: Seen = {
        method: request.method ?? '',
        path: url.pathname,
        authorization: request.headers.authorization,
        form: new URLSearchParams(request.method === 'POST' ? body : url.search),
      };
      state.seen.push(seen);
      state.handler(seen, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return String((server.address() as AddressInfo).port);
}

function isPrometheusError(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof StuckfailedError && error.code === 'PROMETHEUS' && pattern.test(error.message);
}

describe('Prometheus client', () => {
  const state: { handler: Handler; seen: Seen[] } = { handler: () => {}, seen: [] };
  const server = createHttpServer();
  let url = '';
  let dir = '';

  before(async () => {
    url = `http://127.0.0.1:${await listen(server, state)}/prefix`;
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-prom-client-'));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('POSTs an instant query under the URL prefix and parses the vector, NaN and infinities included', async () => {
    state.seen = [];
    state.handler = (_seen, response) =>
      json(response, 200, {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            { metric: { namespace: 'vms' }, value: [1700000000.5, '42'] },
            { metric: { namespace: 'nan' }, value: [1700000000.5, 'NaN'] },
            { metric: { namespace: 'inf' }, value: [1700000000.5, '+Inf'] },
          ],
        },
      });
    const client = createPrometheusClient({ url, timeoutMs: 5000 });
    const samples = await client.query('count by (namespace) (up)', { time: new Date(1_700_000_000_500) });
    assert.deepEqual(samples[0], { labels: { namespace: 'vms' }, timestamp: 1700000000.5, value: 42 });
    assert.ok(Number.isNaN(samples[1]?.value));
    assert.equal(samples[2]?.value, Number.POSITIVE_INFINITY);
    assert.equal(state.seen[0]?.method, 'POST');
    assert.equal(state.seen[0]?.path, '/prefix/api/v1/query');
    assert.equal(state.seen[0]?.form.get('query'), 'count by (namespace) (up)');
    assert.equal(state.seen[0]?.form.get('time'), '1700000000.5');
    assert.equal(state.seen[0]?.form.get('timeout'), '5s');
  });

  it('turns a scalar into one sample without labels', async () => {
    state.handler = (_seen, response) =>
      json(response, 200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '3'] } });
    const samples = await createPrometheusClient({ url }).query('scalar(vector(3))');
    assert.deepEqual(samples, [{ labels: {}, timestamp: 1700000000, value: 3 }]);
  });

  it('sends a range query with start, end and step', async () => {
    state.seen = [];
    state.handler = (_seen, response) =>
      json(response, 200, {
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: {},
              values: [
                [1700000000, '1'],
                [1700000060, '2'],
              ],
            },
          ],
        },
      });
    const series = await createPrometheusClient({ url }).queryRange('x', {
      start: new Date(1_700_000_000_000),
      end: new Date(1_700_000_060_000),
      stepSeconds: 60,
    });
    assert.deepEqual(series, [
      {
        labels: {},
        points: [
          { timestamp: 1700000000, value: 1 },
          { timestamp: 1700000060, value: 2 },
        ],
      },
    ]);
    assert.equal(state.seen[0]?.path, '/prefix/api/v1/query_range');
    assert.deepEqual(
      ['start', 'end', 'step'].map((key) => state.seen[0]?.form.get(key)),
      ['1700000000', '1700000060', '60'],
    );
  });

  it('GETs the active alerts', async () => {
    state.seen = [];
    state.handler = (_seen, response) =>
      json(response, 200, {
        status: 'success',
        data: {
          alerts: [
            {
              labels: { alertname: 'VirtLauncherPodsStuckFailed' },
              annotations: { summary: 's' },
              state: 'firing',
              activeAt: '2026-11-23T21:32:45.28Z',
              value: '2.1e+02',
            },
          ],
        },
      });
    const alerts = await createPrometheusClient({ url }).alerts();
    assert.deepEqual(alerts, [
      {
        labels: { alertname: 'VirtLauncherPodsStuckFailed' },
        annotations: { summary: 's' },
        state: 'firing',
        activeAt: '2026-11-23T21:32:45.28Z',
        value: 210,
      },
    ]);
    assert.equal(state.seen[0]?.method, 'GET');
    assert.equal(state.seen[0]?.path, '/prefix/api/v1/alerts');
  });

  it('reads the bearer token file on every request, so a rotated token is picked up', async () => {
    state.seen = [];
    state.handler = (_seen, response) =>
      json(response, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first-token\n');
    const client = createPrometheusClient({ url, tokenFile });
    await client.query('up');
    await writeFile(tokenFile, 'second-token');
    await client.query('up');
    assert.deepEqual(
      state.seen.map((seen) => seen.authorization),
      ['Bearer first-token', 'Bearer second-token'],
    );
  });

  it('reports 401/403, a rejected query, a body that is not JSON and a bad answer shape as PROMETHEUS errors', async () => {
    const client = createPrometheusClient({ url });
    state.handler = (_seen, response) => json(response, 403, { status: 'error', error: 'forbidden' });
    await assert.rejects(client.query('up'), isPrometheusError(/answered 403 Forbidden/));
    state.handler = (_seen, response) =>
      json(response, 400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' });
    await assert.rejects(
      client.query('up{'),
      isPrometheusError(/rejected .*bad_data.*parse error at char 3/),
    );
    state.handler = (_seen, response) => {
      response.writeHead(502, { 'Content-Type': 'text/html' });
      response.end('<html>Bad Gateway</html>');
    };
    await assert.rejects(client.query('up'), isPrometheusError(/answered 502 with a body that is not JSON/));
    state.handler = (_seen, response) =>
      json(response, 200, { status: 'success', data: { resultType: 'vector', result: [{ value: 'x' }] } });
    await assert.rejects(client.query('up'), isPrometheusError(/unexpected query answer/));
    state.handler = (_seen, response) =>
      json(response, 200, { status: 'success', data: { resultType: 'string', result: [1, 'hello'] } });
    await assert.rejects(client.query('"hello"'), isPrometheusError(/expected a vector/));
  });

  it('gives up after the timeout', async () => {
    state.handler = () => {};
    await assert.rejects(
      createPrometheusClient({ url, timeoutMs: 200 }).query('up'),
      isPrometheusError(/cannot reach Prometheus .*no answer within 200 ms/),
    );
  });

  it('reports a refused connection and an unreadable token file', async () => {
    const closed = createHttpServer();
    const port = await listen(closed, { handler: () => {}, seen: [] });
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      createPrometheusClient({ url: `http://127.0.0.1:${port}` }).query('up'),
      isPrometheusError(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/),
    );
    await assert.rejects(
      createPrometheusClient({ url, tokenFile: join(dir, 'missing') }).query('up'),
      isPrometheusError(/cannot read the Prometheus token file/),
    );
  });

  it('refuses a URL that is not an http(s) URL as a usage error', () => {
    for (const bad of ['ftp://prometheus', 'prometheus:9090', 'not a url']) {
      assert.throws(
        () => createPrometheusClient({ url: bad }),
        (error: unknown) => error instanceof StuckfailedError && error.code === 'USAGE',
        bad,
      );
    }
  });
});

describe('Prometheus client over TLS', () => {
  it('trusts the server through --prometheus-ca-file, and refuses it without', async () => {
    const certificates = await generateCertificates();
    const dir = await mkdtemp(join(tmpdir(), 'stuckfailed-prom-tls-'));
    const server = createHttpsServer({ cert: certificates.serverCert, key: certificates.serverKey });
    const state = {
      handler: ((_seen, response) =>
        json(response, 200, { status: 'success', data: { resultType: 'vector', result: [] } })) as Handler,
      seen: [] as Seen[],
    };
    try {
      const url = `https://127.0.0.1:${await listen(server, state)}`;
      const caFile = join(dir, 'ca.crt');
      await writeFile(caFile, certificates.caCert);
      assert.deepEqual(await createPrometheusClient({ url, caFile }).query('up'), []);
      await assert.rejects(createPrometheusClient({ url }).query('up'), isPrometheusError(/certificate/));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
