import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event, KubeObject, Pod } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { splitByShares } from './gather/read-launchers.js';
import { VmiChurn } from './gather/vmi-churn.js';
import { gather } from './gather.js';

// The event budget: past it, pods take the event classes of the pods of their signature that were read, so the
// counts stay exact while the requests stay bounded.

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

describe('gather: the event budget', () => {
  it('reads every event when they fit in the budget', async () => {
    const { facts } = await gather(new SnapshotReader({ objects: cluster(), logs: [] }));
    const byClasses = facts.groups.map((group) => [group.eventClasses.join(','), group.count]);
    assert.deepEqual(byClasses, [
      ['image-pull', 150],
      ['sandbox-network', 50],
    ]);
  });

  it('past the budget, shares the unread pods like the read ones and keeps the total exact', async () => {
    const { facts } = await gather(new SnapshotReader({ objects: cluster(), logs: [] }), {
      eventBudget: 100,
    });
    // 100 events = the first 50 pods read whole: 13 with sandbox events, 37 with image events.
    const byClasses = new Map(facts.groups.map((group) => [group.eventClasses.join(','), group.count]));
    assert.equal(facts.failedLaunchers, 200);
    assert.equal((byClasses.get('image-pull') ?? 0) + (byClasses.get('sandbox-network') ?? 0), 200);
    assert.equal(byClasses.get('sandbox-network'), 52);
    assert.equal(byClasses.has(''), false, 'no pod is left without the classes of its signature');
  });
});

describe('splitByShares', () => {
  it('splits exactly, the remainders going to the largest fractions', () => {
    assert.deepEqual(splitByShares(150, [37, 13]), [111, 39]);
    assert.deepEqual(splitByShares(10, [1, 1, 1]), [4, 3, 3]);
    assert.deepEqual(splitByShares(5, [0, 0]), [0, 0]);
  });
});

describe('gather: one event list for the cluster', () => {
  it('cuts the budget across namespaces by key and still counts every pod exactly', async () => {
    // Two namespaces of 200 launchers each; a budget of 500 events reads `a-vms` whole (400) and part of `b-vms`.
    const objects: KubeObject[] = [];
    for (const namespace of ['a-vms', 'b-vms']) {
      for (const object of cluster()) {
        const copy = structuredClone(object) as Pod | Event;
        copy.metadata.namespace = namespace;
        if ('involvedObject' in copy) copy.involvedObject.namespace = namespace;
        objects.push(copy);
      }
    }
    const { facts, samples } = await gather(new SnapshotReader({ objects, logs: [] }), { eventBudget: 500 });
    assert.equal(facts.failedLaunchers, 400);
    const byClasses = new Map(facts.groups.map((group) => [group.eventClasses.join(','), group.count]));
    assert.equal((byClasses.get('image-pull') ?? 0) + (byClasses.get('sandbox-network') ?? 0), 400);
    // Read: a-vms whole (50 sandbox, 150 image) and the first 50 pods of b-vms (13 sandbox, 37 image); the other
    // 150 of b-vms are shared out like the 250 read pods of their signature: 150 * 63 / 250 = 37.8 -> 38.
    assert.equal(byClasses.get('sandbox-network'), 50 + 13 + 38);
    const network = facts.events.find((group) => group.eventClass === 'sandbox-network');
    assert.equal(network?.objects, 2 * (50 + 13));
    assert.equal(network?.onFailedLaunchers, 2 * (50 + 13));
    assert.ok(samples.every((sample) => sample.sample.events.length === 2));
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
