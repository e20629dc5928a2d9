import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcher } from '../../test/helpers/validation-fixtures.js';
import type { WatchEvent } from '../cluster/kube-api.js';
import type { Pod } from '../kube/types.js';
import { LauncherTracker, terminatedAt } from './launcher-tracker.js';

const START = Date.parse('2026-11-29T10:00:00Z');

function listed(...pods: Pod[]): WatchEvent<Pod>[] {
  return [
    { type: 'RELIST' },
    ...pods.map((object) => ({ type: 'ADDED' as const, object })),
    { type: 'SYNCED', resourceVersion: '1' },
  ];
}

function tracker(trackNew = true) {
  const failures: string[] = [];
  const tracked = new LauncherTracker({ trackNew, startedAt: START, onFailure: (key) => failures.push(key) });
  const apply = (...events: WatchEvent<Pod>[]) => {
    for (const event of events) tracked.apply(event);
  };
  return { tracked, failures, apply };
}

describe('LauncherTracker', () => {
  it('counts Failed launchers by label and name, as DESIGN §4 defines them', () => {
    const { tracked, apply } = tracker();
    apply(
      ...listed(
        launcher('virt-launcher-a-11111', { phase: 'Failed' }),
        launcher('virt-launcher-b-22222', { phase: 'Failed', namespace: 'other' }),
        launcher('virt-launcher-c-33333', { phase: 'Running' }),
        // Named like a launcher without the label, and labelled without the name: neither counts.
        launcher('virt-launcher-d-44444', { phase: 'Failed', unlabelled: true }),
        { ...launcher('x', { phase: 'Failed' }), metadata: { ...launcher('x').metadata, name: 'user-pod' } },
      ),
    );
    assert.equal(tracked.synced, true);
    assert.equal(tracked.failedCount, 2);
    assert.equal(tracked.newLaunchers().total, 0, 'what the first list finds is not new');
  });

  it('is not synced, and counts nothing, before the first list is complete', () => {
    const { tracked, apply } = tracker();
    apply(
      { type: 'RELIST' },
      { type: 'ADDED', object: launcher('virt-launcher-a-11111', { phase: 'Failed' }) },
    );
    assert.equal(tracked.synced, false);
    assert.equal(tracked.failedCount, 0);
  });

  it('follows launchers added after the start until they run, and reports those that fail', () => {
    const { tracked, failures, apply } = tracker();
    apply(...listed(launcher('virt-launcher-old-11111', { phase: 'Running' })));
    apply({ type: 'ADDED', object: launcher('virt-launcher-new-22222', { phase: 'Pending' }) });
    // A change to a launcher that was there before the start does not make it new.
    apply({ type: 'MODIFIED', object: launcher('virt-launcher-old-11111', { phase: 'Running' }) });
    assert.deepEqual(
      { ...tracked.newLaunchers(), pendingExamples: tracked.newLaunchers().pendingExamples },
      {
        total: 1,
        running: 0,
        pending: 1,
        failed: 0,
        succeeded: 0,
        pendingExamples: ['vms/virt-launcher-new-22222'],
        runningVmis: [],
      },
    );
    apply({ type: 'MODIFIED', object: launcher('virt-launcher-new-22222', { phase: 'Running' }) });
    assert.deepEqual(tracked.newLaunchers().runningVmis, ['vms/new']);
    apply({ type: 'MODIFIED', object: launcher('virt-launcher-old-11111', { phase: 'Failed' }) });
    apply({ type: 'ADDED', object: launcher('virt-launcher-new2-33333', { phase: 'Failed' }) });
    assert.deepEqual(failures, ['vms/virt-launcher-old-11111', 'vms/virt-launcher-new2-33333']);
    assert.equal(tracked.failuresObserved, 2);
    assert.equal(tracked.failedCount, 2);
    assert.equal(tracked.newLaunchers().failed, 1);
    // A Failed launcher that is modified again (its status rewritten) is not a second failure.
    apply({ type: 'MODIFIED', object: launcher('virt-launcher-old-11111', { phase: 'Failed' }) });
    assert.equal(tracked.failuresObserved, 2);
    apply({ type: 'DELETED', object: launcher('virt-launcher-old-11111', { phase: 'Failed' }) });
    apply({ type: 'DELETED', object: launcher('virt-launcher-new2-33333', { phase: 'Failed' }) });
    assert.equal(tracked.failedCount, 0);
    assert.equal(tracked.newLaunchers().total, 1);
  });

  it('keeps what it holds during a relist and reconciles at SYNCED (410 Gone)', () => {
    const { tracked, failures, apply } = tracker();
    apply(
      ...listed(
        launcher('virt-launcher-a-11111', { phase: 'Failed' }),
        launcher('virt-launcher-b-22222', { phase: 'Failed' }),
      ),
    );
    apply({ type: 'ADDED', object: launcher('virt-launcher-n-33333', { phase: 'Pending' }) });
    apply(
      { type: 'RELIST' },
      { type: 'ADDED', object: launcher('virt-launcher-a-11111', { phase: 'Failed' }) },
    );
    assert.equal(tracked.failedCount, 2, 'the old state answers until the relist is complete');
    apply(
      { type: 'ADDED', object: launcher('virt-launcher-n-33333', { phase: 'Running' }) },
      // Appeared and failed while the watch was gone: a failure; created since the start: new.
      {
        type: 'ADDED',
        object: launcher('virt-launcher-m-44444', { phase: 'Failed', created: '2026-11-29T10:00:05Z' }),
      },
      // Unknown, Running, created before the start: there all along, not new.
      { type: 'ADDED', object: launcher('virt-launcher-o-55555', { phase: 'Running' }) },
      { type: 'SYNCED', resourceVersion: '9' },
    );
    assert.equal(tracked.failedCount, 2, 'b was deleted in the gap, m failed in it');
    assert.deepEqual(failures, ['vms/virt-launcher-m-44444']);
    const fresh = tracked.newLaunchers();
    assert.equal(fresh.total, 2);
    assert.equal(fresh.running, 1);
    assert.equal(fresh.failed, 1);
  });

  it('neither counts nor follows a flood of changes to Running launchers that were there before', () => {
    const { tracked, apply } = tracker(false);
    const running = Array.from({ length: 1000 }, (_, index) => launcher(`virt-launcher-r${index}-11111`));
    apply(...listed(...running));
    for (const object of running) apply({ type: 'MODIFIED', object });
    assert.equal(tracked.failedCount, 0);
    assert.equal(tracked.newLaunchers().total, 0);
  });
});

