import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { Pod } from '../../src/kube/types.js';
import { ALERT_NAME } from '../../src/prometheus/queries.js';
import type { Incident } from '../../src/server/incident.js';
import { type RunningSimulator, startSimulator } from '../../src/sim/index.js';
import { type RunningCli, spawnCli } from '../helpers/cli.js';
import {
  type RunningComponent,
  startAlertmanager,
  startPrometheus,
  waitFor,
  writeRulesTestCopy,
} from '../helpers/prometheus-stack.js';

// The alert answered by the service, end to end, every component real but the cluster: the simulator (a migration
// storm with churn: 2 new Failed launchers a second until healed), Prometheus scraping its kube-state-metrics
// series every second with the shipped rules (a test copy with `for: 5s`), Alertmanager routing to `stuckfailed
// serve` run as a user runs it (the CLI, as a child process). The alert fires and opens one incident whose top
// cause is migration; a person approves the plan through the API; the plan cancels the looping VMIs' in-flight
// migrations and cleans the Failed launchers, each archived under the data directory first; the cause is fixed
// (POST /sim/heal); Alertmanager's resolved notification has serve validate, and the incident closes cleared.

const WEBHOOK_TOKEN = 'e2e-serve-webhook-token-0123456789';
const APPROVER = { name: 'oncall', token: 'e2e-serve-approver-token-0123456789' };
/** The validate window of this test: long enough to see the count hold after the heal, short enough for a test. */
const VALIDATE_WINDOW = '3s';

interface ApproveResponse {
  incident?: Incident;
  replanned?: boolean;
  digest?: string;
  message?: string;
}

