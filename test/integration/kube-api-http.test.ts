// KubeApi against a real HTTP(S) server that answers with real Status bodies: retries, 410 handling, watches,
// writes, auth. The server here is deliberately small and scripted per test; the simulator test
// (kube-api-sim.test.ts) covers the same client against the full API emulation.
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { generate } from 'selfsigned';
import { isConflict, isNotFound } from '../../src/cluster/api-error.js';
import type { Clock } from '../../src/cluster/clock.js';
import { KubeApi, type KubeApiOptions, type WatchEvent } from '../../src/cluster/kube-api.js';
import { LiveClusterReader } from '../../src/cluster/live-cluster-reader.js';
import { StuckfailedError } from '../../src/errors.js';
import type { KubeObject, Pod, Status } from '../../src/kube/types.js';

interface Recorded {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (request: Recorded, response: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

interface FakeServer {
  url: string;
  requests: Recorded[];
  handle(handler: Handler): void;
  close(): Promise<void>;
  server: http.Server;
}

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(tls?: { key: string; cert: string }): Promise<FakeServer> {
  let handler: Handler = (_request, response) => sendStatus(response, notFoundStatus('nothing'));
  const requests: Recorded[] = [];
  const listener = (raw: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const recorded = {
        method: raw.method ?? 'GET',
        url: new URL(raw.url ?? '/', 'http://localhost'),
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      void handler(recorded, response, raw);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const fake: FakeServer = {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    server,
    handle: (next) => {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(fake);
  return fake;
}

function sendJson(
  response: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(code, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function sendStatus(response: ServerResponse, status: Status, headers: Record<string, string> = {}): void {
  sendJson(response, status.code, status, headers);
}

function failure(code: number, reason: string, message: string, extra: Partial<Status> = {}): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...extra,
  };
}

function notFoundStatus(name: string): Status {
  return failure(404, 'NotFound', `pods "${name}" not found`, { details: { name, kind: 'pods' } });
}

const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.';

function pod(namespace: string, name: string): Pod {
  return {
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: '7' },
    spec: { containers: [{ name: 'compute' }] },
    status: { phase: 'Failed' },
  };
}

/** Pods ns-0/pod-000 ... sorted as the apiserver sorts them (namespace/name). */
function podSet(count: number, namespaces = 3): Pod[] {
  const pods: Pod[] = [];
  for (let i = 0; i < count; i += 1)
    pods.push(pod(`ns-${i % namespaces}`, `pod-${String(i).padStart(4, '0')}`));
  return pods.sort((a, b) => key(a).localeCompare(key(b)));
}

function key(object: KubeObject): string {
  return `${object.metadata.namespace}/${object.metadata.name}`;
}

/** An apiserver-like paged list over `items`: continue = the index to start from, in a base64 token. */
function pagedList(items: KubeObject[], request: Recorded, listRv = '100'): unknown {
  const limit = Number(request.url.searchParams.get('limit') ?? items.length);
  const token = request.url.searchParams.get('continue');
  const start = token ? (JSON.parse(Buffer.from(token, 'base64').toString()) as { start: number }).start : 0;
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {
      resourceVersion: listRv,
      ...(more ? { continue: Buffer.from(JSON.stringify({ start: start + limit })).toString('base64') } : {}),
    },
    items: page,
  };
}

/** A clock whose sleeps return at once but are recorded, so backoff can be asserted without waiting. */
function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => performance.now(),
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
    },
  };
}

function kubeConfigFor(
  server: string,
  extra: { caData?: string; token?: string; skipTLSVerify?: boolean } = {},
): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server,
        skipTLSVerify: extra.skipTLSVerify ?? server.startsWith('http:'),
        ...(extra.caData ? { caData: extra.caData } : {}),
      },
    ],
    users: [{ name: 'test', ...(extra.token ? { token: extra.token } : {}) }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return kubeConfig;
}

const apis: KubeApi[] = [];
after(() => {
  for (const api of apis) api.close();
});

