import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Pod, PodPhase } from '../../src/kube/types.js';
import { createPrometheusClient, type PrometheusClient } from '../../src/prometheus/client.js';
import {
  FAILED_LAUNCHER_COUNT,
  LAUNCHER_QUERIES,
  queryAlertState,
  queryByNamespace,
  queryByNode,
  queryByReason,
  queryFailedLauncherCount,
  queryTrend,
} from '../../src/prometheus/queries.js';
import { DEFAULT_RULE_FILE_PATH } from '../../src/rules/rule-file.js';
import { writeKubeStateMetrics } from '../../src/sim/kube-state-metrics.js';
import { type RunningComponent, startPrometheus, waitFor } from '../helpers/prometheus-stack.js';

const run = promisify(execFile);
const RULE_TESTS_DIR = join(DEFAULT_RULE_FILE_PATH, '..', 'tests');

describe('promtool', () => {
  it('checks the rule file', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', DEFAULT_RULE_FILE_PATH], { timeout: 30_000 });
    assert.match(stdout, /SUCCESS: 6 rules found/);
  });

  it('passes the rule unit tests: threshold, for timing, empty cluster, duplicate names, cleanup, non-launchers', async () => {
    const files = readdirSync(RULE_TESTS_DIR).filter((file) => file.endsWith('.yaml'));
    assert.deepEqual(files.sort(), ['breakdowns.test.yaml', 'predicted.test.yaml', 'threshold.test.yaml']);
    const { stdout } = await run('promtool', ['test', 'rules', ...files], {
      cwd: RULE_TESTS_DIR,
      timeout: 60_000,
    });
    assert.equal(stdout.match(/SUCCESS/g)?.length, files.length, stdout);
  });
});

// A small cluster whose answers are known, exposed the way kube-state-metrics exposes it.
function launcher(
  namespace: string,
  name: string,
  options: {
    phase: PodPhase;
    node?: string;
    reason?: string;
    terminated?: Record<string, string>;
    initTerminated?: Record<string, string>;
    lastTerminated?: Record<string, string>;
  },
): Pod {
  const statuses = (reasons: Record<string, string> | undefined) =>
    Object.entries(reasons ?? {}).map(([container, reason]) => ({
      name: container,
      state: { terminated: { exitCode: reason === 'Completed' ? 0 : 1, reason } },
    }));
  return {
    metadata: { name, namespace, uid: `${namespace}-${name}` },
    spec: { containers: [{ name: 'compute' }], ...(options.node ? { nodeName: options.node } : {}) },
    status: {
      phase: options.phase,
      ...(options.reason ? { reason: options.reason } : {}),
      containerStatuses: [
        ...statuses(options.terminated),
        ...Object.entries(options.lastTerminated ?? {}).map(([container, reason]) => ({
          name: container,
          state: { running: {} },
          lastState: { terminated: { exitCode: 137, reason } },
        })),
      ],
      initContainerStatuses: statuses(options.initTerminated),
    },
  };
}

const CLUSTER: Pod[] = [
  // One launcher name in two namespaces: the runbook's on(pod) join breaks on it.
  launcher('team-a', 'virt-launcher-db-x1y2z', {
    phase: 'Failed',
    node: 'node-1',
    terminated: { compute: 'Error' },
  }),
  launcher('team-b', 'virt-launcher-db-x1y2z', {
    phase: 'Failed',
    node: 'node-2',
    reason: 'Evicted',
    terminated: { compute: 'Error' },
  }),
  launcher('team-b', 'virt-launcher-web-aaaaa', {
    phase: 'Failed',
    node: 'node-2',
    terminated: { compute: 'OOMKilled', 'guest-console-log': 'Completed' },
  }),
  launcher('team-b', 'virt-launcher-init-bbbbb', {
    phase: 'Failed',
    node: 'node-1',
    initTerminated: {
      'container-disk-binary': 'Completed',
      'volumecontainerdisk-init': 'ContainerCannotRun',
    },
  }),
  launcher('team-c', 'virt-launcher-unbound-eeeee', { phase: 'Failed' }),
  // Must not count: a Running launcher that restarted a container (what the runbook's topk query counts) and a Failed
  // pod that is not a launcher.
  launcher('team-a', 'virt-launcher-ok-ccccc', {
    phase: 'Running',
    node: 'node-1',
    lastTerminated: { compute: 'OOMKilled' },
  }),
  launcher('team-a', 'importer-ddddd', {
    phase: 'Failed',
    node: 'node-1',
    terminated: { importer: 'Error' },
  }),
];

