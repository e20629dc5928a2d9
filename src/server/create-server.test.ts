import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanStep, deferred, FakeMitigator, planOf, pods } from '../../test/helpers/fake-mitigator.js';
import {
  ALICE,
  type Harness,
  startHarness,
  WEBHOOK_TOKEN,
  webhookBody,
} from '../../test/helpers/serve-harness.js';
import { ApiError } from '../cluster/api-error.js';
import { targetKey } from '../mitigation/plan.js';
import type { Incident } from './incident.js';
import { mutateIncident } from './incident-store.js';
import { PAGE_HEADERS } from './page/render-page.js';
import { parsePolicy } from './policy.js';

const GROUP = '{}/{alertname="VirtLauncherPodsStuckFailed"}:{alertname="VirtLauncherPodsStuckFailed"}';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(...args: Parameters<typeof startHarness>): Promise<Harness> {
  harness = await startHarness(...args);
  return harness;
}

function post(h: Harness, body: unknown, headers: Record<string, string> = {}) {
  return h.app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

function approve(h: Harness, id: string, digest: unknown, token = ALICE.token) {
  return h.app.inject({
    method: 'POST',
    url: `/api/v1/incidents/${id}/approve`,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ digest }),
  });
}

async function incidents(h: Harness): Promise<Incident[]> {
  const response = await h.app.inject({ method: 'GET', url: '/api/v1/incidents' });
  assert.equal(response.statusCode, 200);
  return (response.json() as { items: Incident[] }).items;
}

async function only(h: Harness): Promise<Incident> {
  const items = await incidents(h);
  assert.equal(items.length, 1, `expected one incident, got ${items.length}`);
  return items[0] as Incident;
}

