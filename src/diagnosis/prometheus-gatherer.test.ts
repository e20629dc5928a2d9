import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PrometheusAlert, PrometheusClient, RangeSeries, Sample } from '../prometheus/client.js';
import { createPrometheusGatherer } from './prometheus-gatherer.js';

/** A Prometheus that has our recording rules and a firing alert, answering like the HTTP API's parsed results. */
function prometheus(): PrometheusClient & { queries: string[] } {
  const queries: string[] = [];
  const samples: Record<string, Sample[]> = {
    'cluster:kubevirt_virt_launcher_failed:count': [{ labels: {}, value: 240, timestamp: 1_700_000_000 }],
    'namespace:kubevirt_virt_launcher_failed:count': [
      { labels: { namespace: 'web-vms' }, value: 200, timestamp: 1_700_000_000 },
      { labels: { namespace: 'ci-vms' }, value: 40, timestamp: 1_700_000_000 },
    ],
  };
  return {
    url: 'http://127.0.0.1:9090',
    queries,
    async query(expr) {
      queries.push(expr);
      return samples[expr] ?? [];
    },
    async queryRange(expr): Promise<RangeSeries[]> {
      queries.push(`range:${expr}`);
      return [{ labels: {}, points: [{ timestamp: 1_700_000_000, value: 240 }] }];
    },
    async alerts(): Promise<PrometheusAlert[]> {
      return [
        {
          labels: { alertname: 'VirtLauncherPodsStuckFailed', severity: 'critical' },
          annotations: {},
          state: 'firing',
          activeAt: '2026-11-23T21:00:00Z',
          value: 240,
        },
      ];
    },
  };
}

describe('createPrometheusGatherer', () => {
  it("runs the runbook's step 1 queries, the alert state and the trend, for the bundle and the HTML chart", async () => {
    const client = prometheus();
    const gatherer = createPrometheusGatherer(client, { now: () => new Date('2026-11-23T22:00:00Z') });
    const results = await gatherer.gather();
    assert.deepEqual(
      results.map((result) => result.name),
      ['failed-launchers', 'by-namespace', 'by-node', 'by-reason', 'alert', 'trend'],
    );
    assert.deepEqual(results[0]?.result, { count: 240, source: 'recording-rule' });
    assert.equal((results[4]?.result as { state: string } | undefined)?.state, 'firing');
    assert.deepEqual(gatherer.summary(), {
      url: 'http://127.0.0.1:9090',
      failedLaunchers: 240,
      source: 'recording-rule',
      alert: { state: 'firing', activeAt: '2026-11-23T21:00:00Z' },
      trend: [{ time: '2023-11-14T22:13:20.000Z', value: 240 }],
    });
  });

  it('has no summary before gather, and none after a failed one', async () => {
    const client = prometheus();
    const gatherer = createPrometheusGatherer(client);
    assert.equal(gatherer.summary(), undefined);
    await gatherer.gather();
    assert.notEqual(gatherer.summary(), undefined);
    client.alerts = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9090'));
    await assert.rejects(gatherer.gather());
    assert.equal(gatherer.summary(), undefined);
  });

  it('counts the diagnosed namespace only when scoped, 0 where Prometheus has no series for it', async () => {
    const scoped = createPrometheusGatherer(prometheus(), { namespace: 'ci-vms' });
    await scoped.gather();
    assert.equal(scoped.summary()?.failedLaunchers, 40);
    assert.equal(scoped.summary()?.namespace, 'ci-vms');
    const empty = createPrometheusGatherer(prometheus(), { namespace: 'quiet' });
    await empty.gather();
    assert.equal(empty.summary()?.failedLaunchers, 0);
  });

  it('reports an inactive alert without activeAt, and names the server without its credentials', async () => {
    const client = prometheus();
    client.alerts = async () => [];
    Object.defineProperty(client, 'url', { value: 'https://sre:hunter2@thanos.example.com:9091/prefix' });
    const gatherer = createPrometheusGatherer(client);
    await gatherer.gather();
    assert.deepEqual(gatherer.summary()?.alert, { state: 'inactive' });
    assert.equal(gatherer.summary()?.url, 'https://thanos.example.com:9091/prefix');
  });

  it('lets a Prometheus failure through, for gather to record it', async () => {
    const client = prometheus();
    client.alerts = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9090'));
    await assert.rejects(createPrometheusGatherer(client).gather(), /ECONNREFUSED/);
  });
});
