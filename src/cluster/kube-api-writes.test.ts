// create and replace against the simulator's apiserver: the conditional writes the incident store and the leader
// election are built on (409 AlreadyExists for a name taken, 409 Conflict for a stale resourceVersion, and the
// status subresource that writes status only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyServeBase, simKubeApi } from '../../test/helpers/incident-crd.js';
import type { KubeObject } from '../kube/types.js';
import { type RunningSimulator, startSimulator } from '../sim/index.js';
import { ApiError } from './api-error.js';
import type { KubeApi } from './kube-api.js';

interface Thing extends KubeObject {
  spec: { alert: { name: string; groupKey: string }; openedAt: string };
  status?: { phase: string };
}

let sim: RunningSimulator;
let api: KubeApi;

before(async () => {
  sim = await startSimulator({ scenario: 'healthy', namespaces: 1, nodes: 1 });
  await applyServeBase(sim);
  api = simKubeApi(sim);
});
after(async () => {
  api.close();
  await sim.close();
});

function thing(name: string, status?: Thing['status']): Thing {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      alert: { name: 'VirtLauncherPodsStuckFailed', groupKey: `{}:${name}` },
      openedAt: '2026-11-29T09:00:00Z',
    },
    ...(status === undefined ? {} : { status }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => assert.fail('expected the write to be refused'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ApiError, String(error));
  return error;
}

describe('KubeApi create and replace', () => {
  it('creates an object, typed, without the status the status subresource owns', async () => {
    const created = await api.create<Thing>('incidents', 'default', thing('one', { phase: 'closed' }));
    assert.equal(created.kind, 'Incident');
    assert.equal(created.apiVersion, 'stuckfailed.io/v1alpha1');
    assert.ok(created.metadata.resourceVersion);
    assert.equal(created.status, undefined);
    assert.equal(sim.stats().byVerb.create, 1);
  });

  it('a second create of the same name is 409 AlreadyExists', async () => {
    const error = await rejection(api.create<Thing>('incidents', 'default', thing('one')));
    assert.equal(error.statusCode, 409);
    assert.equal(error.reason, 'AlreadyExists');
  });

  it('replaces the status with the resourceVersion read; a stale one is 409 Conflict', async () => {
    const current = await api.get<Thing>('incidents', 'one', 'default');
    assert.ok(current);
    const written = await api.replace<Thing>(
      'incidents',
      { ...current, status: { phase: 'acting' } },
      { subresource: 'status' },
    );
    assert.equal(written.status?.phase, 'acting');
    assert.notEqual(written.metadata.resourceVersion, current.metadata.resourceVersion);
    const stale = await rejection(
      api.replace<Thing>('incidents', { ...current, status: { phase: 'closed' } }, { subresource: 'status' }),
    );
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.reason, 'Conflict');
    assert.equal((await api.get<Thing>('incidents', 'one', 'default'))?.status?.phase, 'acting');
  });

  it('a replace of the main resource keeps the status; dry run writes nothing', async () => {
    const current = await api.get<Thing>('incidents', 'one', 'default');
    assert.ok(current);
    const dry = await api.replace<Thing>(
      'incidents',
      { ...current, spec: { ...current.spec, openedAt: '2026-11-29T10:00:00Z' } },
      { dryRun: true },
    );
    assert.equal(dry.spec.openedAt, '2026-11-29T10:00:00Z');
    assert.equal(
      (await api.get<Thing>('incidents', 'one', 'default'))?.spec.openedAt,
      '2026-11-29T09:00:00Z',
    );
    const replaced = await api.replace<Thing>('incidents', {
      ...current,
      spec: { ...current.spec, openedAt: '2026-11-29T10:00:00Z' },
      status: { phase: 'closed' },
    });
    assert.equal(replaced.spec.openedAt, '2026-11-29T10:00:00Z');
    assert.equal(replaced.status?.phase, 'acting');
  });

  it('creating a namespaced object without a namespace is a usage error, before any request', async () => {
    const before = sim.stats().requests;
    await assert.rejects(api.create<Thing>('incidents', undefined, thing('two')), /needs a namespace/);
    assert.equal(sim.stats().requests, before);
  });
});