async function metric(h: Harness, line: string): Promise<number | undefined> {
  const text = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('POST /webhook/alertmanager', () => {
  it('opens an incident and answers before the diagnosis ends, then diagnoses and plans', async () => {
    const mitigator = new FakeMitigator();
    const gate = deferred();
    mitigator.diagnoseGate = gate.promise;
    const h = await start({ mitigator });
    const response = await post(h, webhookBody(GROUP, 'firing'));
    assert.equal(response.statusCode, 200);
    const answer = response.json() as { outcome: string; incident: string; created: boolean };
    assert.equal(answer.outcome, 'accepted');
    assert.equal(answer.created, true);
    const before = await only(h);
    assert.equal(before.id, answer.incident);
    assert.equal(before.status, 'open');
    assert.equal(before.diagnosis, undefined, 'answered before the diagnosis');
    assert.equal(before.alert.groupKey, GROUP);
    assert.equal(before.alert.fingerprint, 'eff5254013a889bf');
    assert.equal(before.notifications.length, 1);
    gate.resolve();
    await h.service.idle();
    const after = await only(h);
    assert.equal(after.diagnosis?.failedLaunchers, 412);
    assert.equal(after.plan?.digest, mitigator.nextPlan.digest);
    assert.equal(after.status, 'open', 'the default policy waits for approval');
    assert.deepEqual(mitigator.calls, ['diagnose', 'plan']);
    assert.ok(
      after.audit.some((event) => event.what === 'planned' && /waits for approval/.test(event.detail ?? '')),
    );
  });

  it('joins repeats and retries of a group to its incident and records every delivery', async () => {
    const h = await start();
    const body = webhookBody(GROUP, 'firing');
    for (let index = 0; index < 3; index += 1) assert.equal((await post(h, body)).statusCode, 200);
    await post(h, webhookBody('{}:{other-group}', 'firing'));
    await h.service.idle();
    const items = await incidents(h);
    assert.equal(items.length, 2);
    const group = items.find((incident) => incident.alert.groupKey === GROUP);
    assert.equal(group?.notifications.length, 3);
    assert.equal(new Set(group?.notifications.map((entry) => entry.bodyDigest)).size, 1);
    assert.equal(
      h.mitigator.calls.filter((call) => call === 'diagnose').length,
      2,
      'one diagnosis per incident',
    );
  });

  it('never opens two incidents for concurrent deliveries of one group', async () => {
    const h = await start();
    const body = webhookBody(GROUP, 'firing');
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(h, body)));
    assert.ok(responses.every((response) => response.statusCode === 200));
    assert.equal(responses.filter((r) => (r.json() as { created: boolean }).created).length, 1);
    await h.service.idle();
    assert.equal((await only(h)).notifications.length, 20);
  });

  it('validates and closes the incident on the resolved notification', async () => {
    const h = await start();
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    h.mitigator.verdict = { verdict: 'not-cleared', reason: '230 Failed launchers' };
    assert.equal((await post(h, webhookBody(GROUP, 'resolved'))).statusCode, 200);
    await h.service.idle();
    const incident = await only(h);
    assert.equal(incident.status, 'closed');
    assert.equal(incident.validation?.verdict, 'not-cleared');
    assert.equal(incident.validation?.reason, '230 Failed launchers');
    assert.ok(incident.closedAt);
    assert.deepEqual(
      incident.notifications.map((entry) => entry.status),
      ['firing', 'resolved'],
    );
    // A retry of the resolved notification joins the closed incident; a new firing opens another.
    await post(h, webhookBody(GROUP, 'resolved'));
    await h.service.idle();
    assert.equal((await only(h)).notifications.length, 3);
    const refired = webhookBody(GROUP, 'firing');
    (refired.alerts[0] as { startsAt: string }).startsAt = '2026-11-24T08:00:00Z';
    await post(h, refired);
    await h.service.idle();
    assert.equal((await incidents(h)).length, 2);
  });

  it('acknowledges other alerts and counts them, storing nothing', async () => {
    const h = await start();
    const response = await post(h, webhookBody('{}:{alertname="Watchdog"}', 'firing', 'Watchdog'));
    assert.equal(response.statusCode, 200);
    assert.equal((response.json() as { outcome: string }).outcome, 'ignored');
    assert.equal((await incidents(h)).length, 0);
    assert.equal(await metric(h, 'stuckfailed_other_alerts_total'), 1);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="ignored"}'), 1);
  });

  it('acknowledges a resolved notification for a group it never saw, opening nothing', async () => {
    const h = await start();
    const response = await post(h, webhookBody(GROUP, 'resolved'));
    assert.equal(response.statusCode, 200);
    assert.equal((response.json() as { outcome: string }).outcome, 'ignored');
    assert.equal((await incidents(h)).length, 0);
  });

  it('refuses without a token or with a wrong one (401), before reading the body', async () => {
    const h = await start();
    const missing = await h.app.inject({
      method: 'POST',
      url: '/webhook/alertmanager',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(webhookBody(GROUP, 'firing')),
    });
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer');
    const wrong = await post(h, webhookBody(GROUP, 'firing'), { authorization: `Bearer ${WEBHOOK_TOKEN}x` });
    assert.equal(wrong.statusCode, 401);
    const apiToken = await post(h, webhookBody(GROUP, 'firing'), { authorization: `Bearer ${ALICE.token}` });
    assert.equal(apiToken.statusCode, 401, 'an API token is not the webhook token');
    assert.equal((await incidents(h)).length, 0);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="unauthorized"}'), 3);
  });

  it('names the bad field (400)', async () => {
    const h = await start();
    const body = webhookBody(GROUP, 'firing');
    (body.alerts[0] as { status: string }).status = 'burning';
    const response = await post(h, body);
    assert.equal(response.statusCode, 400);
    assert.match((response.json() as { message: string }).message, /^alerts\.0\.status: /);
    const noGroup = webhookBody(GROUP, 'firing') as Record<string, unknown>;
    delete noGroup.groupKey;
    assert.match(((await post(h, noGroup)).json() as { message: string }).message, /groupKey/);
    const version = { ...webhookBody(GROUP, 'firing'), version: '3' };
    assert.match(((await post(h, version)).json() as { message: string }).message, /^version: /);
    assert.equal((await incidents(h)).length, 0);
  });

  it('refuses bodies that are not JSON, not UTF-8, empty or too large, and other content types', async () => {
    const h = await start({ bodyLimit: 64 * 1024 });
    assert.equal((await post(h, '{"version": "4",')).statusCode, 400);
    assert.equal((await post(h, Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))).statusCode, 400);
    assert.equal((await post(h, '')).statusCode, 400);
    const prototype = await post(h, '{"__proto__": {"x": 1}}');
    assert.deepEqual(prototype.json(), {
      error: 'FORBIDDEN_KEY',
      message: 'the body has a __proto__ or constructor key, which is refused',
    });
    const big = webhookBody(GROUP, 'firing');
    (big.commonAnnotations as Record<string, string>).summary = 'x'.repeat(70 * 1024);
    assert.equal((await post(h, big)).statusCode, 413);
    const text = await post(h, JSON.stringify(webhookBody(GROUP, 'firing')), {
      'content-type': 'text/plain',
    });
    assert.equal(text.statusCode, 415);
    assert.deepEqual(text.json(), {
      error: 'unsupported-media-type',
      message: 'the body must be application/json (got text/plain)',
    });
    const nowhere = await h.app.inject({ method: 'GET', url: '/api/v1/nope?x=1' });
    assert.deepEqual(
      [nowhere.statusCode, nowhere.json()],
      [404, { error: 'not-found', message: 'no route GET /api/v1/nope' }],
    );
    assert.equal((await incidents(h)).length, 0);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="too-large"}'), 1);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="unsupported-media-type"}'), 1);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="invalid"}'), 4);
  });
});

