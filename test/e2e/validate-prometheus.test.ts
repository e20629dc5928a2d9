import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import type { Namespace } from '../../src/kube/types.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
} from '../../src/launcher/launcher-pod.js';
import { createPrometheusClient } from '../../src/prometheus/client.js';
import { ALERT_NAME, queryFailedLauncherCount } from '../../src/prometheus/queries.js';
import { validateClearing } from '../../src/validation/validate-clearing.js';
import { runCli } from '../helpers/cli.js';
import {
  type RunningComponent,
  startPrometheus,
  waitFor,
  writeRulesTestCopy,
} from '../helpers/prometheus-stack.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

// validate --prometheus-url against the real Prometheus scraping the simulator's kube-state-metrics series every
// second and evaluating the production rules: the count comes from the recording rule, the launchers from the API.

describe('validate with a real Prometheus', () => {
  let dir = '';
  let simulator: (SimulatorHandle & { stop(): Promise<void> }) | undefined;
  let prometheus: RunningComponent | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-validate-prometheus-'));
    simulator = await startTestSimulator({ scenario: 'image-pull', failed: 230, seed: 11, churn: 2 });
    prometheus = await startPrometheus({
      dir,
      targets: [`127.0.0.1:${simulator.sim.port}`],
      ruleFiles: [await writeRulesTestCopy(dir, ALERT_NAME, '2s')],
    });
    const client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5_000 });
    await waitFor('the recording rule to count the Failed launchers', async () => {
      const { count, source } = await queryFailedLauncherCount(client);
      return source === 'recording-rule' && count >= 200 ? true : undefined;
    });
  });

  after(async () => {
    await prometheus?.stop();
    await simulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('times out on the recording rule count while the launchers are Failed, then clears after cleanup and heal', async () => {
    const handle = simulator as SimulatorHandle;
    const { api } = openKubeApi({ kubeconfig: handle.kubeconfig, env: {} });
    const client = createPrometheusClient({ url: prometheus?.url ?? '', timeoutMs: 5_000 });
    try {
      const stuck = await validateClearing({
        api,
        prometheus: client,
        prometheusIntervalMs: 500,
        windowMs: 2_000,
        // Long enough for the first list on a loaded machine: the reason must be the count, not the list.
        timeoutMs: 10_000,
      });
      assert.equal(stuck.outcome, 'timeout');
      assert.equal(stuck.countSource, 'prometheus-recording-rule');
      assert.ok((stuck.count ?? 0) >= 200);
      assert.match(stuck.notMet[0] ?? '', /drop below 200/);

      for await (const namespace of api.list<Namespace>('namespaces')) {
        await api.deleteCollection('pods', namespace.metadata.name, {
          labelSelector: FAILED_LAUNCHER_LABEL_SELECTOR,
          fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
        });
      }
      handle.sim.heal();
    } finally {
      api.close();
    }
    const result = await runCli(
      [
        'validate',
        '--prometheus-url',
        prometheus?.url ?? '',
        '--prometheus-interval',
        '500ms',
        '--window',
        '2s',
        '--timeout',
        '40s',
      ],
      { env: { KUBECONFIG: handle.kubeconfig } },
    );
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(
      result.stderr,
      /count from Prometheus at http:\/\/127\.0\.0\.1:\d+ \(cluster:kubevirt_virt_launcher_failed:count/,
    );
    // A few launchers may fail between the cleanup and the heal, and the alert's PromQL also counts pods merely
    // named like launchers (the scenario's noise), so the two counts need not be 0 nor equal: both are low.
    assert.match(
      result.stdout,
      /^cleared: the Failed launcher count \(\d+, from Prometheus \(recording-rule\)\)/,
    );
    const counts = /count: (\d+) from Prometheus .* \(prometheus-recording-rule\); the API counts (\d+)/.exec(
      result.stdout,
    );
    assert.ok(counts !== null && Number(counts[1]) < 200 && Number(counts[2]) < 200, result.stdout);
  });
});
