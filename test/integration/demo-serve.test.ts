import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Incident } from '../../src/server/incident.js';
import { type RunningCli, spawnCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/prometheus-stack.js';

// `stuckfailed demo --serve` as a person runs it: it comes up on 127.0.0.1, prints the page of an open incident
// and a token, the page answers with the incident, the token approves its plan, the plan runs against the
// simulator, the incident closes cleared, and SIGTERM stops it all (exit 0).

describe('stuckfailed demo --serve', () => {
  let demo: RunningCli | undefined;

  after(async () => {
    await demo?.stop();
  });

  it('serves the page of an open incident, approves with the printed token, closes, and stops on SIGTERM', async () => {
    demo = spawnCli([
      'demo',
      '--serve',
      '--port',
      '0',
      '--scenario',
      'migration-storm',
      '--failed',
      '230',
      '--window',
      '2s',
    ]);
    const [, base, id] = await demo.waitForLine(
      /^An incident is open: (http:\/\/127\.0\.0\.1:\d+)\/incidents\/(\S+)$/,
      30_000,
    );
    assert.ok(base && id);
    const [, token] = await demo.waitForLine(/approve token \(paste it into the page\): ([0-9a-f]{48})$/);
    assert.ok(token);

    const diagnosed = await waitFor(
      'the incident diagnosed and planned',
      async () => {
        const incident = (await (await fetch(`${base}/api/v1/incidents/${id}`)).json()) as Incident;
        return incident.plan === undefined ? undefined : incident;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(diagnosed.status, 'open');
    assert.equal(diagnosed.diagnosis?.causes[0]?.category, 'migration');
    const page = await fetch(`${base}/incidents/${id}`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.ok(html.includes(id));
    assert.ok(html.includes(`data-digest="${diagnosed.plan?.digest}"`));
    const index = await (await fetch(`${base}/`)).text();
    assert.ok(index.includes(id));

    const approved = await fetch(`${base}/api/v1/incidents/${id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ digest: diagnosed.plan?.digest }),
    });
    assert.equal(approved.status, 202, await approved.clone().text());
    const closed = await waitFor(
      'the incident to close',
      async () => {
        const incident = (await (await fetch(`${base}/api/v1/incidents/${id}`)).json()) as Incident;
        return incident.status === 'closed' ? incident : undefined;
      },
      { timeoutMs: 45_000 },
    );
    assert.equal(closed.validation?.verdict, 'cleared', closed.validation?.reason);
    assert.ok(closed.actions.some((entry) => entry.action === 'clean' && entry.outcome === 'done'));
    assert.equal(closed.approvals[0]?.by, 'demo');
    await demo.waitForLine(/^The plan has run: the simulator healed/);

    const code = await demo.stop();
    assert.equal(code, 0, demo.stderr());
    assert.match(demo.stderr(), /serve stopped/);
    await assert.rejects(fetch(`${base}/healthz`));
  });
});
