import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALERT_FOR_MS, alertState } from './alert-state.js';

const NOW = new Date('2026-11-23T22:00:00Z');
const minutesAgo = (minutes: number) => NOW.getTime() - minutes * 60_000;

describe('alertState', () => {
  it('from the API: firing once the threshold-th still-Failed launcher ended 10 minutes ago or more', () => {
    // 3 launchers, threshold 2: the count reached 2 when the second one ended, 25 minutes ago.
    const alert = alertState({
      threshold: 2,
      failedLaunchers: 3,
      terminations: [minutesAgo(40), minutesAgo(25), minutesAgo(1)],
      now: NOW,
    });
    assert.deepEqual(alert, {
      state: 'firing',
      since: new Date(minutesAgo(25)).toISOString(),
      source: 'api-estimate',
      scope: 'cluster',
    });
  });

  it("from the API: pending while the condition has held less than the alert's 10 minutes", () => {
    const alert = alertState({
      threshold: 2,
      failedLaunchers: 2,
      terminations: [minutesAgo(40), minutesAgo(9)],
      now: NOW,
    });
    assert.equal(alert.state, 'pending');
    assert.equal(alert.since, new Date(minutesAgo(9)).toISOString());
    assert.ok(NOW.getTime() - Date.parse(alert.since ?? '') < ALERT_FOR_MS);
  });

  it('inactive below the threshold, whatever the times', () => {
    assert.deepEqual(
      alertState({ threshold: 200, failedLaunchers: 199, terminations: [minutesAgo(60)], now: NOW }),
      {
        state: 'inactive',
        since: null,
        source: 'api-estimate',
        scope: 'cluster',
      },
    );
  });

  it('takes pods that do not say when they ended as ended now, which keeps the estimate a lower bound', () => {
    const alert = alertState({ threshold: 2, failedLaunchers: 2, terminations: [minutesAgo(60)], now: NOW });
    assert.deepEqual([alert.state, alert.since], ['pending', NOW.toISOString()]);
  });

  it('with -n, says the estimate counts the namespace alone', () => {
    const alert = alertState({
      threshold: 1,
      failedLaunchers: 1,
      terminations: [minutesAgo(30)],
      now: NOW,
      namespace: 'web-vms',
    });
    assert.equal(alert.scope, 'namespace');
  });

  it("takes Prometheus's ALERTS when Prometheus was asked: cluster-wide, since it became active", () => {
    const alert = alertState({
      threshold: 200,
      failedLaunchers: 10,
      terminations: [],
      now: NOW,
      namespace: 'web-vms',
      prometheus: {
        url: 'http://prometheus:9090',
        failedLaunchers: 10,
        namespace: 'web-vms',
        source: 'recording-rule',
        alert: { state: 'firing', activeAt: '2026-11-23T21:00:00Z' },
        trend: [],
      },
    });
    assert.deepEqual(alert, {
      state: 'firing',
      since: '2026-11-23T21:00:00Z',
      source: 'prometheus',
      scope: 'cluster',
    });
  });
});
