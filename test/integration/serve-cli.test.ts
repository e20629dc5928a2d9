import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Incident } from '../../src/server/incident.js';
import { type RunningSimulator, startSimulator } from '../../src/sim/index.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/prometheus-stack.js';
import { webhookBody } from '../helpers/serve-harness.js';

// `stuckfailed serve` as a user runs it: flags, token files, a policy file, against the simulator over HTTP. The
// diagnosis is the real one; the plan is whatever the wired mitigation makes (nothing to write until the mitigation
// commands are merged), so this test checks the service around it, not the actions.

const WEBHOOK = 'cli-webhook-token-0123456789';
const APPROVER = 'cli-approver-token-0123456789';

describe('stuckfailed serve (CLI)', () => {
  let dir = '';
  let simulator: RunningSimulator | undefined;
  const files = { kubeconfig: '', webhook: '', api: '', policy: '', badPolicy: '', data: '' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stuckfailed-serve-cli-'));
    simulator = await startSimulator({ scenario: 'migration-storm', failed: 240, seed: 3 });
    files.kubeconfig = join(dir, 'kubeconfig');
    await simulator.writeKubeconfig(files.kubeconfig);
    files.webhook = join(dir, 'webhook-token');
    await writeFile(files.webhook, `${WEBHOOK}\n`);
    files.api = join(dir, 'api-tokens');
    await writeFile(files.api, `# who may approve\noncall:${APPROVER}\n`);
    files.policy = join(dir, 'policy.yaml');
    await writeFile(
      files.policy,
      'causes:\n  migration:\n    actions:\n      cancel-migrations: automatic\n',
    );
    files.badPolicy = join(dir, 'bad-policy.yaml');
    await writeFile(files.badPolicy, 'causes:\n  migration:\n    actions:\n      clean: whenever\n');
    files.data = join(dir, 'data');
  });

  after(async () => {
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to start without a webhook token, with a short token, or with a bad policy (exit 2)', async () => {
    const missing = await runCli(['serve', '--kubeconfig', files.kubeconfig]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--webhook-token-file is required/);
    const short = join(dir, 'short-token');
    await writeFile(short, 'abc');
    const weak = await runCli(['serve', '--kubeconfig', files.kubeconfig, '--webhook-token-file', short]);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /at least 16/);
    const bad = await runCli([
      'serve',
      '--kubeconfig',
      files.kubeconfig,
      '--webhook-token-file',
      files.webhook,
      '--policy',
      files.badPolicy,
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad-policy\.yaml:4: causes\.migration\.actions\.clean/);
  });

  it('diagnoses the alert against the cluster, keeps the incident across a restart, closes it on resolved', async () => {
    const args = [
      'serve',
      '--port',
      '0',
      '--kubeconfig',
      files.kubeconfig,
      '--data-dir',
      files.data,
      '--webhook-token-file',
      files.webhook,
      '--api-token-file',
      files.api,
      '--policy',
      files.policy,
    ];
    let serve = spawnCli(args);
    try {
      const url = (await serve.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
      assert.match(serve.stdout(), /approvals by oncall/);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      const post = (body: unknown) =>
        fetch(`${url}/webhook/alertmanager`, {
          method: 'POST',
          headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      assert.equal((await post(webhookBody('cli-group', 'firing'))).status, 200);
      const diagnosed = await waitFor('the diagnosis', async () => {
        const items = ((await (await fetch(`${url}/api/v1/incidents`)).json()) as { items: Incident[] })
          .items;
        return items[0]?.plan !== undefined ? items[0] : undefined;
      });
      assert.equal(diagnosed.diagnosis?.failedLaunchers, 240);
      assert.equal(diagnosed.diagnosis?.causes[0]?.category, 'migration');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /stuckfailed_failed_launchers\{cause="migration"\} \d+/);

      await serve.stop();
      serve = spawnCli(args);
      const again = (await serve.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
      const kept = (await (await fetch(`${again}/api/v1/incidents/${diagnosed.id}`)).json()) as Incident;
      assert.equal(kept.diagnosis?.failedLaunchers, 240);
      const resolved = await fetch(`${again}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${WEBHOOK}`, 'content-type': 'application/json' },
        body: JSON.stringify(webhookBody('cli-group', 'resolved')),
      });
      assert.equal(resolved.status, 200);
      const closed = await waitFor('the incident to close', async () => {
        const incident = (await (
          await fetch(`${again}/api/v1/incidents/${diagnosed.id}`)
        ).json()) as Incident;
        return incident.status === 'closed' ? incident : undefined;
      });
      // Nothing was cleaned, so the launchers are still Failed: validate says so.
      assert.equal(closed.validation?.verdict, 'not-cleared');
      assert.equal(closed.notifications.length, 2);
    } finally {
      const code = await serve.stop();
      assert.equal(code, 0, serve.stderr());
    }
  });
});
