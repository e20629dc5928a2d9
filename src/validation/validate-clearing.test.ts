import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcher, vmi } from '../../test/helpers/validation-fixtures.js';
import { ApiError } from '../cluster/api-error.js';
import type { Clock } from '../cluster/clock.js';
import type { WatchEvent, WatchOptions } from '../cluster/kube-api.js';
import type { ResourceName } from '../kube/resources.js';
import type { KubeObject, Pod } from '../kube/types.js';
import type { PrometheusClient } from '../prometheus/client.js';
import { type ValidateClearingOptions, type ValidationApi, validateClearing } from './validate-clearing.js';

// validateClearing end to end over a scripted watch, in virtual time: the clock only moves to the next timer once
// everything else has settled, so ten-minute windows take milliseconds and the order of events is exact.

const START = Date.parse('2026-11-29T10:00:00Z');

function virtualClock(): Clock {
  let now = START;
  const timers: Array<{ at: number; fire(): void }> = [];
  let scheduled = false;
  const step = () => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at);
    const next = timers.shift();
    if (next === undefined) return;
    now = Math.max(now, next.at);
    next.fire();
    if (timers.length > 0) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(step);
  };
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => {
          const index = timers.indexOf(timer);
          if (index >= 0) timers.splice(index, 1);
          reject(signal?.reason);
        };
        const timer = {
          at: now + ms,
          fire: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
        schedule();
      }),
  };
}

/** A change at `at` milliseconds after the start. */
interface Timed {
  at: number;
  event: WatchEvent<KubeObject>;
}

interface Script {
  pods: KubeObject[];
  vmis: KubeObject[];
  podChanges?: Timed[];
  vmiChanges?: Timed[];
  /** Thrown by the pod watch at once. */
  error?: Error;
}

