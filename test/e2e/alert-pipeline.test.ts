import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import type { KubeObject, Pod, PodPhase } from '../../src/kube/types.js';
import { createPrometheusClient, type PrometheusClient } from '../../src/prometheus/client.js';
import { ALERT_NAME, queryAlertState, queryFailedLauncherCount } from '../../src/prometheus/queries.js';
import { isAlertingRule, loadRuleFile } from '../../src/rules/rule-file.js';
import { type RunningSimulator, startSimulator } from '../../src/sim/index.js';
import {
  type RunningComponent,
  startAlertmanager,
  startPrometheus,
  waitFor,
} from '../helpers/prometheus-stack.js';

// The alert end to end, every component real but the cluster: the simulator's kube-state-metrics series, scraped
// every second by Prometheus evaluating our rules (a test copy with `for: 5s`; the production `for: 10m` is covered
// by promtool with simulated time), Alertmanager routing to a webhook receiver (a stand-in for `serve`), then the
// runbook's mitigation through the simulator's API and the resolved notification.

const NAMESPACES = ['vms-a', 'vms-b', 'vms-c'];
const FAILED_PER_NAMESPACE = 70; // 210 in all: above the threshold of 200 however the pods are split.
const TOKEN = 'e2e-webhook-token';

function pod(
  namespace: string,
  name: string,
  phase: PodPhase,
  labels: Record<string, string>,
): Pod & KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `${namespace}-${name}`, labels },
    spec: { nodeName: 'worker-1', containers: [{ name: 'compute' }], restartPolicy: 'Never' },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'compute',
          state: phase === 'Failed' ? { terminated: { exitCode: 1, reason: 'Error' } } : { running: {} },
        },
      ],
    },
  };
}

function cluster(): KubeObject[] {
  const objects: KubeObject[] = [];
  const launcherLabels = { 'kubevirt.io': 'virt-launcher' };
  for (const namespace of NAMESPACES) {
    for (let index = 0; index < FAILED_PER_NAMESPACE; index += 1) {
      objects.push(pod(namespace, `virt-launcher-vm-${index}-x${index % 10}k2p`, 'Failed', launcherLabels));
    }
    objects.push(pod(namespace, 'virt-launcher-alive-q7w8e', 'Running', launcherLabels));
    // Failed, but not a launcher: neither the rule nor the cleanup may touch it.
    objects.push(pod(namespace, 'importer-disk-a1b2c', 'Failed', {}));
  }
  return objects;
}

interface Notification {
  status: 'firing' | 'resolved';
  alerts: Array<{
    status: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    fingerprint: string;
  }>;
}