function apiFor(server: FakeServer, options: Partial<KubeApiOptions> = {}): KubeApi {
  const api = new KubeApi({
    kubeConfig: kubeConfigFor(server.url),
    qps: 0,
    random: () => 0,
    userAgent: 'stuckfailed/test',
    ...options,
  });
  apis.push(api);
  return api;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe('KubeApi lists', () => {
  it('follows continue tokens page by page, with selectors, and fills in kind and apiVersion', async () => {
    const server = await startServer();
    const pods = podSet(1234);
    server.handle((request, response) => sendJson(response, 200, pagedList(pods, request)));
    const api = apiFor(server, { pageSize: 100 });
    const listed = await collect(
      api.list<Pod>('pods', {
        labelSelector: 'kubevirt.io=virt-launcher',
        fieldSelector: 'status.phase=Failed',
      }),
    );
    assert.deepEqual(listed.map(key), pods.map(key));
    assert.equal(listed[0]?.kind, 'Pod');
    assert.equal(listed[0]?.apiVersion, 'v1');
    assert.equal(server.requests.length, 13);
    const first = server.requests[0];
    assert.equal(first?.url.pathname, '/api/v1/pods');
    assert.equal(first?.url.searchParams.get('labelSelector'), 'kubevirt.io=virt-launcher');
    assert.equal(first?.url.searchParams.get('fieldSelector'), 'status.phase=Failed');
    assert.equal(first?.url.searchParams.get('limit'), '100');
    assert.equal(first?.headers['user-agent'], 'stuckfailed/test');
    assert.equal(first?.headers.authorization, undefined, 'no credentials over plain http, as kubectl');
    assert.deepEqual(api.stats().byVerb, { list: 13 });
  });

  it('lists one namespace at its namespaced path, and reads gzip pages', async () => {
    const server = await startServer();
    const pods = podSet(30, 1);
    server.handle((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      response.end(gzipSync(JSON.stringify(pagedList(pods, request))));
    });
    const listed = await collect(apiFor(server, { pageSize: 7 }).list<Pod>('pods', { namespace: 'ns-0' }));
    assert.equal(listed.length, 30);
    assert.equal(server.requests[0]?.url.pathname, '/api/v1/namespaces/ns-0/pods');
    assert.equal(server.requests[0]?.headers['accept-encoding'], 'gzip');
  });

  it('continues with the token of a 410 Expired and counts nothing twice', async () => {
    const server = await startServer();
    const pods = podSet(50);
    let expiredOnce = false;
    server.handle((request, response) => {
      const token = request.url.searchParams.get('continue');
      if (token && !expiredOnce) {
        expiredOnce = true;
        // Same start key, fresh RV: what the apiserver offers in the 410 (storage/etcd3/errors.go).
        return sendStatus(
          response,
          failure(410, 'Expired', EXPIRED_MESSAGE, { metadata: { continue: token } }),
        );
      }
      return sendJson(response, 200, pagedList(pods, request));
    });
    const warnings: string[] = [];
    const api = apiFor(server, { pageSize: 10, onWarning: (message) => warnings.push(message) });
    const listed = await collect(api.list<Pod>('pods'));
    assert.deepEqual(listed.map(key), pods.map(key));
    assert.equal(api.stats().expiredContinues, 1);
    assert.match(warnings[0] ?? '', /continuing with the token the server offered/);
  });

  it('relists from the start after a 410 without a token, skipping what it already yielded', async () => {
    const server = await startServer();
    const pods = podSet(45);
    let expired = 0;
    server.handle((request, response) => {
      const token = request.url.searchParams.get('continue');
      if (token && expired < 2) {
        expired += 1;
        return sendStatus(response, failure(410, 'Expired', EXPIRED_MESSAGE));
      }
      return sendJson(response, 200, pagedList(pods, request));
    });
    const warnings: string[] = [];
    const api = apiFor(server, { pageSize: 10, onWarning: (message) => warnings.push(message) });
    const listed = await collect(api.list<Pod>('pods'));
    assert.deepEqual(listed.map(key), pods.map(key));
    assert.equal(new Set(listed.map(key)).size, 45);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] ?? '', /listing again from the start/);
  });

  it('stops fetching when the caller stops reading', async () => {
    const server = await startServer();
    const pods = podSet(100);
    server.handle((request, response) => sendJson(response, 200, pagedList(pods, request)));
    const api = apiFor(server, { pageSize: 10 });
    let seen = 0;
    for await (const _pod of api.list<Pod>('pods')) {
      seen += 1;
      if (seen === 15) break;
    }
    // Page 1, page 2, and at most the prefetch of page 3.
    assert.ok(server.requests.length <= 3, String(server.requests.length));
  });
});

