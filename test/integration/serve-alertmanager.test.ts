import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Incident } from '../../src/server/incident.js';
import { type RunningComponent, startAlertmanager, waitFor } from '../helpers/prometheus-stack.js';
import { type Harness, startHarness, WEBHOOK_TOKEN } from '../helpers/serve-harness.js';

// serve on a real port behind the real Alertmanager (Debian's prometheus-alertmanager): an alert posted to
// Alertmanager fires, is routed to the webhook with the bearer token from its credentials_file, then resolves. One
// incident, with both notifications, closed by validate. The mitigation is the FakeMitigator: the end to end with the
// simulator and the real mitigation is the next step (wave 2).

describe('serve behind the real Alertmanager', () => {
  let h: Harness;
  let alertmanager: RunningComponent | undefined;
  let url = '';

  before(async () => {
    h = await startHarness();
    url = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const tokenFile = join(h.dir, 'webhook-token');
    await writeFile(tokenFile, `${WEBHOOK_TOKEN}\n`);
    alertmanager = await startAlertmanager({
      dir: h.dir,
      webhookUrl: `${url}/webhook/alertmanager`,
      tokenFile,
    });
  });

  after(async () => {
    await alertmanager?.stop();
    await h.close();
  });

  async function postAlert(endsAt: Date): Promise<void> {
    const response = await fetch(`${alertmanager?.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        {
          labels: {
            alertname: 'VirtLauncherPodsStuckFailed',
            severity: 'critical',
            kubernetes_operator_part_of: 'kubevirt',
          },
          annotations: { summary: 'At least 200 virt-launcher pods are stuck in Failed state.' },
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: endsAt.toISOString(),
          generatorURL: 'http://prometheus.test/graph',
        },
      ]),
    });
    assert.equal(response.status, 200, await response.text());
  }

  async function incidents(): Promise<Incident[]> {
    const response = await fetch(`${url}/api/v1/incidents`);
    return ((await response.json()) as { items: Incident[] }).items;
  }

  it('opens one incident on firing and closes it on resolved, with both notifications', async () => {
    await postAlert(new Date(Date.now() + 3_600_000));
    const opened = await waitFor('the firing notification', async () => {
      const [incident] = await incidents();
      return incident?.diagnosis !== undefined ? incident : undefined;
    });
    assert.equal(opened.alert.state, 'firing');
    assert.equal(opened.alert.labels.alertname, 'VirtLauncherPodsStuckFailed');
    assert.match(opened.alert.groupKey, /VirtLauncherPodsStuckFailed/);

    await postAlert(new Date());
    const closed = await waitFor('the resolved notification', async () => {
      const [incident] = await incidents();
      return incident?.status === 'closed' ? incident : undefined;
    });
    const all = await incidents();
    assert.equal(all.length, 1, 'one incident for the group');
    assert.equal(closed.id, opened.id);
    assert.deepEqual([...new Set(closed.notifications.map((entry) => entry.status))], ['firing', 'resolved']);
    assert.equal(closed.validation?.verdict, 'cleared');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const accepted = /stuckfailed_webhook_requests_total\{outcome="accepted"\} (\d+)/.exec(metrics)?.[1];
    assert.equal(Number(accepted), closed.notifications.length, 'every accepted delivery is recorded');
    assert.match(metrics, /stuckfailed_webhook_requests_total\{outcome="unauthorized"\} 0/);
  });
});
