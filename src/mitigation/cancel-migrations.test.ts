import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSimulator } from '../../test/helpers/simulator.js';
import { memoryContext, objects, testApi, vmim } from '../../test/helpers/vm-fixtures.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import type { KubeObject, VirtualMachineInstanceMigration } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { cancelMigrations, planCancelMigrations } from './cancel-migrations.js';
import { targetKey } from './plan.js';

const RESOURCE = 'virtualmachineinstancemigrations';

/** Two namespaces; every phase once in `a`, some of them for another VMI and in `b`. */
function cluster(): KubeObject[] {
  return [
    vmim('a', 'm-unset', 'vm-1', undefined),
    vmim('a', 'm-pending', 'vm-1', 'Pending'),
    vmim('a', 'm-running', 'vm-1', 'Running'),
    vmim('a', 'm-target-ready', 'vm-2', 'TargetReady'),
    vmim('a', 'm-succeeded', 'vm-1', 'Succeeded'),
    vmim('a', 'm-failed', 'vm-1', 'Failed'),
    vmim('a', 'm-failed-2', 'vm-2', 'Failed'),
    vmim('b', 'kubevirt-evacuation-x1', 'vm-9', 'Scheduling', { sourceNode: 'node-3' }),
    vmim('b', 'kubevirt-workload-update-y1', 'vm-8', 'Running'),
    vmim('b', 'm-done', 'vm-9', 'Succeeded'),
    {
      apiVersion: 'kubevirt.io/v1',
      kind: 'KubeVirt',
      metadata: { name: 'kv', namespace: 'openshift-cnv' },
    },
  ];
}

const names = (plan: { step: { targets: Array<{ namespace: string; name: string }> } }) =>
  plan.step.targets.map((target) => `${target.namespace}/${target.name}`);

describe('planCancelMigrations', () => {
  const reader = new SnapshotReader({ objects: cluster(), logs: [] });

  it('targets the in-flight vmims only (a vmim with no phase yet is Pending) and counts the finished', async () => {
    const plan = await planCancelMigrations(reader, { namespace: 'a' });
    assert.deepEqual(names(plan), ['a/m-pending', 'a/m-running', 'a/m-target-ready', 'a/m-unset']);
    assert.deepEqual(plan.finished, { succeeded: 1, failed: 2 });
    assert.equal(plan.step.count, 4);
    assert.equal(plan.step.action, 'cancel-migrations');
    assert.equal(plan.step.reason.cause, 'operator');
    assert.deepEqual(
      plan.cancels.map((cancel) => cancel.phase),
      ['Pending', 'Running', 'TargetReady', ''],
    );
    assert.deepEqual(plan.returningWaves, []);
  });

  it('narrows to one VMI with --vmi and to looping VMIs with vmis', async () => {
    const one = await planCancelMigrations(reader, { namespace: 'a', vmi: 'vm-2' });
    assert.deepEqual(names(one), ['a/m-target-ready']);
    assert.deepEqual(one.finished, { succeeded: 0, failed: 1 });
    const looping = await planCancelMigrations(reader, {
      vmis: [
        { namespace: 'a', vmi: 'vm-1' },
        { namespace: 'b', vmi: 'vm-9' },
      ],
    });
    assert.deepEqual(names(looping), ['a/m-pending', 'a/m-running', 'a/m-unset', 'b/kubevirt-evacuation-x1']);
    assert.equal(looping.step.reason.cause, 'migration');
    const none = await planCancelMigrations(reader, { vmis: [] });
    assert.deepEqual(names(none), []);
  });

  it('names the fix for evacuation and workload-update waves, with the node and the KubeVirt CR', async () => {
    const plan = await planCancelMigrations(reader, { namespace: 'b' });
    assert.deepEqual(names(plan), ['b/kubevirt-evacuation-x1', 'b/kubevirt-workload-update-y1']);
    const [evacuation, update] = plan.returningWaves;
    assert.equal(evacuation?.wave, 'evacuation');
    assert.match(evacuation?.fix ?? '', /kubectl uncordon node-3/);
    assert.equal(update?.wave, 'workload-update');
    assert.match(update?.fix ?? '', /workloadUpdateMethods/);
    assert.match(update?.fix ?? '', /-n openshift-cnv kv/);
  });

  it('leaves vmims already being deleted out of the targets, and counts them', async () => {
    const deleting = vmim('c', 'm-deleting', 'vm-1', 'Running');
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const plan = await planCancelMigrations(new SnapshotReader({ objects: [deleting], logs: [] }), {});
    assert.deepEqual(names(plan), []);
    assert.equal(plan.alreadyCancelling, 1);
  });
});