describe('KubeApi retries', () => {
  it('honours Retry-After on 429 and then succeeds', async () => {
    const server = await startServer();
    let calls = 0;
    server.handle((_request, response) => {
      calls += 1;
      if (calls <= 2) {
        return sendStatus(
          response,
          failure(429, 'TooManyRequests', 'Too many requests, please try again later.', {
            details: { retryAfterSeconds: 1 },
          }),
          { 'retry-after': '2' },
        );
      }
      return sendJson(response, 200, pod('ns', 'a'));
    });
    const clock = recordingClock();
    const api = apiFor(server, { clock });
    const found = await api.get<Pod>('pods', 'a', 'ns');
    assert.equal(found?.metadata.name, 'a');
    assert.deepEqual(clock.sleeps, [2000, 2000]);
    assert.equal(api.stats().retries, 2);
    assert.equal(api.stats().requests, 3);
  });

  it('gives up after a bounded number of retries with the last Status', async () => {
    const server = await startServer();
    server.handle((_request, response) =>
      sendStatus(response, failure(429, 'TooManyRequests', 'Too many requests, please try again later.'), {
        'retry-after': '1',
      }),
    );
    const clock = recordingClock();
    const api = apiFor(server, { clock, retry: { maxRetries: 4 } });
    await assert.rejects(api.get('pods', 'a', 'ns'), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.match(error.message, /TooManyRequests, 429.*after 5 attempts/);
      return true;
    });
    assert.equal(server.requests.length, 5);
    assert.equal(clock.sleeps.length, 4);
  });

  it('retries 5xx and reset connections with backoff', async () => {
    const server = await startServer();
    let calls = 0;
    server.handle((_request, response, raw) => {
      calls += 1;
      if (calls === 1)
        return sendStatus(response, failure(500, 'InternalError', 'etcdserver: leader changed'));
      if (calls === 2) {
        raw.socket.destroy();
        return;
      }
      if (calls === 3)
        return sendStatus(response, failure(503, 'ServiceUnavailable', 'apiserver is shutting down'));
      return sendJson(response, 200, pod('ns', 'a'));
    });
    const clock = recordingClock();
    const api = apiFor(server, { clock });
    assert.equal((await api.get<Pod>('pods', 'a', 'ns'))?.metadata.name, 'a');
    // random() = 0: half of 200, 400, 800 ms.
    assert.deepEqual(clock.sleeps, [100, 200, 400]);
  });

  it('caps the requests in flight', async () => {
    const server = await startServer();
    let inFlight = 0;
    let peak = 0;
    server.handle((_request, response) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        sendJson(response, 200, pod('ns', 'a'));
      }, 20);
    });
    const api = apiFor(server, { maxInFlight: 2 });
    await Promise.all(Array.from({ length: 8 }, () => api.get('pods', 'a', 'ns')));
    assert.equal(peak, 2);
    assert.equal(server.requests.length, 8);
  });

  it('reports a refused connection as UNREACHABLE at once', async () => {
    const server = await startServer();
    const url = server.url;
    await server.close();
    const api = new KubeApi({ kubeConfig: kubeConfigFor(url), qps: 0, clock: recordingClock() });
    apis.push(api);
    await assert.rejects(api.get('pods', 'a', 'ns'), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.equal(error.code, 'UNREACHABLE');
      assert.equal(error.message, `cannot reach the API server at ${url}: connection refused (ECONNREFUSED)`);
      return true;
    });
    assert.equal(api.stats().requests, 1);
  });
});

