import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterReader, ListOptions } from '../cluster/reader.js';
import type { Event, KubeObject, Pod } from '../kube/types.js';
import { readinessProbeNoise } from '../sim/scenarios/noise.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { diagnose } from './diagnose.js';
import { splitByShares } from './gather/read-launchers.js';
import { VmiChurn } from './gather/vmi-churn.js';
import { gather } from './gather.js';

// Events per namespace: each namespace holding Failed launchers is read on its own, bounded by its own cap; past
// the cap, pods take the event classes of the pods of their signature that were read, and are counted as inferred.

const PULL =
  'Failed to pull image "quay.io/containerdisks/fedora:41": rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: manifest unknown';
const SANDBOX =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "37d6": plugin type="multus-shim" name="multus-cni-network" failed (add)';

function crashedLauncher(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'web-vms', labels: { 'kubevirt.io': 'virt-launcher' } },
    spec: { nodeName: 'worker-1', containers: [{ name: 'compute' }] },
    status: {
      phase: 'Failed',
      containerStatuses: [{ name: 'compute', state: { terminated: { exitCode: 1, reason: 'Error' } } }],
    },
  };
}

function warning(pod: string, index: number, reason: string, message: string): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod}.${index.toString(16).padStart(16, '0')}`, namespace: 'web-vms' },
    involvedObject: { kind: 'Pod', namespace: 'web-vms', name: pod },
    reason,
    message,
    type: 'Warning',
  };
}

/** 200 crashed launchers, one in four with sandbox events and the others with image pull events, 2 events each. */
function cluster(): KubeObject[] {
  const objects: KubeObject[] = [];
  for (let index = 0; index < 200; index += 1) {
    const name = `virt-launcher-vm-${String(index).padStart(4, '0')}-abcde`;
    objects.push(crashedLauncher(name));
    const [reason, message] = index % 4 === 0 ? ['FailedCreatePodSandBox', SANDBOX] : ['Failed', PULL];
    objects.push(warning(name, 1, reason, message), warning(name, 2, reason, message));
  }
  return objects;
}

describe('gather: the per-namespace event cap', () => {
  it('reads every event when they fit under the cap, and every cause is measured', async () => {
    const { facts, attribution, gatherErrors } = await gather(
      new SnapshotReader({ objects: cluster(), logs: [] }),
    );
    const byClasses = facts.groups.map((group) => [group.eventClasses.join(','), group.count]);
    assert.deepEqual(byClasses, [
      ['image-pull', 150],
      ['sandbox-network', 50],
    ]);
    assert.deepEqual(attribution, { fromOwnEvidence: 200, inferred: 0 });
    assert.deepEqual(gatherErrors, []);
  });

  it('past the cap, infers the unread pods from the read ones, exactly, and says so', async () => {
    const { facts, attribution, gatherErrors } = await gather(
      new SnapshotReader({ objects: cluster(), logs: [] }),
      { eventsPerNamespace: 100 },
    );
    // 100 events = the first 50 pods read whole: 13 with sandbox events, 37 with image events; the other 150 are
    // shared out like them: 150 * 13 / 50 = 39.
    const byClasses = new Map(facts.groups.map((group) => [group.eventClasses.join(','), group.count]));
    assert.equal(facts.failedLaunchers, 200);
    assert.equal(byClasses.get('sandbox-network'), 13 + 39);
    assert.equal(byClasses.get('image-pull'), 37 + 111);
    assert.equal(byClasses.has(''), false, 'no pod is left without the classes of its signature');
    assert.deepEqual(attribution, { fromOwnEvidence: 50, inferred: 150 });
    for (const group of facts.groups) {
      const sum = (counts: Array<{ count: number }>) =>
        counts.reduce((total, entry) => total + entry.count, 0);
      assert.equal(sum(group.nodes), group.count, 'node counts are whole pods that add up');
      assert.equal(sum(group.namespaces), group.count, 'namespace counts are whole pods that add up');
    }
    assert.equal(gatherErrors.length, 1);
    assert.equal(gatherErrors[0]?.type, 'events-capped');
    assert.match(gatherErrors[0]?.message ?? '', /namespace web-vms .* 150 Failed launchers were not read/);
  });
});

describe('splitByShares', () => {
  it('splits exactly, the remainders going to the largest fractions', () => {
    assert.deepEqual(splitByShares(150, [37, 13]), [111, 39]);
    assert.deepEqual(splitByShares(10, [1, 1, 1]), [4, 3, 3]);
    assert.deepEqual(splitByShares(5, [0, 0]), [0, 0]);
  });
});

describe('gather: events per namespace', () => {
  /** `count` launchers in `namespace`, every one with two events of `reason`/`message`. */
  function launchers(namespace: string, count: number, reason: string, message: string): KubeObject[] {
    const objects: KubeObject[] = [];
    for (let index = 0; index < count; index += 1) {
      const name = `virt-launcher-vm-${String(index).padStart(4, '0')}-abcde`;
      const pod = crashedLauncher(name);
      pod.metadata.namespace = namespace;
      objects.push(pod);
      for (const id of [1, 2]) {
        const event = warning(name, id, reason, message);
        event.metadata.namespace = namespace;
        event.involvedObject.namespace = namespace;
        objects.push(event);
      }
    }
    return objects;
  }

  it("does not let another namespace's noise starve the launchers of their events", async () => {
    // The case: 6,000 readiness-probe warnings in an app namespace that sorts first, 300 launchers whose
    // events say the CNI sandbox could not be created. One cluster-wide list cut at a budget read only the noise.
    const objects = [
      ...readinessProbeNoise({ namespace: 'apps', events: 6000, now: new Date('2026-11-23T22:00:00Z') }),
      ...launchers('vms', 300, 'FailedCreatePodSandBox', SANDBOX),
    ];
    const reader = new SnapshotReader({ objects, logs: [] });
    const { diagnosis } = await diagnose(reader, { threshold: 200 });
    assert.deepEqual(
      diagnosis.causes.map((cause) => [cause.category, cause.pods]),
      [['network', 300]],
    );
    assert.deepEqual(diagnosis.gatherErrors, []);
    assert.deepEqual(diagnosis.attribution, { fromOwnEvidence: 300, inferred: 0 });
  });

  it('keeps two namespaces apart whose pods share a signature but not a cause', async () => {
    const objects = [
      ...launchers('a-vms', 200, 'Failed', PULL),
      ...launchers('b-vms', 200, 'FailedCreatePodSandBox', SANDBOX),
    ];
    const { diagnosis } = await diagnose(new SnapshotReader({ objects, logs: [] }), {
      eventsPerNamespace: 500,
    });
    assert.deepEqual(
      diagnosis.causes.map((cause) => [cause.category, cause.pods]),
      [
        ['image', 200],
        ['network', 200],
      ],
    );
    assert.equal(diagnosis.attribution.inferred, 0);
  });

  it('reads only the namespaces that hold Failed launchers, most failures first', async () => {
    const objects = [
      ...readinessProbeNoise({ namespace: 'apps', events: 50, now: new Date('2026-11-23T22:00:00Z') }),
      ...launchers('few-vms', 2, 'Failed', PULL),
      ...launchers('many-vms', 5, 'FailedCreatePodSandBox', SANDBOX),
    ];
    const snapshot = new SnapshotReader({ objects, logs: [] });
    const listed: string[] = [];
    const reader: ClusterReader = {
      source: 'snapshot',
      list: (resource, options) => {
        // The nodes' Rebooted events (a Node-kind list in default) are another step's; this one is the pods' events.
        if (resource === 'events' && options?.fieldSelector?.includes('involvedObject.kind=Pod'))
          listed.push(options.namespace ?? '(all)');
        return snapshot.list(resource, options);
      },
      get: (resource, name, namespace) => snapshot.get(resource, name, namespace),
      readLog: (options) => snapshot.readLog(options),
    };
    await gather(reader, { concurrency: 1 });
    assert.deepEqual(listed, ['many-vms', 'few-vms']);
  });
});

describe('VmiChurn', () => {
  it('counts VMIs with two launchers or more exactly and forgets the ones seen once', () => {
    const churn = new VmiChurn({ capacity: 4, migrating: new Set(['ns/migrating']) });
    churn.add('ns/migrating', true);
    for (let index = 0; index < 10; index += 1) churn.add(`ns/once-${index}`, false);
    for (let index = 0; index < 3; index += 1) churn.add('ns/twice-or-more', index === 2);
    assert.deepEqual(
      [...churn.entries()],
      [
        ['ns/migrating', { failed: 1, targets: 1 }],
        ['ns/twice-or-more', { failed: 3, targets: 1 }],
      ],
    );
  });

  it('past its capacity keeps the VMIs with the most failures and every migrating one', () => {
    const churn = new VmiChurn({ capacity: 4, migrating: new Set(['ns/migrating']) });
    churn.add('ns/migrating', false);
    for (let vmi = 0; vmi < 6; vmi += 1) {
      for (let launcher = 0; launcher < vmi + 2; launcher += 1) churn.add(`ns/vmi-${vmi}`, false);
    }
    const kept = [...churn.entries()].map(([key, counts]) => [key, counts.failed]);
    assert.ok(kept.length <= 4);
    assert.deepEqual(kept.slice(0, 1), [['ns/migrating', 1]]);
    // The heaviest VMIs, seen last, are exact.
    assert.deepEqual(kept.slice(-2), [
      ['ns/vmi-4', 6],
      ['ns/vmi-5', 7],
    ]);
  });
});

describe('gather: what counts as a Failed launcher', () => {
  it('does not count a Failed pod labelled kubevirt.io=virt-launcher but not named virt-launcher-*', async () => {
    const impostor = crashedLauncher('hp-volume-x7k2p');
    const { facts, byNamespace } = await gather(
      new SnapshotReader({ objects: [crashedLauncher('virt-launcher-vm-a-abcde'), impostor], logs: [] }),
    );
    assert.equal(facts.failedLaunchers, 1);
    assert.deepEqual(byNamespace, [{ key: 'web-vms', count: 1 }]);
    assert.deepEqual(
      facts.groups.flatMap((group) => group.examples.map((example) => example.name)),
      ['virt-launcher-vm-a-abcde'],
    );
  });
});

describe('gather: past 2,000 signatures', () => {
  it("folds the rest into groups that keep no one pod's message, and says so", async () => {
    const letters = (index: number) =>
      [0, 1, 2].map((digit) => String.fromCharCode(97 + (Math.floor(index / 26 ** digit) % 26))).join('');
    const objects: KubeObject[] = [];
    for (let index = 0; index < 2100; index += 1) {
      const pod = crashedLauncher(`virt-launcher-vm-${String(index).padStart(4, '0')}-abcde`);
      const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
      if (terminated) terminated.message = `panic in module ${letters(index)}`;
      objects.push(pod);
    }
    const { facts, gatherErrors } = await gather(new SnapshotReader({ objects, logs: [] }));
    assert.equal(facts.failedLaunchers, 2100);
    const folded = facts.groups.filter((group) => group.message === undefined);
    assert.deepEqual(
      folded.map((group) => group.count),
      [100],
    );
    assert.ok(facts.groups.every((group) => group.message === undefined || group.count === 1));
    assert.deepEqual(
      gatherErrors.map((error) => error.type),
      ['groups-folded'],
    );
    assert.match(
      gatherErrors[0]?.message ?? '',
      /100 Failed launchers are grouped by kind, reason and container/,
    );
  });
});

/** The cluster() of namespace web-vms, moved to `namespace`. */
function inNamespace(namespace: string, objects: KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    const moved = structuredClone(object) as KubeObject & { involvedObject?: { namespace?: string } };
    moved.metadata.namespace = namespace;
    if (moved.involvedObject) moved.involvedObject.namespace = namespace;
    return moved;
  });
}

/** A snapshot that answers as the API does (source 'api'), optionally listing pods in another order, and logs when. */
function apiLike(objects: KubeObject[], reorder?: (pods: Pod[]) => Pod[]) {
  const snapshot = new SnapshotReader({ objects, logs: [] });
  const log: string[] = [];
  const reader: ClusterReader = {
    source: 'api',
    get: (resource, name, namespace) => snapshot.get(resource, name, namespace),
    readLog: (options) => snapshot.readLog(options),
    async *list<T extends KubeObject>(
      resource: Parameters<ClusterReader['list']>[0],
      options: ListOptions = {},
    ) {
      if (resource !== 'pods' || !options.fieldSelector) {
        if (resource === 'events' && options.namespace) log.push(`events ${options.namespace}`);
        yield* snapshot.list<T>(resource, options);
        return;
      }
      const pods: Pod[] = [];
      for await (const pod of snapshot.list<Pod>(resource, options)) pods.push(pod);
      for (const pod of reorder ? reorder(pods) : pods) {
        log.push(`pod ${pod.metadata.namespace}`);
        yield pod as unknown as T;
      }
      log.push('pods done');
    },
  };
  return { reader, log };
}

describe('gather: events read while the pods stream by', () => {
  const objects = [...inNamespace('a-vms', cluster()), ...inNamespace('b-vms', cluster().slice(0, 150))];

  it("reads a namespace's events once the pod list has moved past it, to the same report as a snapshot", async () => {
    const { reader, log } = apiLike(objects);
    const live = await gather(reader);
    // a-vms's events are asked for when the first pod of b-vms arrives, before the pod list ends.
    assert.ok(log.indexOf('events a-vms') > log.indexOf('pod b-vms'));
    assert.ok(log.indexOf('events a-vms') < log.indexOf('pods done'));
    assert.ok(log.indexOf('events b-vms') > log.indexOf('pods done'));
    const offline = await gather(new SnapshotReader({ objects, logs: [] }));
    assert.deepEqual(live.facts, offline.facts);
    assert.deepEqual(live.samples, offline.samples);
    assert.deepEqual(live.attribution, { fromOwnEvidence: 250, inferred: 0 });
    assert.deepEqual(live.gatherErrors, []);
  });

  it('says so when the pod list is not in key order, and counts every pod once', async () => {
    // The last a-vms launcher comes after b-vms's: a-vms's events were read without it.
    const { reader } = apiLike(objects, (pods) => {
      const last = pods.findLastIndex((pod) => pod.metadata.namespace === 'a-vms');
      return [...pods.slice(0, last), ...pods.slice(last + 1), ...pods.slice(last, last + 1)];
    });
    const { facts, gatherErrors } = await gather(reader);
    assert.equal(facts.failedLaunchers, 250);
    assert.equal(
      facts.groups.reduce((total, group) => total + group.count, 0),
      250,
    );
    assert.deepEqual(
      gatherErrors.map((error) => error.type),
      ['pods-out-of-order'],
    );
    assert.match(gatherErrors[0]?.message ?? '', /1 Failed launcher of namespace a-vms/);
  });
});