describe('GET /api/v1/incidents', () => {
  it('lists newest first and returns one by id (404 for an unknown one)', async () => {
    const h = await start();
    await post(h, webhookBody('group-1', 'firing'));
    await post(h, webhookBody('group-2', 'firing'));
    await h.service.idle();
    const items = await incidents(h);
    assert.deepEqual(
      items.map((incident) => incident.alert.groupKey),
      ['group-2', 'group-1'],
    );
    const first = items[1] as Incident;
    const one = await h.app.inject({ method: 'GET', url: `/api/v1/incidents/${first.id}` });
    assert.equal(one.statusCode, 200);
    assert.equal((one.json() as Incident).alert.groupKey, 'group-1');
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/incidents/nope' })).statusCode, 404);
    assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/incidents/..%2Fx' })).statusCode, 404);
  });
});

describe('POST /api/v1/incidents/{id}/approve', () => {
  async function diagnosed(h: Harness): Promise<Incident> {
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    return only(h);
  }

  it('runs the approved plan and keeps who approved, what ran and each outcome', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    const digest = incident.plan?.digest;
    const response = await approve(h, incident.id, digest);
    assert.equal(response.statusCode, 202);
    assert.equal((response.json() as { incident: Incident }).incident.status, 'acting');
    await h.service.idle();
    const done = await only(h);
    assert.equal(done.status, 'validating');
    assert.deepEqual(
      done.approvals.map(({ by, digest: approved, mode }) => ({ by, digest: approved, mode })),
      [{ by: 'alice', digest, mode: 'manual' }],
    );
    assert.equal(done.actions.length, 3);
    assert.ok(done.actions.every((entry) => entry.outcome === 'done' && entry.action === 'clean'));
    assert.deepEqual(
      done.audit.map((event) => event.what),
      ['opened', 'diagnosed', 'planned', 'approved', 'run started', 'run finished'],
    );
    assert.equal(done.progress?.clean?.settled, 3);
    assert.equal(await metric(h, 'stuckfailed_actions_total{action="clean",outcome="done"}'), 3);
    assert.ok(h.mitigator.calls.includes('recheck'), 're-checked before acting');
    // The resolved notification then validates and closes it.
    await post(h, webhookBody(GROUP, 'resolved'));
    await h.service.idle();
    assert.equal((await only(h)).status, 'closed');
  });

  it('is 409 for a digest that is not the current plan, with the current digest', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    const response = await approve(h, incident.id, `sha256:${'0'.repeat(64)}`);
    assert.equal(response.statusCode, 409);
    assert.equal((response.json() as { digest: string }).digest, incident.plan?.digest);
    assert.equal((await only(h)).status, 'open');
  });

  it('runs a re-plan that shrank, and records it', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    h.mitigator.recheckPlan = planOf([cleanStep(pods('vms-a', 2))]);
    const response = await approve(h, incident.id, incident.plan?.digest);
    assert.equal(response.statusCode, 202);
    assert.equal((response.json() as { replanned: boolean }).replanned, true);
    await h.service.idle();
    const done = await only(h);
    assert.equal(done.plan?.digest, h.mitigator.recheckPlan.digest);
    assert.equal(done.actions.length, 2);
    assert.ok(done.audit.some((event) => event.what === 're-planned'));
  });

  it('runs only the approved targets of a re-plan that grew (churn), and says how many were left out', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    // The same 3 pods and 47 that failed since: every re-plan under churn grows.
    h.mitigator.recheckPlan = planOf([cleanStep(pods('vms-a', 50))]);
    const response = await approve(h, incident.id, incident.plan?.digest);
    assert.equal(response.statusCode, 202, response.body);
    await h.service.idle();
    const ran = await only(h);
    assert.deepEqual(
      ran.actions.map((action) => action.uid).sort(),
      pods('vms-a', 3)
        .map((target) => target.uid)
        .sort(),
      'exactly the approved targets, none of the new ones',
    );
    assert.match(
      ran.audit.find((event) => event.what === 're-planned')?.detail ?? '',
      /grew from 3 to 50.*47 new target\(s\) left out, for a new plan/,
    );
  });

  it('a new firing after the run diagnoses and plans again what is left; a retry of an old one does not', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    assert.equal((await approve(h, incident.id, incident.plan?.digest)).statusCode, 202);
    await h.service.idle();
    assert.equal((await only(h)).status, 'validating');
    // A retry of the first notification (the same body) changes nothing.
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    assert.equal((await only(h)).status, 'validating');
    // Still firing an hour later (repeat_interval): Alertmanager's body differs (endsAt moves on).
    const later = webhookBody(GROUP, 'firing');
    for (const alert of later.alerts) alert.endsAt = '2026-11-29T11:00:00Z';
    h.mitigator.nextPlan = planOf([cleanStep(pods('vms-c', 7))]);
    const response = await post(h, later);
    assert.equal(response.json().created, false, 'the same incident');
    await h.service.idle();
    const reopened = await only(h);
    assert.equal(reopened.status, 'open');
    assert.equal(reopened.plan?.digest, h.mitigator.nextPlan.digest);
    assert.ok(reopened.audit.some((event) => event.what === 'reopened'));
    assert.equal(h.mitigator.calls.filter((call) => call === 'diagnose').length, 2);
    assert.equal((await approve(h, reopened.id, reopened.plan?.digest)).statusCode, 202);
    await h.service.idle();
    assert.equal((await only(h)).actions.length, 3 + 7, 'the first run and the next');
  });

  it('needs a new approval for a re-plan with a step not approved, or with none of the approved targets left', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    const extra = { ...cleanStep(pods('vms-b', 5)), id: 'clean-more' };
    const widened = planOf([cleanStep(pods('vms-a', 3)), extra]);
    h.mitigator.recheckPlan = widened;
    const response = await approve(h, incident.id, incident.plan?.digest);
    assert.equal(response.statusCode, 409);
    assert.equal((response.json() as { digest: string }).digest, widened.digest);
    assert.match(
      (response.json() as { message: string }).message,
      /step clean-more \(clean\) was not in the approved plan/,
    );
    const replaced = await only(h);
    assert.equal(replaced.status, 'open');
    assert.equal(replaced.plan?.digest, widened.digest);
    assert.equal(replaced.actions.length, 0, 'nothing ran');
    assert.equal(
      (await approve(h, incident.id, incident.plan?.digest)).statusCode,
      409,
      'the old digest is stale',
    );

    // Every approved pod gone, others failed since: nothing approved is left to run.
    const others = planOf([cleanStep(pods('vms-a', 5, 'virt-launcher-other'))]);
    h.mitigator.recheckPlan = others;
    const none = await approve(h, incident.id, widened.digest);
    assert.equal(none.statusCode, 409);
    assert.equal((none.json() as { digest: string }).digest, others.digest);
    assert.equal((await approve(h, incident.id, others.digest)).statusCode, 202);
    await h.service.idle();
    assert.equal((await only(h)).actions.length, 5);
  });

  it('validates and closes once the run ends when the resolved notification comes during it', async () => {
    const mitigator = new FakeMitigator();
    const gate = deferred();
    mitigator.applyGate = () => gate.promise;
    const h = await start({ mitigator });
    const incident = await diagnosed(h);
    assert.equal((await approve(h, incident.id, incident.plan?.digest)).statusCode, 202);
    assert.equal((await post(h, webhookBody(GROUP, 'resolved'))).statusCode, 200);
    assert.equal((await only(h)).status, 'acting', 'the run goes on');
    gate.resolve();
    await h.service.idle();
    const closed = await only(h);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.actions.length, 3);
    assert.equal(closed.validation?.verdict, 'cleared');
    assert.deepEqual(closed.audit.map((event) => event.what).slice(-4), [
      'run started',
      'run finished',
      'validation started',
      'closed',
    ]);
  });

  it('refuses a second approval while the first one runs', async () => {
    const mitigator = new FakeMitigator();
    const gate = deferred();
    mitigator.applyGate = () => gate.promise;
    const h = await start({ mitigator });
    const incident = await diagnosed(h);
    assert.equal((await approve(h, incident.id, incident.plan?.digest)).statusCode, 202);
    assert.equal((await approve(h, incident.id, incident.plan?.digest)).statusCode, 409);
    gate.resolve();
    await h.service.idle();
    assert.equal((await only(h)).approvals.length, 1);
  });

  it('refuses without a valid API token (401), when approvals are off (403), a bad body (400), an unknown id (404)', async () => {
    const h = await start();
    const incident = await diagnosed(h);
    const digest = incident.plan?.digest;
    assert.equal((await approve(h, incident.id, digest, 'not-a-token-0123456789')).statusCode, 401);
    assert.equal((await approve(h, incident.id, digest, WEBHOOK_TOKEN)).statusCode, 401);
    assert.equal((await approve(h, incident.id, 'sha1:abc')).statusCode, 400);
    assert.equal((await approve(h, 'no-such-incident', digest)).statusCode, 404);
    await h.close();
    const off = await start({ apiTokens: [] });
    await post(off, webhookBody(GROUP, 'firing'));
    await off.service.idle();
    const offIncident = await only(off);
    const refused = await approve(off, offIncident.id, offIncident.plan?.digest);
    assert.equal(refused.statusCode, 403);
    assert.match((refused.json() as { message: string }).message, /--api-token-file/);
  });
});