function scriptedApi(
  clock: Clock,
  script: Script,
): ValidationApi & { watched: Array<[string, WatchOptions]> } {
  const watched: Array<[string, WatchOptions]> = [];
  async function* watch(
    resource: ResourceName,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<KubeObject>> {
    watched.push([resource, options]);
    if (script.error && resource === 'pods') throw script.error;
    const initial = resource === 'pods' ? script.pods : script.vmis;
    yield { type: 'RELIST' };
    for (const object of initial) yield { type: 'ADDED', object };
    yield { type: 'SYNCED', resourceVersion: '1' };
    const { signal } = options;
    try {
      for (const change of (resource === 'pods' ? script.podChanges : script.vmiChanges) ?? []) {
        await clock.sleep(Math.max(0, START + change.at - clock.now()), signal);
        yield change.event;
      }
      // A quiet watch stays open until the caller aborts it.
      await clock.sleep(Number.MAX_SAFE_INTEGER / 2, signal);
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }
  return { watched, watch: watch as ValidationApi['watch'] };
}

const failed = (count: number, prefix = 'f') =>
  Array.from({ length: count }, (_, index) =>
    launcher(`virt-launcher-${prefix}${index}-aaaaa`, { phase: 'Failed' }),
  );

function run(script: Script, options: Partial<ValidateClearingOptions> = {}) {
  const clock = virtualClock();
  const api = scriptedApi(clock, script);
  const verdict = validateClearing({
    api,
    clock,
    threshold: 3,
    windowMs: 60_000,
    timeoutMs: 300_000,
    ...options,
  });
  return { api, verdict };
}

const deleted = (pods: Pod[], at: number): Timed[] =>
  pods.map((object) => ({ at, event: { type: 'DELETED', object } }));

describe('validateClearing', () => {
  it('times out while the Failed launchers are there, saying which condition did not hold, with counts', async () => {
    const { verdict, api } = run({ pods: failed(5), vmis: [] });
    const result = await verdict;
    assert.equal(result.cleared, false);
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.count, 5);
    assert.equal(result.countSource, 'api');
    assert.deepEqual(result.notMet, ['the Failed launcher count to drop below 3 (now 5)']);
    assert.match(
      result.reason,
      /^not cleared after 5m: still waiting for the Failed launcher count to drop below 3/,
    );
    assert.equal(Date.parse(result.finishedAt) - Date.parse(result.startedAt), 300_000);
    // It watched pods (launcher label) and VMIs; nothing was polled.
    assert.deepEqual(
      api.watched.map(([resource, options]) => [resource, options.labelSelector]),
      [
        ['pods', 'kubevirt.io=virt-launcher'],
        ['virtualmachineinstances', undefined],
      ],
    );
  });

  it('clears once the count has stayed below the threshold for the window after a cleanup', async () => {
    const pods = failed(5);
    const { verdict } = run({ pods, vmis: [], podChanges: deleted(pods, 20_000) });
    const result = await verdict;
    assert.equal(result.outcome, 'cleared', result.reason);
    assert.equal(result.count, 0);
    assert.equal(result.clearForMs, 60_000);
    assert.equal(Date.parse(result.finishedAt) - Date.parse(result.startedAt), 80_000);
    assert.deepEqual(result.notMet, []);
  });

  it('restarts the window when a launcher goes Failed in it', async () => {
    const pods = failed(5);
    const late = launcher('virt-launcher-late-bbbbb', { phase: 'Failed' });
    const { verdict } = run({
      pods,
      vmis: [],
      podChanges: [...deleted(pods, 10_000), { at: 50_000, event: { type: 'ADDED', object: late } }],
    });
    const result = await verdict;
    assert.equal(result.outcome, 'cleared', result.reason);
    assert.equal(result.launcherFailures, 1);
    assert.equal(result.newLaunchers.failed, 1);
    assert.equal(Date.parse(result.finishedAt) - Date.parse(result.startedAt), 110_000);
  });

  it('fails at the timeout when launchers keep failing, even below the threshold', async () => {
    const churn: Timed[] = Array.from({ length: 10 }, (_, index) => ({
      at: 30_000 * (index + 1),
      event: { type: 'ADDED', object: launcher(`virt-launcher-c${index}-ccccc`, { phase: 'Failed' }) },
    }));
    // Each failure is cleaned right after it, so the count stays at 0 or 1.
    const cleaned: Timed[] = churn.map((change) => ({
      at: change.at + 1_000,
      event: { type: 'DELETED', object: (change.event as { object: KubeObject }).object },
    }));
    const changes = [...churn, ...cleaned].sort((a, b) => a.at - b.at);
    const { verdict } = run({ pods: [], vmis: [], podChanges: changes }, { timeoutMs: 240_000 });
    const result = await verdict;
    assert.equal(result.outcome, 'timeout');
    assert.ok(result.launcherFailures >= 7);
    assert.match(result.notMet[0] ?? '', /window restarted .* when a launcher went Failed/);
  });

  it('waits for new launchers to reach Running on Running VMIs', async () => {
    const starting = launcher('virt-launcher-vm1-ddddd', { phase: 'Pending', vmi: 'vm1' });
    const { verdict } = run({
      pods: [],
      vmis: [],
      podChanges: [
        { at: 1_000, event: { type: 'ADDED', object: starting } },
        {
          at: 90_000,
          event: { type: 'MODIFIED', object: { ...starting, status: { phase: 'Running' } } as Pod },
        },
      ],
      vmiChanges: [
        { at: 1_000, event: { type: 'ADDED', object: vmi('vm1', 'Scheduling') } },
        { at: 120_000, event: { type: 'MODIFIED', object: vmi('vm1', 'Running') } },
      ],
    });
    const result = await verdict;
    assert.equal(result.outcome, 'cleared', result.reason);
    assert.equal(Date.parse(result.finishedAt) - Date.parse(result.startedAt), 120_000);
    assert.deepEqual(result.newLaunchers, { total: 1, running: 1, pending: 0, failed: 0, succeeded: 0 });
  });

  it('names the launcher that never started and the VMI that never ran at the timeout', async () => {
    const stuck = launcher('virt-launcher-vm2-eeeee', { phase: 'Pending', vmi: 'vm2' });
    const up = launcher('virt-launcher-vm3-fffff', { phase: 'Running', vmi: 'vm3' });
    const { verdict } = run({
      pods: [],
      vmis: [vmi('vm3', 'Scheduled')],
      podChanges: [
        { at: 1_000, event: { type: 'ADDED', object: stuck } },
        { at: 1_000, event: { type: 'ADDED', object: up } },
      ],
    });
    const result = await verdict;
    assert.equal(result.outcome, 'timeout');
    assert.deepEqual(result.notMet, [
      '1 of the 2 launchers created since the start to reach Running (e.g. vms/virt-launcher-vm2-eeeee)',
      '1 VMIs of new launchers to be Running (e.g. vms/vm3 (Scheduled))',
    ]);
    assert.equal(result.vmisNotRunning, 1);
  });

  it('stops with outcome aborted when the signal fires', async () => {
    const controller = new AbortController();
    const { verdict } = run(
      { pods: failed(5), vmis: [] },
      {
        signal: controller.signal,
        onProgress: (status) => {
          if (status.count === 5) controller.abort();
        },
      },
    );
    const result = await verdict;
    assert.equal(result.outcome, 'aborted');
    assert.match(result.reason, /^not cleared when interrupted/);
  });

  it('fails with the API error (403 is exit 3)', async () => {
    const forbidden = new ApiError({
      method: 'GET',
      url: 'https://api/api/v1/pods',
      server: 'the API server',
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        code: 403,
        reason: 'Forbidden',
        message: 'pods is forbidden',
      },
      attempts: 1,
    });
    const { verdict } = run({ pods: [], vmis: [], error: forbidden });
    await assert.rejects(verdict, (error: unknown) => error === forbidden && forbidden.exitCode === 3);
  });

  it('refuses a timeout shorter than the window', async () => {
    await assert.rejects(
      run({ pods: [], vmis: [] }, { timeoutMs: 1_000 }).verdict,
      /shorter than the window/,
    );
  });

  it('counts from Prometheus when given, and says so', async () => {
    const queries: string[] = [];
    let value = 250;
    const prometheus: PrometheusClient = {
      url: 'http://prometheus.test',
      async query(expr) {
        queries.push(expr);
        // The recording rule is absent here: the fallback to the expression is what gets used.
        if (expr === 'cluster:kubevirt_virt_launcher_failed:count') return [];
        return [{ labels: {}, value, timestamp: 0 }];
      },
      queryRange: async () => [],
      alerts: async () => [],
    };
    const pods = failed(5);
    const { verdict } = run(
      { pods, vmis: [], podChanges: deleted(pods, 10_000) },
      {
        threshold: 200,
        prometheus,
        prometheusIntervalMs: 15_000,
        onProgress: (status) => {
          // Prometheus sees the cleanup a scrape later than the API.
          if (status.count === 250 && status.remainingMs <= 270_000) value = 0;
        },
      },
    );
    const result = await verdict;
    assert.equal(result.outcome, 'cleared', result.reason);
    assert.equal(result.countSource, 'prometheus-expression');
    assert.equal(result.apiCount, 0);
    assert.equal(result.prometheusUrl, 'http://prometheus.test');
    assert.ok(queries.includes('cluster:kubevirt_virt_launcher_failed:count'));
    // Cleared on Prometheus' clock: the count it saw went below only at a poll after 30 s.
    assert.ok(Date.parse(result.finishedAt) - Date.parse(result.startedAt) >= 90_000);
  });
});
