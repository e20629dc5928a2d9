// Several replicas, one actor, in process: two services share one store; only the one leading diagnoses and acts.
// Notifications and approvals taken by the follower are recorded and picked up by the leader; a leader that stops
// leading mid-run stops after its writes in flight, and the next leader resumes from the journal.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { deferred, FakeMitigator } from '../../test/helpers/fake-mitigator.js';
import { ALICE, SERVE_PAGES, WEBHOOK_TOKEN, webhookBody } from '../../test/helpers/serve-harness.js';
import { createServer, type Server } from './create-server.js';
import { FileIncidentStore } from './file-incident-store.js';
import type { Incident } from './incident.js';
import { silentLogger } from './json-logger.js';
import { defaultPolicy } from './policy.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function replicas(): Promise<{
  store: FileIncidentStore;
  a: Server;
  b: Server;
  ma: FakeMitigator;
  mb: FakeMitigator;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'stuckfailed-leadership-'));
  dirs.push(dir);
  const store = await FileIncidentStore.open(dir);
  const [ma, mb] = [new FakeMitigator(), new FakeMitigator()];
  const server = (mitigator: FakeMitigator) =>
    createServer({
      store,
      mitigator,
      policy: defaultPolicy(),
      now: () => new Date(),
      logger: silentLogger(),
      registry: new Registry(),
      webhookToken: WEBHOOK_TOKEN,
      apiTokens: [ALICE],
      pages: SERVE_PAGES,
      elected: true,
      reconcileMs: 10,
    });
  const [a, b] = await Promise.all([server(ma), server(mb)]);
  await Promise.all([a.app.ready(), b.app.ready()]);
  return { store, a, b, ma, mb };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let turn = 0; turn < 3_000; turn += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

async function fire(server: Server, groupKey: string): Promise<string> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/webhook/alertmanager',
    headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
    payload: webhookBody(groupKey, 'firing'),
  });
  assert.equal(response.statusCode, 200);
  return response.json<{ incident: string }>().incident;
}

describe('replicas sharing a store', () => {
  it('a follower records notifications and approvals; only the leader diagnoses and acts', async () => {
    const { store, a, b, ma, mb } = await replicas();
    try {
      assert.equal(a.service.leading, false);
      const id = await fire(b, 'follower-takes-it');
      await b.service.idle();
      assert.equal(mb.calls.length, 0, 'the follower does not diagnose');
      await a.service.lead();
      const planned = await until(async () => (await store.get(id))?.incident.plan, 'the leader plans');
      assert.deepEqual(ma.calls.slice(0, 2), ['diagnose', 'plan']);

      const approved = await b.service.approve(id, planned.digest, 'alice');
      assert.equal(approved.outcome, 'started');
      const done = await until(async () => {
        const incident = (await store.get(id))?.incident;
        return incident?.status === 'validating' ? incident : undefined;
      }, 'the leader runs the plan approved at the follower');
      assert.ok(ma.calls.includes(`apply ${planned.digest}`));
      assert.ok(!mb.calls.some((call) => call.startsWith('apply')), 'the follower never applies');
      assert.equal(done.actions.length, 3);
    } finally {
      await a.app.close();
      await b.app.close();
      await store.close();
    }
  });

  it('a failed diagnosis is retried on the next notification, not on every look through the store', async () => {
    const { store, a, b, ma } = await replicas();
    try {
      ma.diagnoseError = new Error('the API server is unreachable');
      await a.service.lead();
      const id = await fire(b, 'unreachable');
      await until(
        async () =>
          (await store.get(id))?.incident.audit.some((event) => event.what === 'diagnosis failed')
            ? true
            : undefined,
        'the diagnosis fails',
      );
      await a.service.idle();
      for (let look = 0; look < 5; look += 1) await a.service.reconcile();
      await a.service.idle();
      assert.equal(ma.calls.filter((call) => call === 'diagnose').length, 1);
      ma.diagnoseError = undefined;
      assert.equal(await fire(b, 'unreachable'), id);
      await until(
        async () => (await store.get(id))?.incident.diagnosis,
        'diagnosed on the next notification',
      );
      assert.equal(ma.calls.filter((call) => call === 'diagnose').length, 2);
    } finally {
      await a.app.close();
      await b.app.close();
      await store.close();
    }
  });

  it('a leader that stops leading mid-run stops; the next one resumes from the journal, each target once', async () => {
    const { store, a, b, ma, mb } = await replicas();
    try {
      await a.service.lead();
      const id = await fire(a, 'failover');
      const planned = await until(async () => (await store.get(id))?.incident.plan, 'planned');
      const gate = deferred();
      ma.applyGate = async (index) => {
        if (index === 1) await gate.promise;
      };
      assert.equal((await a.service.approve(id, planned.digest, 'alice')).outcome, 'started');
      await until(
        async () => ((await store.get(id))?.incident.actions.length === 1 ? true : undefined),
        'one done',
      );
      a.service.follow();
      gate.resolve();
      const interrupted = await until(async () => {
        const incident = (await store.get(id))?.incident;
        return incident?.audit.some((event) => event.what === 'run interrupted') ? incident : undefined;
      }, 'the old leader records the interruption');
      assert.equal(interrupted.status, 'acting');
      assert.match(
        interrupted.audit.find((event) => event.what === 'run interrupted')?.detail ?? '',
        /lost the lease/,
      );

      await b.service.lead();
      const finished: Incident = await until(async () => {
        const incident = (await store.get(id))?.incident;
        return incident?.status === 'validating' ? incident : undefined;
      }, 'the new leader finishes');
      assert.equal(mb.settledSeen[0]?.size, 1, 'resumed with the first target settled');
      const names = finished.actions.map((entry) => entry.name);
      assert.equal(names.length, 3);
      assert.equal(new Set(names).size, 3, 'each target journaled once');
      assert.ok(finished.audit.some((event) => event.what === 'run resumed'));
    } finally {
      await a.app.close();
      await b.app.close();
      await store.close();
    }
  });
});
