// The incident store on the Kubernetes API, against the simulator's apiserver (deploy/'s CRD applied): two stores
// (two replicas) writing the same group at once make one incident with every notification, updates that lose a
// race re-read and retry, and what is too large for etcd as it is goes compressed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { cleanStep, MIXED_DIAGNOSIS, planOf, pods } from '../../test/helpers/fake-mitigator.js';
import { applyServeBase, simKubeApi } from '../../test/helpers/incident-crd.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { Diagnosis } from '../diagnosis/types.js';
import type { JournalEntry } from '../mitigation/plan.js';
import { type RunningSimulator, startSimulator } from '../sim/index.js';
import type { Incident, IncidentNotification } from './incident.js';
import {
  type GroupDecision,
  mutateIncident,
  StoreConflictError,
  type StoredIncident,
} from './incident-store.js';
import {
  fromResource,
  GROUP_LABEL,
  type IncidentResource,
  KubernetesIncidentStore,
  MAX_OBJECT_BYTES,
  MAX_PLAIN_BYTES,
  toResource,
} from './kubernetes-incident-store.js';

const NAMESPACE = 'stuckfailed';
let sim: RunningSimulator;
const apis: KubeApi[] = [];

function newStore(): KubernetesIncidentStore {
  const api = simKubeApi(sim);
  apis.push(api);
  return new KubernetesIncidentStore({ api, namespace: NAMESPACE });
}

before(async () => {
  sim = await startSimulator({ scenario: 'healthy', namespaces: 1, nodes: 1 });
  await applyServeBase(sim);
});
after(async () => {
  for (const api of apis) api.close();
  await sim.close();
});

function opened(groupKey: string, notification: IncidentNotification): Incident {
  return {
    id: 'ignored-the-store-names-it',
    status: 'open',
    alert: {
      name: 'VirtLauncherPodsStuckFailed',
      groupKey,
      labels: { team: 'virt' },
      startsAt: notification.receivedAt,
      state: 'firing',
    },
    openedAt: notification.receivedAt,
    notifications: [notification],
    approvals: [],
    actions: [],
    audit: [{ time: notification.receivedAt, what: 'opened' }],
  };
}

/** The service's rule (incident-service.ts receive): join an incident not closed, else open one. */
function receive(groupKey: string, notification: IncidentNotification) {
  return (latest: StoredIncident | undefined): GroupDecision => {
    if (latest !== undefined && latest.incident.status !== 'closed') {
      latest.incident.notifications.push(notification);
      return { join: latest.incident };
    }
    return { create: opened(groupKey, notification) };
  };
}

function notification(index: number): IncidentNotification {
  return {
    receivedAt: new Date(Date.UTC(2026, 10, 29, 9, 0, index)).toISOString(),
    status: 'firing',
    bodyDigest: `sha256:${index}`,
  };
}