describe('policy', () => {
  const automatic = parsePolicy(
    'causes:\n  migration:\n    actions:\n      clean: automatic\n    caps:\n      podsPerRun: 10\n',
    'policy.yaml',
  );

  it('runs a plan the policy allows automatically, without approval', async () => {
    const h = await start({ policy: automatic });
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    assert.equal(incident.status, 'validating');
    assert.equal(incident.actions.length, 3);
    assert.deepEqual(
      incident.approvals.map(({ by, mode }) => ({ by, mode })),
      [{ by: 'policy:policy.yaml', mode: 'automatic' }],
    );
  });

  it('waits for nothing when the plan is over the caps: it cannot run, nor be approved', async () => {
    const mitigator = new FakeMitigator();
    mitigator.nextPlan = planOf([cleanStep(pods('vms-a', 11))]);
    const h = await start({ policy: automatic, mitigator });
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    assert.equal(incident.status, 'open');
    assert.equal(incident.actions.length, 0);
    assert.ok(incident.audit.some((event) => /over the cap podsPerRun=10/.test(event.detail ?? '')));
    const response = await approve(h, incident.id, incident.plan?.digest);
    assert.equal(response.statusCode, 409);
    assert.match((response.json() as { message: string }).message, /policy forbids/);
  });
});

describe('restarts', () => {
  it('keeps every incident and resumes an interrupted run from its journal', async () => {
    const mitigator = new FakeMitigator();
    mitigator.nextPlan = planOf([cleanStep(pods('vms-a', 5))]);
    const reachedThird = deferred();
    const release = deferred();
    mitigator.applyGate = async (index) => {
      if (index === 2) {
        reachedThird.resolve();
        await release.promise;
      }
    };
    let h = await start({ mitigator });
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    assert.equal((await approve(h, incident.id, incident.plan?.digest)).statusCode, 202);
    await reachedThird.promise;
    // The service stops (as on SIGTERM) while the third write waits: it is not sent.
    const stopping = h.service.close();
    release.resolve();
    await stopping;
    const interrupted = (await h.store.get(incident.id))?.incident;
    assert.equal(interrupted?.status, 'acting');
    assert.equal(interrupted?.actions.length, 2);

    const next = new FakeMitigator();
    h = await h.restart(next);
    harness = h;
    await h.app.ready();
    await h.service.idle();
    const resumed = await only(h);
    assert.equal(resumed.status, 'validating');
    assert.equal(resumed.actions.length, 5, 'each target written once across both runs');
    assert.equal(new Set(resumed.actions.map((entry) => entry.name)).size, 5);
    assert.equal(next.settledSeen[0]?.size, 2);
    const [first] = pods('vms-a', 1);
    assert.ok(first && next.settledSeen[0]?.has(targetKey('clean', first)));
    assert.ok(resumed.audit.some((event) => event.what === 'run resumed'));
  });

  it('validates after a restart an incident whose resolved notification was recorded but not validated', async () => {
    let h = await start();
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    // As if the process died right after writing the resolved notification.
    await mutateIncident(h.store, incident.id, (current) => {
      current.alert.state = 'resolved';
      return current;
    });
    h = await h.restart(new FakeMitigator());
    harness = h;
    await h.app.ready();
    await h.service.idle();
    const closed = await only(h);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.validation?.verdict, 'cleared');
  });

  it('diagnoses after a restart an incident whose diagnosis never finished', async () => {
    const mitigator = new FakeMitigator();
    mitigator.diagnoseError = new Error('API unreachable');
    let h = await start({ mitigator });
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    assert.ok((await only(h)).audit.some((event) => event.what === 'diagnosis failed'));
    h = await h.restart(new FakeMitigator());
    harness = h;
    await h.app.ready();
    await h.service.idle();
    assert.equal((await only(h)).diagnosis?.failedLaunchers, 412);
  });
});