describe('KubeApi reads and writes', () => {
  it('get: an object, or undefined on 404', async () => {
    const server = await startServer();
    server.handle((request, response) =>
      request.url.pathname.endsWith('/a')
        ? sendJson(response, 200, pod('ns', 'a'))
        : sendStatus(response, notFoundStatus('b')),
    );
    const api = apiFor(server);
    assert.equal((await api.get<Pod>('pods', 'a', 'ns'))?.metadata.uid, 'uid-ns-a');
    assert.equal(await api.get('pods', 'b', 'ns'), undefined);
    assert.equal(server.requests[1]?.url.pathname, '/api/v1/namespaces/ns/pods/b');
  });

  it('readLog: lines, with container and tailLines sent', async () => {
    const server = await startServer();
    server.handle((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('{"level":"error","msg":"one"}\n{"level":"info","msg":"two"}\n');
    });
    const reader = new LiveClusterReader(apiFor(server));
    const lines = await reader.readLog({
      namespace: 'kubevirt',
      pod: 'virt-handler-x',
      container: 'virt-handler',
      tailLines: 2,
    });
    assert.deepEqual(lines, ['{"level":"error","msg":"one"}', '{"level":"info","msg":"two"}']);
    const sent = server.requests[0];
    assert.equal(sent?.url.pathname, '/api/v1/namespaces/kubevirt/pods/virt-handler-x/log');
    assert.equal(sent?.url.searchParams.get('container'), 'virt-handler');
    assert.equal(sent?.url.searchParams.get('tailLines'), '2');
    assert.equal(sent?.url.searchParams.get('previous'), null);
    await reader.readLog({
      namespace: 'kubevirt',
      pod: 'virt-handler-x',
      container: 'virt-handler',
      previous: true,
    });
    assert.equal(server.requests[1]?.url.searchParams.get('previous'), 'true');
  });

  it('delete: sends preconditions and options, returns the deleted object, and a 409 is a Conflict', async () => {
    const server = await startServer();
    server.handle((request, response) => {
      const options = JSON.parse(request.body) as { preconditions?: { uid?: string } };
      if (options.preconditions?.uid !== 'uid-ns-a') {
        return sendStatus(
          response,
          failure(
            409,
            'Conflict',
            'Operation cannot be fulfilled on pods "a": Precondition failed: UID in precondition: other, UID in object meta: uid-ns-a',
            {
              details: { name: 'a', kind: 'pods' },
            },
          ),
        );
      }
      return sendJson(response, 200, pod('ns', 'a'));
    });
    const api = apiFor(server);
    await api.delete('pods', 'a', 'ns', {
      preconditions: { uid: 'uid-ns-a', resourceVersion: '7' },
      propagationPolicy: 'Background',
      dryRun: true,
    });
    assert.equal(server.requests[0]?.method, 'DELETE');
    assert.equal(server.requests[0]?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(server.requests[0]?.body ?? ''), {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid: 'uid-ns-a', resourceVersion: '7' },
      propagationPolicy: 'Background',
      dryRun: ['All'],
    });
    await assert.rejects(api.delete('pods', 'a', 'ns', { preconditions: { uid: 'other' } }), (error) =>
      isConflict(error),
    );
    assert.equal(server.requests.length, 2, 'a Conflict is not retried');
    assert.deepEqual(api.stats().byVerb, { delete: 2 });
  });

  it('delete of something gone is NotFound; deleteCollection returns the deleted items', async () => {
    const server = await startServer();
    server.handle((request, response) => {
      if (request.url.pathname.endsWith('/pods/gone')) return sendStatus(response, notFoundStatus('gone'));
      return sendJson(response, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: {},
        items: [pod('ns', 'a'), pod('ns', 'b')],
      });
    });
    const api = apiFor(server);
    await assert.rejects(api.delete('pods', 'gone', 'ns'), (error) => isNotFound(error));
    const deleted = await api.deleteCollection<Pod>('pods', 'ns', {
      labelSelector: 'kubevirt.io=virt-launcher',
      fieldSelector: 'status.phase=Failed',
      propagationPolicy: 'Background',
    });
    assert.deepEqual(
      deleted.map((item) => item.metadata.name),
      ['a', 'b'],
    );
    assert.equal(deleted[0]?.kind, 'Pod');
    const sent = server.requests[1];
    assert.equal(sent?.url.pathname, '/api/v1/namespaces/ns/pods');
    assert.equal(sent?.url.searchParams.get('fieldSelector'), 'status.phase=Failed');
    assert.deepEqual(api.stats().byVerb, { delete: 1, deletecollection: 1 });
    await assert.rejects(api.deleteCollection('pods', undefined), /needs a namespace/);
  });

  it('mergePatch: sends a merge patch to the object path', async () => {
    const server = await startServer();
    server.handle((request, response) =>
      sendJson(response, 200, {
        metadata: { name: 'vm-1', namespace: 'ns' },
        spec: JSON.parse(request.body).spec,
      }),
    );
    const api = apiFor(server);
    const patched = await api.mergePatch<KubeObject & { spec: { runStrategy: string } }>(
      'virtualmachines',
      'vm-1',
      'ns',
      { spec: { runStrategy: 'Halted' } },
      { dryRun: true },
    );
    assert.equal(patched.spec.runStrategy, 'Halted');
    assert.equal(patched.apiVersion, 'kubevirt.io/v1');
    const sent = server.requests[0];
    assert.equal(sent?.method, 'PATCH');
    assert.equal(sent?.url.pathname, '/apis/kubevirt.io/v1/namespaces/ns/virtualmachines/vm-1');
    assert.equal(sent?.url.searchParams.get('dryRun'), 'All');
    assert.equal(sent?.headers['content-type'], 'application/merge-patch+json');
  });

  it('reviewAccess: one access review, retried through a reset and a 500 as a read, where a create is not', async () => {
    const server = await startServer();
    let calls = 0;
    server.handle((request, response, raw) => {
      calls += 1;
      if (calls === 1) {
        raw.socket.destroy();
        return;
      }
      if (calls === 2)
        return sendStatus(response, failure(500, 'InternalError', 'etcdserver: leader changed'));
      const spec = JSON.parse(request.body).spec;
      return sendJson(response, 201, { spec, status: { allowed: false, reason: 'RBAC: no' } });
    });
    const clock = recordingClock();
    const api = apiFor(server, { clock });
    const decision = await api.reviewAccess({
      verb: 'delete',
      resource: 'pods/log',
      group: '',
      namespace: 'ns',
    });
    assert.deepEqual(decision, { allowed: false, reason: 'RBAC: no' });
    assert.equal(server.requests.length, 3);
    const sent = server.requests[2];
    assert.equal(sent?.method, 'POST');
    assert.equal(sent?.url.pathname, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    assert.deepEqual(JSON.parse(sent?.body ?? '{}'), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: 'delete',
          group: '',
          resource: 'pods',
          subresource: 'log',
          namespace: 'ns',
        },
      },
    });
    // A create that failed with a 500 may have been done: it is not sent again.
    calls = 1;
    await assert.rejects(api.create('leases', 'ns', { metadata: { name: 'l' } }), /InternalError|500/);
    assert.equal(server.requests.length, 4);
  });
});