describe('terminatedAt', () => {
  it('takes the latest container termination, init containers included', () => {
    const pod = launcher('virt-launcher-a-11111', { phase: 'Failed', finishedAt: '2026-11-29T09:00:00Z' });
    pod.status = {
      ...pod.status,
      initContainerStatuses: [
        {
          name: 'container-disk-binary',
          state: { terminated: { exitCode: 0, finishedAt: '2026-11-29T08:59:00Z' } },
        },
      ],
      containerStatuses: [
        ...(pod.status?.containerStatuses ?? []),
        {
          name: 'guest-console-log',
          state: { terminated: { exitCode: 1, finishedAt: '2026-11-29T09:00:03Z' } },
        },
      ],
    };
    assert.equal(terminatedAt(pod), Date.parse('2026-11-29T09:00:03Z'));
  });

  it('falls back to the latest condition, then the creation, for pods the kubelet never ran', () => {
    const evicted = launcher('virt-launcher-a-11111', { phase: 'Failed' });
    evicted.status = {
      phase: 'Failed',
      reason: 'Evicted',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-29T08:00:01Z' },
        { type: 'Ready', status: 'False', lastTransitionTime: '2026-11-29T08:30:00Z' },
      ],
    };
    assert.equal(terminatedAt(evicted), Date.parse('2026-11-29T08:30:00Z'));
    evicted.status = { phase: 'Failed' };
    assert.equal(terminatedAt(evicted), Date.parse('2026-11-29T08:00:00Z'));
    delete evicted.metadata.creationTimestamp;
    assert.ok(Number.isNaN(terminatedAt(evicted)));
  });
});