describe('alert pipeline: simulator → Prometheus → Alertmanager → webhook', () => {
  let dir = '';
  let simulator: RunningSimulator | undefined;
  let prometheus: RunningComponent | undefined;
  let alertmanager: RunningComponent | undefined;
  let receiver: Server | undefined;
  let client: PrometheusClient;
  const notifications: Notification[] = [];
  const unauthorized: number[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-alert-e2e-'));
    simulator = await startSimulator({ objects: { objects: cluster(), logs: [] } });

    // The production rules with a short `for`, written to the temp dir; rules/ stays untouched.
    const production = await loadRuleFile();
    const testCopy = {
      groups: production.rules.groups.map((group) => ({
        ...group,
        rules: group.rules.map((rule) =>
          isAlertingRule(rule) && rule.alert === ALERT_NAME ? { ...rule, for: '5s' } : rule,
        ),
      })),
    };
    const rulesFile = join(dir, 'rules.test-copy.yaml');
    await writeFile(rulesFile, stringify(testCopy));

    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        if (request.url !== '/webhook/alertmanager' || request.headers.authorization !== `Bearer ${TOKEN}`) {
          unauthorized.push(Date.now());
          response.writeHead(401).end();
          return;
        }
        notifications.push(JSON.parse(body) as Notification);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, TOKEN);
    alertmanager = await startAlertmanager({
      dir,
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook/alertmanager`,
      tokenFile,
    });
    prometheus = await startPrometheus({
      dir,
      targets: [`127.0.0.1:${simulator.port}`],
      ruleFiles: [rulesFile],
      alertmanagerPort: alertmanager.port,
    });
    client = createPrometheusClient({ url: prometheus.url, timeoutMs: 5_000 });
  });

  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await simulator?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
    await rm(dir, { recursive: true, force: true });
  });

  /** DESIGN §4: Failed, labelled kubevirt.io=virt-launcher and named virt-launcher-*, read through the API. */
  async function simulatorFailedLaunchers(): Promise<number> {
    let count = 0;
    for (const namespace of NAMESPACES) {
      const url = new URL(`/api/v1/namespaces/${namespace}/pods`, simulator?.url);
      url.searchParams.set('labelSelector', 'kubevirt.io=virt-launcher');
      url.searchParams.set('fieldSelector', 'status.phase=Failed');
      const list = (await (await fetch(url)).json()) as { items: Pod[] };
      count += list.items.filter((item) => item.metadata.name.startsWith('virt-launcher-')).length;
    }
    return count;
  }

  function notification(status: Notification['status']): Notification | undefined {
    return notifications.find(
      (candidate) =>
        candidate.status === status &&
        candidate.alerts.some((alert) => alert.labels.alertname === ALERT_NAME),
    );
  }

  it('records the simulator count, fires, and delivers the firing notification to the webhook', async () => {
    const expected = await simulatorFailedLaunchers();
    assert.equal(expected, NAMESPACES.length * FAILED_PER_NAMESPACE);
    await waitFor(
      'the recording rule to equal the simulator count',
      async () => ((await queryFailedLauncherCount(client)).count === expected ? true : undefined),
      { timeoutMs: 40_000 },
    );
    assert.deepEqual(await queryFailedLauncherCount(client), { count: expected, source: 'recording-rule' });

    const firing = await waitFor('the firing notification', async () => notification('firing'), {
      timeoutMs: 40_000,
    });
    const alert = firing.alerts.find((candidate) => candidate.labels.alertname === ALERT_NAME);
    assert.deepEqual(alert?.labels, {
      alertname: ALERT_NAME,
      severity: 'critical',
      operator_health_impact: 'critical',
      kubernetes_operator_part_of: 'kubevirt',
      kubernetes_operator_component: 'kubevirt',
    });
    assert.equal(
      alert?.annotations.runbook_url,
      'https://kubevirt.io/monitoring/runbooks/VirtLauncherPodsStuckFailed',
    );
    assert.match(
      alert?.annotations.description ?? '',
      new RegExp(`^${expected} virt-launcher pods are in phase Failed`),
    );
    assert.equal((await queryAlertState(client)).state, 'firing');
    assert.deepEqual(unauthorized, []);
  });

  it('resolves once the simulator is healed and the Failed launchers are cleaned up', async () => {
    const firing = notification('firing');
    assert.ok(firing, 'the firing notification comes first');
    const healed = await fetch(new URL('/sim/heal', simulator?.url), { method: 'POST' });
    assert.equal(healed.status, 200);
    // The runbook's mitigation 2, scoped as `clean` scopes it: Failed pods labelled as launchers, per namespace.
    for (const namespace of NAMESPACES) {
      const url = new URL(`/api/v1/namespaces/${namespace}/pods`, simulator?.url);
      url.searchParams.set('labelSelector', 'kubevirt.io=virt-launcher');
      url.searchParams.set('fieldSelector', 'status.phase=Failed');
      const deleted = await fetch(url, { method: 'DELETE' });
      assert.equal(deleted.status, 200);
    }
    assert.equal(await simulatorFailedLaunchers(), 0);

    const resolved = await waitFor('the resolved notification', async () => notification('resolved'), {
      timeoutMs: 40_000,
    });
    const alert = resolved.alerts.find((candidate) => candidate.labels.alertname === ALERT_NAME);
    assert.equal(alert?.status, 'resolved');
    assert.equal(
      alert?.fingerprint,
      firing.alerts.find((candidate) => candidate.labels.alertname === ALERT_NAME)?.fingerprint,
    );
    // The alert resolves as soon as Prometheus sees fewer than 200, which may be before its scrape has seen the
    // last namespace cleaned (70 left): the recording rule reaches the simulator's 0 on a later evaluation.
    await waitFor(
      'the recording rule to fall to the simulator count (0)',
      async () => ((await queryFailedLauncherCount(client)).count === 0 ? true : undefined),
      { timeoutMs: 20_000 },
    );
    assert.deepEqual(await queryFailedLauncherCount(client), { count: 0, source: 'recording-rule' });
    assert.equal((await queryAlertState(client)).state, 'inactive');
    // The importer pod that failed too was left alone: the series of non-launchers are still scraped.
    const importers = await client.query('kube_pod_status_phase{phase="Failed", pod=~"importer-.*"} == 1');
    assert.equal(importers.length, NAMESPACES.length);
  });
});