describe('KubeApi watch', () => {
  it('lists, watches, resumes from the last RV when the stream ends, and relists on 410', async () => {
    const server = await startServer();
    let watches = 0;
    let lists = 0;
    server.handle((request, response) => {
      if (request.url.searchParams.get('watch') !== 'true') {
        lists += 1;
        return sendJson(
          response,
          200,
          pagedList([pod('ns', lists === 1 ? 'a' : 'b')], request, lists === 1 ? '10' : '50'),
        );
      }
      watches += 1;
      response.writeHead(200, { 'content-type': 'application/json' });
      const line = (event: unknown): boolean => response.write(`${JSON.stringify(event)}\n`);
      if (watches === 1) {
        line({
          type: 'MODIFIED',
          object: { ...pod('ns', 'a'), metadata: { ...pod('ns', 'a').metadata, resourceVersion: '11' } },
        });
        line({
          type: 'BOOKMARK',
          object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '15' } },
        });
        response.end();
      } else if (watches === 2) {
        line({ type: 'ERROR', object: failure(410, 'Expired', 'too old resource version: 15 (40)') });
        response.end();
      } else {
        line({
          type: 'DELETED',
          object: { ...pod('ns', 'b'), metadata: { ...pod('ns', 'b').metadata, resourceVersion: '51' } },
        });
      }
    });
    const api = apiFor(server);
    const events: Array<WatchEvent<Pod>> = [];
    for await (const event of api.watch<Pod>('pods', {
      namespace: 'ns',
      labelSelector: 'kubevirt.io=virt-launcher',
    })) {
      events.push(event);
      if (event.type === 'DELETED') break;
    }
    const summary = events.map((event) =>
      'object' in event
        ? `${event.type} ${event.object.metadata.name}`
        : 'resourceVersion' in event
          ? `${event.type} ${event.resourceVersion}`
          : event.type,
    );
    assert.deepEqual(summary, [
      'RELIST',
      'ADDED a',
      'SYNCED 10',
      'MODIFIED a',
      'BOOKMARK 15',
      'RELIST',
      'ADDED b',
      'SYNCED 50',
      'DELETED b',
    ]);
    const watchRequests = server.requests.filter(
      (request) => request.url.searchParams.get('watch') === 'true',
    );
    assert.deepEqual(
      watchRequests.map((request) => request.url.searchParams.get('resourceVersion')),
      ['10', '15', '50'],
    );
    assert.equal(watchRequests[0]?.url.searchParams.get('allowWatchBookmarks'), 'true');
    assert.equal(watchRequests[0]?.url.searchParams.get('labelSelector'), 'kubevirt.io=virt-launcher');
    assert.equal(api.stats().relists, 1);
  });
});