describe('cancelMigrations against the simulator', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  let api: KubeApi;
  before(async () => {
    handle = await startTestSimulator({ objects: objects(cluster()) });
    api = testApi(handle.kubeconfig);
  });
  after(async () => {
    api.close();
    await handle.stop();
  });

  const stored = (namespace: string, name: string) =>
    handle.sim.store.get(RESOURCE, namespace, name)?.body.toString('utf8');

  it('deletes the in-flight vmims, never one that finished since the plan, and journals every outcome', async () => {
    const plan = await planCancelMigrations(new LiveClusterReader(api), { namespace: 'a' });
    // Between plan and apply: one migration succeeds, one is replaced by a new object of the same name.
    const finished = decode('a', 'm-running');
    const succeeded: VirtualMachineInstanceMigration = { ...finished, status: { phase: 'Succeeded' } };
    handle.sim.store.update(RESOURCE, succeeded);
    handle.sim.store.delete(RESOURCE, 'a', 'm-pending');
    forceRemove('a', 'm-pending');
    const replacement = vmim('a', 'm-pending', 'vm-1', 'Pending');
    replacement.metadata.uid = 'new-uid';
    handle.sim.store.put(RESOURCE, replacement);
    const finishedBefore = ['m-succeeded', 'm-failed', 'm-failed-2', 'm-running'].map((name) =>
      stored('a', name),
    );

    const context = memoryContext(api);
    const outcome = await cancelMigrations(plan.step, context);

    const byName = Object.fromEntries(context.entries.map((entry) => [entry.name, entry.outcome]));
    assert.deepEqual(byName, {
      'm-unset': 'done',
      'm-pending': 'conflict',
      'm-running': 'skipped',
      'm-target-ready': 'done',
    });
    assert.equal(outcome.counts.done, 2);
    assert.deepEqual(
      outcome.failures.map((entry) => entry.name),
      ['m-pending'],
    );
    // Deleted means marked: the vmim finalizer keeps them until virt-controller lets go.
    assert.ok(decode('a', 'm-unset').metadata.deletionTimestamp);
    assert.ok(decode('a', 'm-target-ready').metadata.deletionTimestamp);
    assert.equal(decode('a', 'm-pending').metadata.deletionTimestamp, undefined);
    assert.deepEqual(
      ['m-succeeded', 'm-failed', 'm-failed-2', 'm-running'].map((name) => stored('a', name)),
      finishedBefore,
    );
    // A re-plan finds nothing left to cancel but the replaced vmim, which is new and in flight.
    const again = await planCancelMigrations(new LiveClusterReader(api), { namespace: 'a' });
    assert.deepEqual(names(again), ['a/m-pending']);
    assert.equal(again.alreadyCancelling, 2);
  });

  it('skips targets an earlier run settled, and sends dryRun=All under a server dry run', async () => {
    const plan = await planCancelMigrations(new LiveClusterReader(api), { namespace: 'b' });
    const [first, second] = plan.step.targets;
    assert.ok(first && second);
    const before = handle.sim.stats().byVerb.delete ?? 0;
    const context = memoryContext(api, {
      dryRun: 'server',
      settled: new Set([targetKey(plan.step.id, first)]),
    });
    const outcome = await cancelMigrations(plan.step, context);
    assert.equal(outcome.alreadyDone, 1);
    assert.equal(outcome.counts.done, 1);
    assert.deepEqual(
      context.entries.map((entry) => entry.name),
      [second.name],
    );
    assert.equal((handle.sim.stats().byVerb.delete ?? 0) - before, 1, 'one DELETE sent');
    assert.equal(decode('b', second.name).metadata.deletionTimestamp, undefined, 'nothing deleted');
  });

  function decode(namespace: string, name: string): VirtualMachineInstanceMigration {
    return JSON.parse(stored(namespace, name) as string) as VirtualMachineInstanceMigration;
  }

  function forceRemove(namespace: string, name: string): void {
    const current = decode(namespace, name);
    handle.sim.store.update(RESOURCE, { ...current, metadata: { ...current.metadata, finalizers: [] } });
  }
});