describe('the corrected runbook queries against a real Prometheus', () => {
  let dir = '';
  let exporter: Server | undefined;
  let prometheus: RunningComponent | undefined;
  let client: PrometheusClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-rules-it-'));
    exporter = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      writeKubeStateMetrics(CLUSTER, (chunk) => response.write(chunk));
      response.end();
    });
    await new Promise<void>((resolve) => exporter?.listen(0, '127.0.0.1', resolve));
    const exporterPort = (exporter.address() as AddressInfo).port;
    // The production rule file, read in place: Prometheus only reads it.
    prometheus = await startPrometheus({
      dir,
      targets: [`127.0.0.1:${exporterPort}`],
      ruleFiles: [DEFAULT_RULE_FILE_PATH],
    });
    client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5_000 });
    // The first scrape comes ~5 s after start, the rules one evaluation later.
    await waitFor(
      'the recording rules to see the first scrape',
      async () => {
        const samples = await client.query('reason:kubevirt_virt_launcher_failed:count');
        return samples.length > 0 ? samples : undefined;
      },
      { timeoutMs: 40_000 },
    );
  });

  after(async () => {
    await prometheus?.stop();
    exporter?.closeAllConnections();
    await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the Failed launchers from the recording rule', async () => {
    assert.deepEqual(await queryFailedLauncherCount(client), { count: 5, source: 'recording-rule' });
  });

  it('breaks them down by namespace, by node (joined on namespace and pod) and by reason', async () => {
    assert.deepEqual(await queryByNamespace(client), {
      items: [
        { key: 'team-b', count: 3 },
        { key: 'team-a', count: 1 },
        { key: 'team-c', count: 1 },
      ],
      source: 'recording-rule',
    });
    assert.deepEqual(await queryByNode(client), {
      items: [
        { key: 'node-1', count: 2 },
        { key: 'node-2', count: 2 },
      ],
      source: 'recording-rule',
    });
    assert.deepEqual(await queryByReason(client), {
      items: [
        { key: 'Error', count: 2 },
        { key: 'ContainerCannotRun', count: 1 },
        { key: 'Evicted', count: 1 },
        { key: 'OOMKilled', count: 1 },
      ],
      source: 'recording-rule',
    });
  });

  it('gets the same answers from the raw expressions, the fallback when the rules are not installed', async () => {
    for (const query of LAUNCHER_QUERIES) {
      const recorded = (await client.query(query.record)).map((sample) => ({
        labels: sample.labels,
        value: sample.value,
      }));
      const computed = (await client.query(query.expr)).map((sample) => ({
        labels: sample.labels,
        value: sample.value,
      }));
      const withoutName = recorded.map(({ labels, value }) => {
        const { __name__: _name, ...rest } = labels;
        return { labels: rest, value };
      });
      const order = (a: { labels: object }, b: { labels: object }) =>
        JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels));
      assert.deepEqual(withoutName.sort(order), computed.sort(order), query.record);
    }
  });

  it('shows why the runbook queries needed correcting', async () => {
    // on(pod) alone: the two virt-launcher-db-x1y2z pods make the join ambiguous.
    await assert.rejects(
      client.query(
        'count by (node) ((kube_pod_status_phase{phase="Failed", pod=~"virt-launcher-.*"} == 1) ' +
          '* on(pod) group_left(node) kube_pod_info{pod=~"virt-launcher-.*", node!=""})',
      ),
      /many-to-many matching not allowed|duplicate series/,
    );
    // last_terminated_reason counts the Running launcher that restarted, not why the Failed ones failed.
    const runbookReasons = await client.query(
      'topk(5, count by (reason) (kube_pod_container_status_last_terminated_reason{pod=~"virt-launcher-.*"} == 1))',
    );
    assert.deepEqual(
      runbookReasons.map((sample) => [sample.labels.reason, sample.value]),
      [['OOMKilled', 1]],
    );
  });

  it('reads the trend over a range and the alert state (inactive: 5 is far below 200)', async () => {
    const trend = await queryTrend(client, { hours: 0.05, stepSeconds: 1 });
    assert.equal(trend.source, 'recording-rule');
    assert.ok(trend.points.length > 0);
    assert.equal(trend.points.at(-1)?.count, 5);
    assert.equal((await queryAlertState(client)).state, 'inactive');
    assert.equal(
      (await client.query(FAILED_LAUNCHER_COUNT.record))[0]?.labels.__name__,
      FAILED_LAUNCHER_COUNT.record,
    );
  });
});
