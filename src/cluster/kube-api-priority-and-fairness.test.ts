// The client-side rate cap against a server with API Priority and Fairness (the simulator names its flow schema
// and priority level on every answer, as a real apiserver does): lifted after the first answer by default, kept
// when asked to hold, and kept against a server that does not say it has APF.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { type RunningSimulator, startSimulator } from '../sim/index.js';
import type { Clock } from './clock.js';
import { KubeApi } from './kube-api.js';

/** A clock that stands still (the bucket never refills by itself) and whose sleeps return at once, counted. */
function countingClock(): Clock & { sleeps: number } {
  const clock = {
    sleeps: 0,
    now: () => 0,
    sleep: async () => {
      clock.sleeps += 1;
    },
  };
  return clock;
}

function apiFor(server: string, clock: Clock, qpsOnlyWithoutApf?: boolean): KubeApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  // One request a second, no burst to speak of: any request after the first must wait unless the cap is lifted.
  return new KubeApi({
    kubeConfig,
    qps: 1,
    burst: 1,
    clock,
    ...(qpsOnlyWithoutApf === undefined ? {} : { qpsOnlyWithoutApf }),
  });
}

async function getTwenty(api: KubeApi): Promise<void> {
  for (let i = 0; i < 20; i += 1) await api.get('namespaces', 'default');
}

describe('KubeApi and API Priority and Fairness', () => {
  let sim: RunningSimulator;
  let plain: http.Server;
  let plainUrl = '';
  before(async () => {
    sim = await startSimulator({ scenario: 'healthy', namespaces: 1, nodes: 1 });
    // A server without APF: the same answer, no X-Kubernetes-PF-* headers.
    plain = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'default' } }));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  });
  after(async () => {
    await sim.close();
    plain.closeAllConnections();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
  });

  it('lifts the rate cap once the server shows APF, and says so in its stats', async () => {
    const clock = countingClock();
    const api = apiFor(sim.url, clock);
    await getTwenty(api);
    assert.equal(api.stats().priorityAndFairness, true);
    assert.equal(clock.sleeps, 0);
    api.close();
  });

  it('keeps the rate cap under APF when told to hold it (an explicit --qps)', async () => {
    const clock = countingClock();
    const api = apiFor(sim.url, clock, false);
    await getTwenty(api);
    assert.equal(api.stats().priorityAndFairness, true);
    assert.equal(clock.sleeps, 19);
    api.close();
  });

  it('keeps the rate cap against a server without APF', async () => {
    const clock = countingClock();
    const api = apiFor(plainUrl, clock);
    await getTwenty(api);
    assert.equal(api.stats().priorityAndFairness, false);
    assert.equal(clock.sleeps, 19);
    api.close();
  });
});