describe('KubeApi watch recovery', () => {
  it('reconnects from the last RV after a reset mid-stream, and relists when the RV it was given is gone', async () => {
    const server = await startServer();
    let watches = 0;
    server.handle((request, response, raw) => {
      if (request.url.searchParams.get('watch') !== 'true') {
        return sendJson(response, 200, pagedList([pod('ns', 'a')], request, '90'));
      }
      watches += 1;
      if (watches === 1) {
        // The RV we were asked to start from is compacted: an HTTP 410, before any event.
        return sendStatus(response, failure(410, 'Expired', 'too old resource version: 5 (80)'));
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      if (watches === 2) {
        response.write(
          `${JSON.stringify({ type: 'ADDED', object: { ...pod('ns', 'c'), metadata: { ...pod('ns', 'c').metadata, resourceVersion: '91' } } })}\n`,
        );
        setTimeout(() => raw.socket.destroy(), 20);
        return;
      }
      response.write(
        `${JSON.stringify({ type: 'DELETED', object: { ...pod('ns', 'c'), metadata: { ...pod('ns', 'c').metadata, resourceVersion: '92' } } })}\n`,
      );
    });
    const clock = recordingClock();
    const api = apiFor(server, { clock });
    const summary: string[] = [];
    for await (const event of api.watch<Pod>('pods', { resourceVersion: '5' })) {
      summary.push('object' in event ? `${event.type} ${event.object.metadata.name}` : event.type);
      if (event.type === 'DELETED') break;
    }
    assert.deepEqual(summary, ['RELIST', 'ADDED a', 'SYNCED', 'ADDED c', 'DELETED c']);
    const watchRequests = server.requests.filter(
      (request) => request.url.searchParams.get('watch') === 'true',
    );
    assert.deepEqual(
      watchRequests.map((request) => request.url.searchParams.get('resourceVersion')),
      ['5', '90', '91'],
    );
    assert.equal(clock.sleeps.length, 1, 'one backoff before reconnecting');
  });
});

describe('KubeApi endings', () => {
  it('ends a watch quietly when its signal aborts', async () => {
    const server = await startServer();
    server.handle((request, response) => {
      if (request.url.searchParams.get('watch') !== 'true')
        return sendJson(response, 200, pagedList([], request, '3'));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write(`${JSON.stringify({ type: 'ADDED', object: pod('ns', 'a') })}\n`);
    });
    const controller = new AbortController();
    const types: string[] = [];
    for await (const event of apiFor(server).watch<Pod>('pods', { signal: controller.signal })) {
      types.push(event.type);
      if (event.type === 'ADDED') controller.abort();
    }
    assert.deepEqual(types, ['RELIST', 'SYNCED', 'ADDED']);
  });

  it('gives up on a server that answers every continue with 410', async () => {
    const server = await startServer();
    server.handle((request, response) => {
      const token = request.url.searchParams.get('continue');
      if (token)
        return sendStatus(
          response,
          failure(410, 'Expired', EXPIRED_MESSAGE, { metadata: { continue: token } }),
        );
      return sendJson(response, 200, pagedList(podSet(20), request));
    });
    const api = apiFor(server, { pageSize: 5, retry: { maxRetries: 3 } });
    await assert.rejects(collect(api.list('pods')), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.match(error.message, /Expired, 410/);
      return true;
    });
    assert.equal(api.stats().expiredContinues, 3);
  });
});

