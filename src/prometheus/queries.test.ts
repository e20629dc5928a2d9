import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PrometheusAlert, PrometheusClient, RangeQueryOptions, RangeSeries, Sample } from './client.js';
import {
  FAILED_LAUNCHER_COUNT,
  FAILED_LAUNCHERS_BY_NAMESPACE,
  queryAlertState,
  queryByNamespace,
  queryByReason,
  queryFailedLauncherCount,
  queryTrend,
} from './queries.js';

// A Prometheus that answers from tables, to pin down the fallback and the shaping. The expressions themselves are
// tested against a real Prometheus in test/integration/rules-promtool.test.ts.
function tableClient(
  instant: Record<string, Sample[]>,
  rangeAnswers: Record<string, RangeSeries[]> = {},
  alerts: PrometheusAlert[] = [],
): PrometheusClient & { asked: string[]; ranges: RangeQueryOptions[] } {
  const asked: string[] = [];
  const ranges: RangeQueryOptions[] = [];
  return {
    url: 'http://prometheus.test',
    asked,
    ranges,
    async query(expr: string) {
      asked.push(expr);
      return instant[expr] ?? [];
    },
    async queryRange(expr: string, range: RangeQueryOptions) {
      asked.push(expr);
      ranges.push(range);
      return rangeAnswers[expr] ?? [];
    },
    async alerts() {
      return alerts;
    },
  };
}

const sample = (labels: Record<string, string>, value: number): Sample => ({ labels, value, timestamp: 1 });

describe('the runbook queries', () => {
  it('reads the count from the recording rule when it is installed, without computing it again', async () => {
    const client = tableClient({ [FAILED_LAUNCHER_COUNT.record]: [sample({}, 250)] });
    assert.deepEqual(await queryFailedLauncherCount(client), { count: 250, source: 'recording-rule' });
    assert.deepEqual(client.asked, [FAILED_LAUNCHER_COUNT.record]);
  });

  it('falls back to the raw expression when the recording rule is not installed', async () => {
    const client = tableClient({ [FAILED_LAUNCHER_COUNT.expr]: [sample({}, 0)] });
    assert.deepEqual(await queryFailedLauncherCount(client), { count: 0, source: 'expression' });
    assert.deepEqual(client.asked, [FAILED_LAUNCHER_COUNT.record, FAILED_LAUNCHER_COUNT.expr]);
  });

  it('takes the largest of duplicated rule samples (two rule evaluators), never their sum', async () => {
    const client = tableClient({
      [FAILED_LAUNCHER_COUNT.record]: [sample({ prometheus: 'a' }, 210), sample({ prometheus: 'b' }, 212)],
    });
    assert.equal((await queryFailedLauncherCount(client)).count, 212);
  });

  it('shapes a breakdown as {key, count}, largest first then by key, as Diagnosis byNamespace wants', async () => {
    const client = tableClient({
      [FAILED_LAUNCHERS_BY_NAMESPACE.record]: [
        sample({ namespace: 'b' }, 5),
        sample({ namespace: 'a' }, 5),
        sample({ namespace: 'c' }, 90),
      ],
    });
    assert.deepEqual(await queryByNamespace(client), {
      items: [
        { key: 'c', count: 90 },
        { key: 'a', count: 5 },
        { key: 'b', count: 5 },
      ],
      source: 'recording-rule',
    });
  });

  it('reports an empty breakdown as empty, after trying the expression', async () => {
    const client = tableClient({});
    assert.deepEqual(await queryByReason(client), { items: [], source: 'expression' });
    assert.equal(client.asked.length, 2);
  });

  it('asks for the trend over the last hours and falls back when the rule has no history yet', async () => {
    const end = new Date('2026-11-23T12:00:00Z');
    const seconds = end.getTime() / 1000;
    const client = tableClient(
      {},
      {
        [FAILED_LAUNCHER_COUNT.expr]: [
          {
            labels: {},
            points: [
              { timestamp: seconds - 3600, value: 120 },
              { timestamp: seconds, value: 180 },
            ],
          },
        ],
      },
    );
    const trend = await queryTrend(client, { hours: 1, stepSeconds: 3600, now: () => end });
    assert.deepEqual(client.ranges[0], { start: new Date('2026-11-23T11:00:00Z'), end, stepSeconds: 3600 });
    assert.deepEqual(trend, {
      points: [
        { timestamp: new Date('2026-11-23T11:00:00Z'), count: 120 },
        { timestamp: end, count: 180 },
      ],
      source: 'expression',
    });
  });

  it('reports the most advanced state of the alert among its instances, inactive when none', async () => {
    const alert = (
      state: 'pending' | 'firing',
      activeAt: string,
      alertname = 'VirtLauncherPodsStuckFailed',
    ) => ({
      labels: { alertname },
      annotations: {},
      state,
      activeAt,
      value: 230,
    });
    const client = tableClient({}, {}, [
      alert('pending', '2026-11-23T10:05:00Z'),
      alert('firing', '2026-11-23T10:09:00Z'),
      alert('firing', '2026-11-23T10:01:00Z'),
      alert('firing', '2026-11-23T09:00:00Z', 'SomethingElse'),
    ]);
    assert.deepEqual(await queryAlertState(client), {
      alertname: 'VirtLauncherPodsStuckFailed',
      state: 'firing',
      activeAt: '2026-11-23T10:01:00Z',
      value: 230,
      labels: { alertname: 'VirtLauncherPodsStuckFailed' },
    });
    assert.equal((await queryAlertState(client, 'VirtLauncherPodsStuckFailedPredicted')).state, 'inactive');
  });
});
