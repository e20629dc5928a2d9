import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event, KubeObject, Pod } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { gather, splitByShares } from './gather.js';

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