describe('page, metrics, health', () => {
  it("serves serve's page with its headers, /metrics on its own registry, /healthz and /readyz", async () => {
    const h = await start();
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    const page = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.equal(page.headers['content-security-policy'], PAGE_HEADERS['content-security-policy']);
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.ok(page.body.includes(incident.id));
    const one = await h.app.inject({ method: 'GET', url: `/incidents/${incident.id}` });
    assert.equal(one.statusCode, 200);
    assert.equal(one.headers['content-security-policy'], PAGE_HEADERS['content-security-policy']);
    assert.ok(one.body.includes(`data-digest="${incident.plan?.digest}"`));
    const missing = await h.app.inject({ method: 'GET', url: '/incidents/nope' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['content-security-policy'], PAGE_HEADERS['content-security-policy']);
    assert.match(missing.body, /^<!doctype html>/i);

    assert.equal(await metric(h, 'stuckfailed_incidents{state="open"}'), 1);
    assert.equal(await metric(h, 'stuckfailed_incidents{state="closed"}'), 0);
    assert.equal(await metric(h, 'stuckfailed_failed_launchers{cause="migration"}'), 236);
    assert.equal(await metric(h, 'stuckfailed_failed_launchers{cause="all"}'), 412);
    assert.equal(await metric(h, 'stuckfailed_diagnosis_duration_seconds_count{outcome="done"}'), 1);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="accepted"}'), 1);

    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    h.mitigator.isReady = false;
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
  });

  it('answers 503 when the store fails, so that Alertmanager retries, and is not ready while it does', async () => {
    const h = await start();
    // The Kubernetes store without its CRD: the API server answers 404 for the incidents.
    const missingCrd = new ApiError({
      method: 'GET',
      url: 'https://api.example:6443/apis/stuckfailed.io/v1alpha1/namespaces/stuckfailed/incidents',
      server: 'the API server at https://api.example:6443',
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server could not find the requested resource',
        reason: 'NotFound',
        code: 404,
      },
      attempts: 1,
    });
    // Started and leading first: a store that cannot list fails the start itself, loudly.
    await h.app.ready();
    h.store.upsertByGroupKey = async () => {
      throw missingCrd;
    };
    h.store.list = async () => {
      throw missingCrd;
    };
    const response = await post(h, webhookBody(GROUP, 'firing'));
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error, 'unavailable');
    assert.match(response.json().message, /NotFound, 404/);
    assert.equal(await metric(h, 'stuckfailed_webhook_requests_total{outcome="error"}'), 1);
    assert.equal(
      await metric(h, 'stuckfailed_incidents{state="open"}'),
      undefined,
      'no counts from a store it cannot read',
    );
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    assert.deepEqual([ready.statusCode, ready.json().status], [503, 'incident store unreadable']);
  });

  it('mounts the page renderers it is given, with their headers and their not-found page', async () => {
    const headers = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' };
    const h = await start({
      pages: {
        renderIndexPage: (items) => `<p>index of ${items.length}</p>`,
        renderIncidentPage: (incident) => `<p>incident ${incident.id}</p>`,
        renderNotFoundPage: (id) => `<p>no ${id}</p>`,
        headers,
      },
    });
    await post(h, webhookBody(GROUP, 'firing'));
    await h.service.idle();
    const incident = await only(h);
    const index = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(index.body, '<p>index of 1</p>');
    assert.equal(index.headers['cache-control'], 'no-store');
    assert.equal(
      (await h.app.inject({ method: 'GET', url: `/incidents/${incident.id}` })).body,
      `<p>incident ${incident.id}</p>`,
    );
    const missing = await h.app.inject({ method: 'GET', url: '/incidents/gone' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.body, '<p>no gone</p>');
    assert.equal(missing.headers['cache-control'], 'no-store');
  });
});
