import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openClusterReader } from '../../src/cluster/open-reader.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import { createPrometheusGatherer } from '../../src/diagnosis/prometheus-gatherer.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { createPrometheusClient, type PrometheusClient } from '../../src/prometheus/client.js';
import { ALERT_NAME, queryAlertState, queryFailedLauncherCount } from '../../src/prometheus/queries.js';
import { renderReport } from '../../src/report/index.js';
import { diagnosisSchema } from '../../src/report/schema.js';
import { runCli } from '../helpers/cli.js';
import {
  type RunningComponent,
  startPrometheus,
  waitFor,
  writeRulesTestCopy,
} from '../helpers/prometheus-stack.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

// `diagnose --prometheus-url` against a real Prometheus: it scrapes the simulator's kube-state-metrics series every
// second and evaluates the production rules (a test copy with `for: 2s`), and the Diagnosis carries what it says:
// the recording rule's count, the alert firing, the trend from a range query. Then Prometheus goes away and diagnose
// still answers from the API, saying so in gatherErrors ("Prometheus down falls back to the API and says so").

const FAILED = 230;

/**
 * What the alert's PromQL counts: Failed pods *named* virt-launcher-*, labelled or not. The scenario's noise includes
 * a user's pod merely named like a launcher, which the API's count (label and name, DESIGN §4) leaves out.
 */
async function failedPodsNamedLikeLaunchers(apiUrl: string): Promise<number> {
  const url = new URL('/api/v1/pods', apiUrl);
  url.searchParams.set('fieldSelector', 'status.phase=Failed');
  const list = (await (await fetch(url)).json()) as { items: Array<{ metadata: { name: string } }> };
  return list.items.filter((pod) => pod.metadata.name.startsWith('virt-launcher-')).length;
}

describe('diagnose with a real Prometheus', () => {
  let dir = '';
  let simulator: (SimulatorHandle & { stop(): Promise<void> }) | undefined;
  let prometheus: RunningComponent | undefined;
  let client: PrometheusClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-diagnose-prometheus-'));
    simulator = await startTestSimulator({ scenario: 'image-pull', failed: FAILED, seed: 7 });
    prometheus = await startPrometheus({
      dir,
      targets: [`127.0.0.1:${simulator.sim.port}`],
      ruleFiles: [await writeRulesTestCopy(dir, ALERT_NAME, '2s')],
    });
    client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5_000 });
  });

  after(async () => {
    await prometheus?.stop();
    await simulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** diagnose in-process, with a trend window that fits the seconds of history this Prometheus has. */
  async function diagnoseWithPrometheus(url: string): Promise<Diagnosis> {
    const opened = await openClusterReader({ kubeconfig: simulator?.kubeconfig, env: {} });
    try {
      // A one-minute trend at 1 s steps: this Prometheus has seconds of history, not the default 6 hours.
      const gatherer = createPrometheusGatherer(createPrometheusClient({ url, timeoutMs: 5_000 }), {
        trendHours: 1 / 60,
        trendStepSeconds: 1,
      });
      return (await diagnose(opened.reader, { prometheus: gatherer })).diagnosis;
    } finally {
      opened.close();
    }
  }

  it('reports the recording rule count, the firing alert and the trend beside the API counts', async () => {
    const namedLikeLaunchers = await failedPodsNamedLikeLaunchers(simulator?.sim.url ?? '');
    assert.ok(namedLikeLaunchers >= FAILED, `${namedLikeLaunchers} Failed pods named virt-launcher-*`);
    // The first scrape comes 5-6 s after start; then `for: 2s` to fire.
    await waitFor(
      'the recording rule to count the Failed launchers',
      async () => ((await queryFailedLauncherCount(client)).count === namedLikeLaunchers ? true : undefined),
      { timeoutMs: 40_000 },
    );
    await waitFor(
      'the alert to fire',
      async () => ((await queryAlertState(client)).state === 'firing' ? true : undefined),
      { timeoutMs: 40_000 },
    );

    const diagnosis = await diagnoseWithPrometheus(client.url);
    assert.equal(diagnosis.failedLaunchers, FAILED);
    assert.deepEqual(diagnosis.gatherErrors, []);
    const summary = diagnosis.prometheus;
    assert.ok(summary, 'the Diagnosis carries what Prometheus says');
    assert.equal(summary.url, client.url);
    assert.equal(summary.failedLaunchers, namedLikeLaunchers);
    assert.equal(summary.source, 'recording-rule');
    assert.equal(summary.namespace, undefined);
    assert.equal(summary.alert.state, 'firing');
    assert.ok(
      Number.isFinite(Date.parse(summary.alert.activeAt ?? '')),
      `activeAt ${summary.alert.activeAt}`,
    );
    assert.ok(summary.trend.length > 0, 'a non-empty trend');
    assert.equal(summary.trend.at(-1)?.value, namedLikeLaunchers);
    const times = summary.trend.map((point) => Date.parse(point.time));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );

    // The contract holds, and every report format says it.
    const json = renderReport(diagnosis, 'json', { color: false });
    assert.deepEqual(diagnosisSchema.parse(JSON.parse(json)).prometheus, summary);
    const text = renderReport(diagnosis, 'text', { color: false });
    assert.match(
      text,
      new RegExp(
        `^Prometheus: alert firing since \\S+; ${namedLikeLaunchers} Failed launchers \\(recording rule\\)$`,
        'm',
      ),
    );
    // A pod or two named like a launcher is within the tolerance: no warning of a stale kube-state-metrics.
    assert.doesNotMatch(text, /Prometheus counts/, 'the two counts agree');
    const html = renderReport(diagnosis, 'html', { color: false });
    assert.match(html, /<polyline class="trend" fill="none" points="[^"]+"/);
  });

  it('says the same through the command line: diagnose --prometheus-url', async () => {
    const result = await runCli([
      'diagnose',
      '--kubeconfig',
      simulator?.kubeconfig ?? '',
      '--prometheus-url',
      client.url,
      '-o',
      'json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const diagnosis = diagnosisSchema.parse(JSON.parse(result.stdout));
    assert.equal(diagnosis.failedLaunchers, FAILED);
    assert.equal(diagnosis.prometheus?.alert.state, 'firing');
    assert.equal(diagnosis.prometheus?.source, 'recording-rule');
    assert.deepEqual(diagnosis.gatherErrors, []);
  });

  it('falls back to the API alone when Prometheus is down, and says so', async () => {
    await prometheus?.stop();
    const diagnosis = await diagnoseWithPrometheus(client.url);
    assert.equal(diagnosis.failedLaunchers, FAILED);
    assert.equal(diagnosis.prometheus, undefined);
    assert.deepEqual(
      diagnosis.gatherErrors.map((error) => error.type),
      ['prometheus'],
    );
    assert.match(diagnosis.gatherErrors[0]?.message ?? '', /counts come from the API alone/);
    assert.ok(diagnosis.causes.some((cause) => cause.category === 'image'));
    diagnosisSchema.parse(JSON.parse(renderReport(diagnosis, 'json', { color: false })));
    assert.doesNotMatch(renderReport(diagnosis, 'text', { color: false }), /^Prometheus:/m);
  });
});
