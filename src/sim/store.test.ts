import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { launcherPod } from '../../test/helpers/cluster-fixtures.js';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from '../kube/selectors.js';
import type { KubeObject, Pod } from '../kube/types.js';
import { ApiStatusError } from './api-status.js';
import { decodeObject, ObjectStore, type StoredObject, type StoreEvent } from './store.js';

const names = (items: Array<{ key: string }>) => items.map((item) => item.key);

function storeWith(pods: Pod[], options: ConstructorParameters<typeof ObjectStore>[0] = {}): ObjectStore {
  const store = new ObjectStore({ kubeletTimers: false, ...options });
  store.load('pods', pods);
  return store;
}

function statusCode(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiStatusError) return error.code;
    throw error;
  }
  return undefined;
}

describe('ObjectStore lists', () => {
  const pods = [
    launcherPod({ namespace: 'b', name: 'p1' }),
    launcherPod({ namespace: 'a', name: 'p2', phase: 'Running' }),
    launcherPod({ namespace: 'a-b', name: 'p0' }),
    launcherPod({ namespace: 'a', name: 'p1' }),
  ];

  it('orders by storage key namespace/name, as etcd does', () => {
    const store = storeWith(pods);
    // '-' sorts before '/', so namespace "a-b" comes before "a".
    assert.deepEqual(names(store.list('pods').items), ['a-b/p0', 'a/p1', 'a/p2', 'b/p1']);
    assert.deepEqual(names(store.list('pods', { namespace: 'a' }).items), ['a/p1', 'a/p2']);
  });

  it('pages with continue keys and counts the remaining items only without selectors', () => {
    const store = storeWith(pods);
    const first = store.list('pods', { limit: 3 });
    assert.deepEqual(names(first.items), ['a-b/p0', 'a/p1', 'a/p2']);
    assert.equal(first.continueAt, 'a/p2\u0000');
    assert.equal(first.remainingItemCount, 1);
    const second = store.list('pods', { limit: 3, startAt: first.continueAt });
    assert.deepEqual(names(second.items), ['b/p1']);
    assert.equal(second.continueAt, undefined);
    const selected = store.list('pods', {
      limit: 1,
      fieldSelector: parseFieldSelector('pods', 'status.phase=Failed'),
    });
    assert.equal(selected.remainingItemCount, undefined);
    assert.notEqual(selected.continueAt, undefined);
  });

  it('serves later pages as of the first page, even after writes', () => {
    const store = storeWith(pods);
    const first = store.list('pods', { limit: 2 });
    store.delete('pods', 'a', 'p2', { gracePeriodSeconds: 0 });
    store.put('pods', launcherPod({ namespace: 'a', name: 'p3' }));
    store.put('pods', {
      ...launcherPod({ namespace: 'b', name: 'p1' }),
      metadata: { name: 'p1', namespace: 'b', labels: { changed: 'yes' } },
    });
    const rest = store.list('pods', { startAt: first.continueAt, resourceVersion: first.resourceVersion });
    assert.deepEqual(names(rest.items), ['a/p2', 'b/p1']);
    assert.equal(rest.items[1]?.labels?.changed, undefined);
    const latest = store.list('pods', { startAt: first.continueAt });
    assert.deepEqual(names(latest.items), ['a/p3', 'b/p1']);
  });

  it('answers 410 for versions compacted out of the history', () => {
    const store = storeWith(pods, { historyLimit: 2 });
    const first = store.list('pods', { limit: 1 });
    for (let index = 0; index < 5; index += 1)
      store.put('pods', launcherPod({ namespace: 'c', name: `n${index}` }));
    assert.equal(
      statusCode(() =>
        store.list('pods', { startAt: first.continueAt, resourceVersion: first.resourceVersion }),
      ),
      410,
    );
    assert.equal(
      statusCode(() => store.changesSince('pods', first.resourceVersion)),
      410,
    );
    assert.equal(store.changesSince('pods', store.resourceVersion).length, 0);
  });

  // Property: for random stores, selectors and page sizes, following continue keys returns exactly what a
  // reference filter over all objects returns, in key order, with no duplicates.
  it('pages agree with a reference filter (property)', () => {
    const podArb = fc.record({
      namespace: fc.constantFrom('ns-a', 'ns-b', 'ns-c', 'x'),
      name: fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/),
      phase: fc.constantFrom('Failed', 'Running', 'Succeeded') as fc.Arbitrary<
        'Failed' | 'Running' | 'Succeeded'
      >,
      app: fc.constantFrom('web', 'db', undefined),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(podArb, { selector: (pod) => `${pod.namespace}/${pod.name}`, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom('', 'app=web', 'app!=web', 'app', '!app', 'app in (web,db)'),
        fc.constantFrom('', 'status.phase=Failed', 'status.phase!=Running', 'metadata.namespace=ns-b'),
        fc.constantFrom(undefined, 'ns-a', 'ns-b'),
        (specs, limit, labelText, fieldText, namespace) => {
          const store = storeWith(
            specs.map((spec) =>
              launcherPod({
                namespace: spec.namespace,
                name: spec.name,
                phase: spec.phase,
                labels: spec.app === undefined ? {} : { app: spec.app },
              }),
            ),
          );
          const labelSelector = parseLabelSelector(labelText);
          const fieldSelector = parseFieldSelector('pods', fieldText);
          const collected: string[] = [];
          let startAt: string | undefined;
          let readAt: number | undefined;
          for (let pages = 0; pages < 100; pages += 1) {
            const page = store.list('pods', {
              namespace,
              labelSelector,
              fieldSelector,
              limit,
              startAt,
              resourceVersion: readAt,
            });
            assert.ok(page.items.length <= limit);
            collected.push(...names(page.items));
            if (page.continueAt === undefined) break;
            startAt = page.continueAt;
            readAt = page.resourceVersion;
          }
          const expected = specs
            .filter((spec) => namespace === undefined || spec.namespace === namespace)
            .filter((spec) => {
              const phaseOk =
                fieldText === '' ||
                (fieldText === 'status.phase=Failed' && spec.phase === 'Failed') ||
                (fieldText === 'status.phase!=Running' && spec.phase !== 'Running') ||
                (fieldText === 'metadata.namespace=ns-b' && spec.namespace === 'ns-b');
              return phaseOk && matchesLabels(labelSelector, spec.app === undefined ? {} : { app: spec.app });
            })
            .map((spec) => `${spec.namespace}/${spec.name}`)
            .sort();
          assert.deepEqual(collected, expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ObjectStore writes and watch history', () => {
  it('grows one resourceVersion across resources and records changes', () => {
    const store = new ObjectStore({ kubeletTimers: false });
    const start = store.resourceVersion;
    const events: StoreEvent[] = [];
    store.subscribe('pods', (event) => events.push(event));
    const created = store.put('pods', launcherPod({ namespace: 'a', name: 'p' }));
    const migration = store.put('virtualmachineinstancemigrations', {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstanceMigration',
      metadata: { name: 'm', namespace: 'a' },
      spec: { vmiName: 'v' },
    } as KubeObject);
    assert.ok(created.resourceVersion > start);
    assert.ok(migration.resourceVersion > created.resourceVersion);
    assert.equal(decodeObject(created).metadata.resourceVersion, String(created.resourceVersion));
    store.delete('pods', 'a', 'p');
    assert.deepEqual(
      events.map((event) => event.type),
      ['ADDED', 'DELETED'],
    );
    assert.deepEqual(
      store.changesSince('pods', start).map((event) => event.type),
      ['ADDED', 'DELETED'],
    );
    assert.ok((events[1] as StoreEvent).resourceVersion > migration.resourceVersion);
  });

  it('create refuses a taken name; update refuses a stale resourceVersion', () => {
    const store = new ObjectStore({ kubeletTimers: false });
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', namespace: 'a' },
      spec: {},
    };
    const first = store.create('leases', lease);
    assert.equal(
      statusCode(() => store.create('leases', lease)),
      409,
    );
    const updated = store.update('leases', {
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(first.resourceVersion) },
    });
    assert.equal(updated.uid, first.uid);
    assert.equal(
      statusCode(() =>
        store.update('leases', {
          ...lease,
          metadata: { ...lease.metadata, resourceVersion: String(first.resourceVersion) },
        }),
      ),
      409,
    );
    assert.equal(
      statusCode(() => store.update('leases', { ...lease, metadata: { name: 'missing', namespace: 'a' } })),
      404,
    );
  });
});

describe('ObjectStore deletes (registry rules)', () => {
  it('removes Failed, Succeeded and unscheduled pods at once, whatever the grace period', () => {
    const store = storeWith([
      launcherPod({ namespace: 'a', name: 'failed' }),
      launcherPod({ namespace: 'a', name: 'done', phase: 'Succeeded' }),
      launcherPod({ namespace: 'a', name: 'pending', phase: 'Pending', unscheduled: true }),
    ]);
    for (const name of ['failed', 'done', 'pending']) {
      const result = store.delete('pods', 'a', name, { gracePeriodSeconds: 30 });
      assert.equal(result.removed, true, name);
      assert.equal(store.get('pods', 'a', name), undefined);
    }
  });

  it('marks running pods for deletion and lets the kubelet remove them after the grace period', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = storeWith(
      [launcherPod({ namespace: 'a', name: 'run', phase: 'Running', terminationGracePeriodSeconds: 60 })],
      {
        clock: () => now,
      },
    );
    const result = store.delete('pods', 'a', 'run');
    assert.equal(result.removed, false);
    const marked = decodeObject(result.object) as Pod;
    assert.equal(marked.metadata.deletionTimestamp, '2026-01-01T00:01:00Z');
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 60);
    // A repeat delete may only shorten the grace period.
    store.delete('pods', 'a', 'run', { gracePeriodSeconds: 120 });
    assert.equal(
      decodeObject<Pod>(store.get('pods', 'a', 'run') as StoredObject).metadata.deletionTimestamp,
      '2026-01-01T00:01:00Z',
    );
    store.delete('pods', 'a', 'run', { gracePeriodSeconds: 10 });
    assert.equal(
      decodeObject<Pod>(store.get('pods', 'a', 'run') as StoredObject).metadata.deletionTimestamp,
      '2026-01-01T00:00:10Z',
    );
    assert.equal(store.runKubelet(), 0);
    now += 11_000;
    assert.equal(store.runKubelet(), 1);
    assert.equal(store.get('pods', 'a', 'run'), undefined);
  });

  it('keeps objects with finalizers until the finalizers are removed', () => {
    const store = new ObjectStore({ kubeletTimers: false });
    const migration = {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstanceMigration',
      metadata: { name: 'm', namespace: 'a', finalizers: ['kubevirt.io/migrationJobFinalize'] },
      spec: { vmiName: 'v' },
    } as KubeObject;
    store.put('virtualmachineinstancemigrations', migration);
    const result = store.delete('virtualmachineinstancemigrations', 'a', 'm');
    assert.equal(result.removed, false);
    assert.ok(decodeObject(result.object).metadata.deletionTimestamp);
    const current = decodeObject(store.get('virtualmachineinstancemigrations', 'a', 'm') as StoredObject);
    store.update('virtualmachineinstancemigrations', {
      ...current,
      metadata: { ...current.metadata, finalizers: [] },
    });
    assert.equal(store.get('virtualmachineinstancemigrations', 'a', 'm'), undefined);
  });

  it('refuses mismatched preconditions with 409 and changes nothing on dryRun', () => {
    const store = storeWith([launcherPod({ namespace: 'a', name: 'p', uid: 'uid-1' })]);
    assert.equal(
      statusCode(() => store.delete('pods', 'a', 'p', { preconditions: { uid: 'uid-2' } })),
      409,
    );
    assert.equal(
      statusCode(() => store.delete('pods', 'a', 'p', { preconditions: { resourceVersion: '1' } })),
      409,
    );
    const dry = store.delete('pods', 'a', 'p', { dryRun: true, preconditions: { uid: 'uid-1' } });
    assert.equal(dry.removed, true);
    assert.notEqual(store.get('pods', 'a', 'p'), undefined);
    store.delete('pods', 'a', 'p', { preconditions: { uid: 'uid-1' } });
    assert.equal(
      statusCode(() => store.delete('pods', 'a', 'p')),
      404,
    );
  });

  it('deletes a collection by selector within a namespace', () => {
    const store = storeWith([
      launcherPod({ namespace: 'a', name: 'f1' }),
      launcherPod({ namespace: 'a', name: 'r1', phase: 'Running' }),
      launcherPod({ namespace: 'b', name: 'f2' }),
    ]);
    const deleted = store.deleteCollection('pods', {
      namespace: 'a',
      fieldSelector: parseFieldSelector('pods', 'status.phase=Failed'),
      labelSelector: parseLabelSelector('kubevirt.io=virt-launcher'),
    });
    assert.deepEqual(names(deleted), ['a/f1']);
    assert.deepEqual(names(store.list('pods').items), ['a/r1', 'b/f2']);
  });
});

describe('ObjectStore bulk loading', () => {
  it('takes objects of any resource one at a time and lists them in key order once finished', () => {
    const store = new ObjectStore({ kubeletTimers: false });
    const loader = store.bulkLoader();
    const unscheduled = launcherPod({ namespace: 'a', name: 'p3' });
    delete unscheduled.spec.nodeName;
    loader.add('pods', launcherPod({ namespace: 'b', name: 'p1' }));
    loader.add('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } });
    loader.add('pods', launcherPod({ namespace: 'a', name: 'p2', phase: 'Running' }));
    loader.add('pods', unscheduled);
    // The same key again replaces the first one.
    loader.add('pods', launcherPod({ namespace: 'b', name: 'p1', phase: 'Succeeded' }));
    loader.finish();
    assert.deepEqual(names(store.list('pods').items), ['a/p2', 'a/p3', 'b/p1']);
    assert.equal(store.count('namespaces'), 1);
    assert.equal(decodeObject<Pod>(store.get('pods', 'b', 'p1') as StoredObject).status?.phase, 'Succeeded');
    // Empty selectable fields are not stored, yet still select as "" (pod strategy's zero values).
    const byEmptyNode = store.list('pods', { fieldSelector: parseFieldSelector('pods', 'spec.nodeName=') });
    assert.deepEqual(names(byEmptyNode.items), ['a/p3']);
    const byPhase = store.list('pods', {
      fieldSelector: parseFieldSelector('pods', 'status.phase!=Running'),
    });
    assert.deepEqual(names(byPhase.items), ['a/p3', 'b/p1']);
    // Loaded objects make no history: watches start after them.
    assert.throws(() => store.changesSince('pods', 1));
  });
});

describe('ObjectStore updates for writing commands', () => {
  it('checks preconditions under dryRun but writes nothing, and stores no empty annotation map', () => {
    const store = storeWith([launcherPod({ namespace: 'a', name: 'p1' })]);
    const current = decodeObject<Pod>(store.get('pods', 'a', 'p1') as StoredObject);
    const version = store.resourceVersion;
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
    assert.equal(
      statusCode(() => store.update('pods', stale, { dryRun: true })),
      409,
    );
    const answered = store.update(
      'pods',
      { ...current, metadata: { ...current.metadata, annotations: {} } },
      { dryRun: true },
    );
    assert.equal(decodeObject(answered).metadata.annotations, undefined);
    assert.equal(store.resourceVersion, version, 'nothing written');
    store.update('pods', { ...current, metadata: { ...current.metadata, annotations: {}, labels: {} } });
    const stored = decodeObject(store.get('pods', 'a', 'p1') as StoredObject);
    assert.equal(stored.metadata.annotations, undefined);
    assert.equal(stored.metadata.labels, undefined);
  });
});
