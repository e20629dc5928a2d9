import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import type { Pod } from '../kube/types.js';
import { KubeApi } from './kube-api.js';

// How many pages a list asks for: the next page is fetched only once the caller is halfway through the current
// one, so a caller that stops early pays for no page it does not read.

const PAGE = 10;
const PODS: Pod[] = Array.from({ length: 45 }, (_, index) => ({
  metadata: { name: `pod-${String(index).padStart(3, '0')}`, namespace: 'ns' },
  spec: { containers: [{ name: 'compute' }] },
}));

let server: http.Server;
let url = '';
const continues: Array<string | undefined> = [];

before(async () => {
  server = http.createServer((request, response) => {
    const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
    const start = Number(query.get('continue') ?? 0);
    continues.push(query.get('continue') ?? undefined);
    const limit = Number(query.get('limit'));
    const end = Math.min(start + limit, PODS.length);
    const body = JSON.stringify({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '9', ...(end < PODS.length ? { continue: String(end) } : {}) },
      items: PODS.slice(start, end),
    });
    // Gzipped, as the apiserver answers large lists to clients that accept it.
    response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    response.end(gzipSync(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function api(): KubeApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: url }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubeApi({ kubeConfig, pageSize: PAGE, qps: 0 });
}

async function readThenStop(client: KubeApi, items: number): Promise<string[]> {
  const names: string[] = [];
  for await (const pod of client.list<Pod>('pods')) {
    names.push(pod.metadata.name);
    if (names.length === items) break;
  }
  client.close();
  return names;
}

describe('KubeApi.list paging', () => {
  it('reads every page in order, each item typed', async () => {
    continues.length = 0;
    const client = api();
    const pods: Pod[] = [];
    for await (const pod of client.list<Pod>('pods')) pods.push(pod);
    client.close();
    assert.deepEqual(
      pods.map((pod) => pod.metadata.name),
      PODS.map((pod) => pod.metadata.name),
    );
    assert.equal(pods[0]?.kind, 'Pod');
    assert.deepEqual(continues, [undefined, '10', '20', '30', '40']);
  });

  it('does not fetch the next page when the caller stops before the middle of this one', async () => {
    continues.length = 0;
    assert.equal((await readThenStop(api(), 3)).length, 3);
    assert.deepEqual(continues, [undefined]);
  });

  it('does not fetch a page past the one the caller stops in', async () => {
    continues.length = 0;
    // The first item of the second page: the third page is not asked for.
    assert.equal((await readThenStop(api(), PAGE + 1)).at(-1), 'pod-010');
    assert.deepEqual(continues, [undefined, '10']);
  });

  it('prefetches the next page once the caller is halfway through this one', async () => {
    continues.length = 0;
    const client = api();
    const iterator = client.list<Pod>('pods')[Symbol.asyncIterator]();
    for (let index = 0; index <= PAGE / 2; index += 1) await iterator.next();
    // Let the prefetch request reach the server before stopping.
    for (let waited = 0; continues.length < 2 && waited < 200; waited += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await iterator.return?.(undefined);
    client.close();
    assert.deepEqual(continues, [undefined, '10']);
  });

  it('prefetches the next page as soon as this one arrives for a caller that reads everything', async () => {
    continues.length = 0;
    const client = api();
    const iterator = client.list<Pod>('pods', { readsAll: true })[Symbol.asyncIterator]();
    await iterator.next();
    // Let the prefetch request reach the server before stopping.
    for (let waited = 0; continues.length < 2 && waited < 200; waited += 1) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await iterator.return?.(undefined);
    client.close();
    assert.deepEqual(continues, [undefined, '10']);
  });

  it('listPages gives whole pages with their metadata', async () => {
    continues.length = 0;
    const client = api();
    const sizes: number[] = [];
    let lastVersion: string | undefined;
    for await (const page of client.listPages<Pod>('pods')) {
      sizes.push(page.items.length);
      lastVersion = page.metadata.resourceVersion;
    }
    client.close();
    assert.deepEqual(sizes, [10, 10, 10, 10, 5]);
    assert.equal(lastVersion, '9');
  });
});