describe('KubernetesIncidentStore', () => {
  it('two replicas receiving the same notifications at once make one incident with every notification', async () => {
    const [a, b] = [newStore(), newStore()];
    const groupKey = '{}:{alertname="VirtLauncherPodsStuckFailed"}';
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, index) =>
        (index % 2 === 0 ? a : b).upsertByGroupKey(groupKey, receive(groupKey, notification(index))),
      ),
    );
    const ids = new Set(results.map((result) => result?.stored.incident.id));
    assert.equal(ids.size, 1, `one incident, not ${[...ids].join(', ')}`);
    assert.equal(results.filter((result) => result?.created).length, 1, 'exactly one delivery created it');
    const all = await a.list();
    assert.equal(all.length, 1);
    const [only] = all;
    assert.deepEqual(
      only?.incident.notifications.map((entry) => entry.bodyDigest).sort(),
      Array.from({ length: 16 }, (_, index) => `sha256:${index}`).sort(),
    );
    assert.match(only?.incident.id ?? '', /^sf-[0-9a-f]{32}-1$/);
    assert.deepEqual(await b.get(only?.incident.id ?? ''), only);
  });

  it('a firing after the incident closed opens the next one of the group', async () => {
    const store = newStore();
    const groupKey = '{}:{alertname="VirtLauncherPodsStuckFailed",cluster="b"}';
    const first = await store.upsertByGroupKey(groupKey, receive(groupKey, notification(1)));
    assert.ok(first);
    await mutateIncident(store, first.stored.incident.id, (incident) => ({ ...incident, status: 'closed' }));
    const second = await store.upsertByGroupKey(groupKey, receive(groupKey, notification(2)));
    assert.equal(second?.created, true);
    assert.equal(second?.stored.incident.id, first.stored.incident.id.replace(/-1$/, '-2'));
    const latest = await store.upsertByGroupKey(groupKey, receive(groupKey, notification(3)));
    assert.equal(
      latest?.stored.incident.id,
      second?.stored.incident.id,
      'joins the latest, not the closed one',
    );
    const resource = await apis[0]?.get<IncidentResource>('incidents', first.stored.incident.id, NAMESPACE);
    assert.ok(resource?.metadata.labels?.[GROUP_LABEL]);
  });

  it('an update on a stale version is a conflict; mutateIncident re-reads and every change lands', async () => {
    const [a, b] = [newStore(), newStore()];
    const groupKey = 'conflicts';
    const created = await a.upsertByGroupKey(groupKey, receive(groupKey, notification(0)));
    assert.ok(created);
    const { id } = created.stored.incident;
    const stale = created.stored;
    await b.update({ ...stale.incident, status: 'acting' }, stale.version);
    await assert.rejects(
      a.update({ ...stale.incident, status: 'closed' }, stale.version),
      StoreConflictError,
    );
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        mutateIncident(index % 2 === 0 ? a : b, id, (incident) => {
          incident.audit.push({ time: new Date().toISOString(), what: `writer ${index}` });
          return incident;
        }),
      ),
    );
    const after = await a.get(id);
    assert.equal(after?.incident.status, 'acting');
    assert.deepEqual(
      after?.incident.audit
        .filter((event) => event.what.startsWith('writer'))
        .map((event) => event.what)
        .sort(),
      Array.from({ length: 12 }, (_, index) => `writer ${index}`).sort(),
    );
  });

  it('keeps the journal and the plan with the incident, for the next leader', async () => {
    const store = newStore();
    const created = await store.upsertByGroupKey('journal', receive('journal', notification(0)));
    assert.ok(created);
    const targets = pods('ns-a', 3);
    const plan = planOf([cleanStep(targets)]);
    const entries: JournalEntry[] = targets.map((target) => ({
      time: '2026-11-29T09:01:00.000Z',
      step: 'clean-migration',
      action: 'clean',
      ...target,
      outcome: 'done',
    }));
    await mutateIncident(store, created.stored.incident.id, (incident) => ({
      ...incident,
      status: 'acting',
      plan,
      actions: entries,
    }));
    const read = await newStore().get(created.stored.incident.id);
    assert.deepEqual(read?.incident.plan, plan);
    assert.deepEqual(read?.incident.actions, entries);
  });
});

describe('incident resources and etcd size', () => {
  const diagnosis = MIXED_DIAGNOSIS as unknown as Diagnosis;

  it('stores a small incident as it is, with its printer-column fields, and reads it back the same', () => {
    const incident: Incident = { ...opened('g', notification(0)), id: 'sf-1', diagnosis };
    const resource = toResource(incident, NAMESPACE);
    assert.equal(resource.status?.compressed, undefined);
    assert.equal(resource.status?.failedLaunchers, diagnosis.failedLaunchers);
    assert.equal(resource.status?.phase, 'open');
    assert.deepEqual(fromResource(resource), incident);
  });

  it('compresses a large journal and diagnosis, and keeps the journal when even that is too large', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2_000, max: 12_000 }), (count) => {
        const targets = pods('ns-big', count);
        const actions: JournalEntry[] = targets.map((target, index) => ({
          time: new Date(Date.UTC(2026, 10, 29, 9, 0, 0, index)).toISOString(),
          step: 'clean-migration',
          action: 'clean',
          ...target,
          outcome: 'done',
          detail: `deleted with uid precondition ${index}`,
        }));
        const incident: Incident = {
          ...opened('g', notification(0)),
          id: 'sf-big',
          diagnosis,
          plan: planOf([cleanStep(targets)]),
          actions,
        };
        const resource = toResource(incident, NAMESPACE);
        const bytes = Buffer.byteLength(JSON.stringify(resource));
        assert.ok(bytes <= MAX_OBJECT_BYTES, `${bytes} bytes`);
        if (resource.status?.compressed === undefined) {
          assert.ok(bytes <= MAX_PLAIN_BYTES);
        }
        assert.deepEqual(fromResource(resource), incident);
      }),
      { numRuns: 6 },
    );
  });

  it('leaves the diagnosis out, and says so, when it does not fit even compressed', () => {
    // Random text does not compress: a diagnosis of 2 MB of it cannot fit.
    const noise = Array.from({ length: 3_000 }, () => randomBytes(500).toString('hex'));
    const huge = {
      ...diagnosis,
      gatherErrors: noise.map((message) => ({ resource: 'pods', message })),
    } as unknown as Diagnosis;
    const incident: Incident = { ...opened('g', notification(0)), id: 'sf-huge', diagnosis: huge };
    const resource = toResource(incident, NAMESPACE);
    assert.ok(Buffer.byteLength(JSON.stringify(resource)) <= MAX_OBJECT_BYTES);
    assert.match(resource.status?.diagnosisOmitted ?? '', /size limit/);
    const read = fromResource(resource);
    assert.equal(read.diagnosis, undefined);
    assert.equal(
      resource.status?.failedLaunchers,
      diagnosis.failedLaunchers,
      'the column still says how many',
    );
  });
});