describe('KubeApi concurrency across pages', () => {
  it('does not hold a slot while the caller handles a page, so nested requests cannot deadlock', async () => {
    const server = await startServer();
    const pods = podSet(30, 1);
    server.handle((request, response) =>
      request.url.pathname.endsWith('/events')
        ? sendJson(response, 200, { kind: 'EventList', apiVersion: 'v1', metadata: {}, items: [] })
        : sendJson(response, 200, pagedList(pods, request)),
    );
    const api = apiFor(server, { maxInFlight: 1, pageSize: 10 });
    let lookups = 0;
    for await (const item of api.list<Pod>('pods')) {
      // What diagnose does: fetch something else for an item while the list is still being read.
      await collect(
        api.list('events', {
          namespace: item.metadata.namespace ?? '',
          fieldSelector: `involvedObject.name=${item.metadata.name}`,
        }),
      );
      lookups += 1;
    }
    assert.equal(lookups, 30);
  });
});

describe('KubeApi over HTTPS', async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const caData = Buffer.from(pems.cert).toString('base64');

  async function tlsServer(): Promise<FakeServer> {
    const server = await startServer({ key: pems.private, cert: pems.cert });
    server.handle((request, response) => {
      const auth = request.headers.authorization;
      if (auth === 'Bearer good') return sendJson(response, 200, pagedList([pod('ns', 'a')], request));
      if (auth === 'Bearer limited') {
        return sendStatus(
          response,
          failure(
            403,
            'Forbidden',
            'pods is forbidden: User "viewer" cannot list resource "pods" in API group "" at the cluster scope',
            {
              details: { kind: 'pods' },
            },
          ),
        );
      }
      return sendStatus(response, failure(401, 'Unauthorized', 'Unauthorized'));
    });
    return server;
  }

  function tlsApi(server: FakeServer, token: string | undefined, withCa = true): KubeApi {
    const api = new KubeApi({
      kubeConfig: kubeConfigFor(server.url, { ...(withCa ? { caData } : {}), ...(token ? { token } : {}) }),
      qps: 0,
      clock: recordingClock(),
    });
    apis.push(api);
    return api;
  }

  it('sends the bearer token over TLS and trusts the kubeconfig CA', async () => {
    const server = await tlsServer();
    const listed = await collect(tlsApi(server, 'good').list<Pod>('pods'));
    assert.deepEqual(listed.map(key), ['ns/a']);
    assert.match(String(server.requests[0]?.headers['user-agent']), /^stuckfailed\/\d+\.\d+\.\d+/);
  });

  it('maps 401 to UNAUTHORIZED and 403 to FORBIDDEN, without retrying', async () => {
    const server = await tlsServer();
    await assert.rejects(collect(tlsApi(server, 'expired').list('pods')), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.equal(error.code, 'UNAUTHORIZED');
      assert.match(error.message, new RegExp(`the API server at ${server.url} rejected our credentials`));
      return true;
    });
    await assert.rejects(collect(tlsApi(server, 'limited').list('pods')), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.equal(error.code, 'FORBIDDEN');
      assert.match(error.message, /User "viewer" cannot list resource "pods"/);
      return true;
    });
    assert.equal(server.requests.length, 2);
  });

  it('reports an untrusted certificate as UNREACHABLE, naming TLS', async () => {
    const server = await tlsServer();
    await assert.rejects(tlsApi(server, 'good', false).get('pods', 'a', 'ns'), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.equal(error.code, 'UNREACHABLE');
      assert.match(error.message, /^cannot reach the API server at https:\/\/127\.0\.0\.1:\d+: TLS: /);
      return true;
    });
  });
});