describe('serve end to end: simulator → Prometheus → Alertmanager → serve → approve → act → resolved', () => {
  let dir = '';
  let simulator: RunningSimulator | undefined;
  let prometheus: RunningComponent | undefined;
  let alertmanager: RunningComponent | undefined;
  let serve: RunningCli | undefined;
  let serveUrl = '';
  let dataDir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-serve-e2e-'));
    simulator = await startSimulator({
      scenario: 'migration-storm',
      failed: 240,
      namespaces: 3,
      nodes: 6,
      seed: 11,
      churn: 2,
    });
    const kubeconfig = join(dir, 'kubeconfig');
    await simulator.writeKubeconfig(kubeconfig);
    const webhookTokenFile = join(dir, 'webhook-token');
    await writeFile(webhookTokenFile, `${WEBHOOK_TOKEN}\n`);
    const apiTokenFile = join(dir, 'api-tokens');
    await writeFile(apiTokenFile, `${APPROVER.name}:${APPROVER.token}\n`);
    // Both actions on approval; clean capped, so that the failures churn adds between the plan and the approval
    // re-plan within what was approved instead of needing a second approval.
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(
      policyFile,
      'causes:\n  migration:\n    actions: {cancel-migrations: approval, clean: approval}\n    caps: {podsPerRun: 1000}\n',
    );
    dataDir = join(dir, 'data');
    serve = spawnCli([
      'serve',
      '--port',
      '0',
      '--kubeconfig',
      kubeconfig,
      '--data-dir',
      dataDir,
      '--webhook-token-file',
      webhookTokenFile,
      '--api-token-file',
      apiTokenFile,
      '--policy',
      policyFile,
      '--validate-window',
      VALIDATE_WINDOW,
    ]);
    serveUrl = (await serve.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1] ?? '';
    alertmanager = await startAlertmanager({
      dir,
      webhookUrl: `${serveUrl}/webhook/alertmanager`,
      tokenFile: webhookTokenFile,
    });
    prometheus = await startPrometheus({
      dir,
      targets: [`127.0.0.1:${simulator.port}`],
      ruleFiles: [await writeRulesTestCopy(dir, ALERT_NAME, '5s')],
      alertmanagerPort: alertmanager.port,
    });
  });

  after(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    const code = await serve?.stop();
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
    assert.equal(code, 0, `serve stopped with ${code}: ${serve?.stderr()}`);
  });

  async function incidents(): Promise<Incident[]> {
    const response = await fetch(`${serveUrl}/api/v1/incidents`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { items: Incident[] }).items;
  }

  async function incident(id: string): Promise<Incident> {
    return (await (await fetch(`${serveUrl}/api/v1/incidents/${id}`)).json()) as Incident;
  }

  async function simulatorObject(
    path: string,
  ): Promise<{ status: number; uid?: string; deletionTimestamp?: string }> {
    const response = await fetch(new URL(path, simulator?.url));
    if (response.status !== 200) return { status: response.status };
    const { metadata } = (await response.json()) as { metadata: { uid: string; deletionTimestamp?: string } };
    return { status: 200, ...metadata };
  }

  it('fires, opens one incident, runs the approved plan, and closes cleared on the resolved notification', async () => {
    // 1. The alert fires (240 Failed launchers held for 5 s) and Alertmanager's notification opens one incident,
    //    diagnosed and planned by serve: migration on top, cancel the loops, then clean.
    const opened = await waitFor(
      'an incident diagnosed and planned',
      async () => {
        const [first] = await incidents();
        return first?.plan !== undefined ? first : undefined;
      },
      { timeoutMs: 45_000 },
    );
    assert.equal(opened.alert.name, ALERT_NAME);
    assert.equal(opened.notifications[0]?.status, 'firing');
    assert.equal(opened.diagnosis?.causes[0]?.category, 'migration');
    assert.ok((opened.diagnosis?.failedLaunchers ?? 0) >= 240, `${opened.diagnosis?.failedLaunchers}`);
    assert.equal(opened.status, 'open');
    assert.deepEqual(opened.approvals, [], 'the policy asks for a person: nothing ran yet');

    // 2. A person approves the plan on display, naming its digest, with an API token. Churn may have grown the
    //    plan since it was shown: within the policy's cap it runs re-planned; beyond what was approved the service
    //    answers 409 with the new digest, which a person approves in turn (bounded).
    const approve = (digest: string) =>
      fetch(`${serveUrl}/api/v1/incidents/${opened.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${APPROVER.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ digest }),
      });
    const refused = await fetch(`${serveUrl}/api/v1/incidents/${opened.id}/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token-of-anyone', 'content-type': 'application/json' },
      body: JSON.stringify({ digest: opened.plan?.digest }),
    });
    assert.equal(refused.status, 401);
    let digest = opened.plan?.digest ?? '';
    let approved: ApproveResponse | undefined;
    for (let attempt = 0; attempt < 3 && approved === undefined; attempt += 1) {
      const response = await approve(digest);
      const body = (await response.json()) as ApproveResponse;
      if (response.status === 202) approved = body;
      else {
        assert.equal(response.status, 409, JSON.stringify(body));
        assert.ok(body.digest !== undefined && body.digest !== digest, JSON.stringify(body));
        digest = body.digest;
      }
    }
    assert.ok(approved?.incident, 'approved within 3 attempts');
    assert.equal(approved.incident.status, 'acting');

    // 3. The plan runs; the cause is fixed once it is done (the simulator heals: no new failures).
    const ran = await waitFor(
      'the run to finish',
      async () => {
        const current = await incident(opened.id);
        return current.audit.some((event) => event.what === 'run finished') ? current : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const healed = await fetch(new URL('/sim/heal', simulator?.url), { method: 'POST' });
    assert.equal(healed.status, 200);

    const plan = ran.plan;
    assert.ok(plan);
    const cancel = plan.steps.find((step) => step.action === 'cancel-migrations');
    const clean = plan.steps.find((step) => step.action === 'clean');
    assert.ok(cancel && cancel.count > 0, 'the plan cancels the looping migrations');
    assert.ok(clean && clean.count >= 200, `the plan cleans the Failed launchers (${clean?.count})`);
    assert.equal(cancel.reason.cause, 'migration');
    assert.deepEqual(
      ran.approvals.map((approval) => [approval.by, approval.mode]),
      [[APPROVER.name, 'manual']],
    );

    // Every in-flight migration of a looping VMI was cancelled (deleted: gone, or held by KubeVirt's finalizer with a
    // deletionTimestamp), or was gone already.
    const cancelled = ran.actions.filter((entry) => entry.step === cancel.id);
    assert.equal(cancelled.length, cancel.count);
    for (const entry of cancelled) {
      assert.ok(entry.outcome === 'done' || entry.outcome === 'gone', JSON.stringify(entry));
      const now = await simulatorObject(
        `/apis/kubevirt.io/v1/namespaces/${entry.namespace}/virtualmachineinstancemigrations/${entry.name}`,
      );
      assert.ok(
        now.status === 404 || now.uid !== entry.uid || now.deletionTimestamp !== undefined,
        `${entry.name} not cancelled: ${JSON.stringify(now)}`,
      );
    }
    // Every Failed launcher planned was deleted after its manifest and events went to the incident's archive.
    const cleaned = ran.actions.filter((entry) => entry.step === clean.id);
    assert.equal(cleaned.length, clean.count);
    const done = cleaned.filter((entry) => entry.outcome === 'done');
    assert.ok(done.length >= 200, `${done.length} launchers deleted`);
    for (const entry of cleaned) assert.ok(entry.outcome === 'done' || entry.outcome === 'gone');
    for (const entry of done) {
      const archived = join(dataDir, 'archive', opened.id, entry.namespace, `${entry.name}.yaml`);
      assert.ok(existsSync(archived), `${archived} missing`);
      const pod = await simulatorObject(`/api/v1/namespaces/${entry.namespace}/pods/${entry.name}`);
      assert.equal(pod.status, 404, `${entry.namespace}/${entry.name} still there`);
    }
    const sample = done[0];
    assert.ok(sample);
    // The archive file: the pod as it was (Failed), then its events, one YAML document each.
    const [archivedPod] = parseAllDocuments(
      await readFile(join(dataDir, 'archive', opened.id, sample.namespace, `${sample.name}.yaml`), 'utf8'),
    ).map((document) => document.toJS() as Pod);
    assert.equal(archivedPod?.kind, 'Pod');
    assert.equal(archivedPod?.metadata.name, sample.name);
    assert.equal(archivedPod?.metadata.uid, sample.uid);
    assert.equal(archivedPod?.status?.phase, 'Failed');

    // 4. The count fell under the threshold: Prometheus resolves the alert, Alertmanager sends the resolved
    //    notification to the same incident, and serve validates (the count stays below 200 for the window) and
    //    closes it cleared.
    const closed = await waitFor(
      'the incident to close',
      async () => {
        const current = await incident(opened.id);
        return current.status === 'closed' ? current : undefined;
      },
      { timeoutMs: 45_000 },
    );
    assert.equal(closed.validation?.verdict, 'cleared', closed.validation?.reason);
    assert.equal(closed.alert.state, 'resolved');
    assert.ok(closed.notifications.some((notification) => notification.status === 'resolved'));
    assert.ok(closed.closedAt !== undefined);
    assert.deepEqual(
      (await incidents()).map((each) => each.id),
      [opened.id],
      'one incident for the alert group, firing and resolved alike',
    );
    const metrics = await (await fetch(`${serveUrl}/metrics`)).text();
    assert.match(metrics, /stuckfailed_incidents\{state="closed"\} 1/);
    assert.match(metrics, /stuckfailed_actions_total\{action="clean",outcome="done"\} [1-9]\d*/);
  });
});
