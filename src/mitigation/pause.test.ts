import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { podEvent } from '../../test/helpers/cluster-fixtures.js';
import { startTestSimulator } from '../../test/helpers/simulator.js';
import { launcherOf, memoryContext, objects, testApi, vm, vmiOf } from '../../test/helpers/vm-fixtures.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import type { KubeObject, Pod, VirtualMachine } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import {
  archiveLaunchersTo,
  makePauseExecutor,
  PAUSED_FROM_ANNOTATION,
  pausedFrom,
  planPause,
  planUnpause,
  runFieldOf,
  unpauseVms,
} from './pause.js';

/**
 * Namespace a: vm-1 (runStrategy Always, 3 Failed launchers and a Running one), vm-2 (deprecated running: true,
 * 1 Failed launcher, its own annotations), vm-3 (Halted), vm-4 (paused by us already), vm-5 (Manual, labelled
 * tier=web). Namespace b: vm-1 (RerunOnFailure, 2 Failed launchers).
 */
function cluster(): KubeObject[] {
  const vms = [
    vm({ namespace: 'a', name: 'vm-1' }),
    vm({ namespace: 'a', name: 'vm-2', run: { running: true }, annotations: { owner: 'team-x' } }),
    vm({ namespace: 'a', name: 'vm-3', run: { runStrategy: 'Halted' } }),
    vm({
      namespace: 'a',
      name: 'vm-4',
      run: { runStrategy: 'Halted' },
      annotations: { [PAUSED_FROM_ANNOTATION]: '{"runStrategy":"Always"}' },
    }),
    vm({ namespace: 'a', name: 'vm-5', run: { runStrategy: 'Manual' }, labels: { tier: 'web' } }),
    vm({ namespace: 'b', name: 'vm-1', run: { runStrategy: 'RerunOnFailure' } }),
  ];
  const result: KubeObject[] = [...vms];
  const launchers: Record<string, number> = { 'a/vm-1': 3, 'a/vm-2': 1, 'b/vm-1': 2 };
  for (const owner of vms) {
    const vmi = vmiOf(owner);
    result.push(vmi);
    const failed = launchers[`${owner.metadata.namespace}/${owner.metadata.name}`] ?? 0;
    for (let index = 0; index < failed; index += 1) result.push(launcherOf(vmi, `f${index}xyz`));
    result.push(launcherOf(vmi, 'runxy', 'Running'));
  }
  return result;
}

const names = (plan: { step: { targets: Array<{ namespace: string; name: string }> } }) =>
  plan.step.targets.map((target) => `${target.namespace}/${target.name}`);

describe('planPause', () => {
  const reader = new SnapshotReader({ objects: cluster(), logs: [] });

  it('targets the running VMs in scope, leaving halted and already paused ones', async () => {
    const plan = await planPause(reader, { namespace: 'a' });
    assert.deepEqual(names(plan), ['a/vm-1', 'a/vm-2', 'a/vm-5']);
    assert.equal(plan.alreadyHalted, 1);
    assert.equal(plan.alreadyPaused, 1);
    assert.deepEqual(
      plan.pauses.map((pause) => [pause.from, pause.failedLaunchers]),
      [
        [{ runStrategy: 'Always' }, 3],
        [{ running: true }, 1],
        [{ runStrategy: 'Manual' }, 0],
      ],
    );
    assert.equal(plan.step.action, 'pause');
  });

  it('selects by --min-failed across namespaces, by --vm and by -l', async () => {
    const minFailed = await planPause(reader, { minFailed: 2 });
    assert.deepEqual(names(minFailed), ['a/vm-1', 'b/vm-1']);
    assert.deepEqual(minFailed.step.caps, { minFailed: 2 });
    assert.deepEqual(names(await planPause(reader, { namespace: 'a', vm: 'vm-2' })), ['a/vm-2']);
    assert.deepEqual(names(await planPause(reader, { labelSelector: 'tier=web' })), ['a/vm-5']);
  });
});

describe('pause and pause --undo against the simulator', () => {
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

  const getVm = (namespace: string, name: string) => {
    const stored = handle.sim.store.get('virtualmachines', namespace, name);
    return stored && (JSON.parse(stored.body.toString('utf8')) as VirtualMachine);
  };
  const podsOf = (namespace: string, name: string) =>
    [...handle.sim.store.objects('pods')]
      .filter((pod) => pod.namespace === namespace && pod.name.startsWith(`virt-launcher-${name}-`))
      .map((pod) => pod.name);

  it('a server dry run changes nothing and archives nothing', async () => {
    const plan = await planPause(new LiveClusterReader(api), { namespace: 'a' });
    const before = getVm('a', 'vm-1');
    const archived: Pod[] = [];
    const context = memoryContext(api, { dryRun: 'server' });
    const outcome = await makePauseExecutor({ archive: async (pod) => void archived.push(pod) })(
      plan.step,
      context,
    );
    assert.equal(outcome.counts.done, 3);
    assert.deepEqual(getVm('a', 'vm-1'), before);
    assert.deepEqual(archived, []);
    assert.equal(podsOf('a', 'vm-1').length, 4);
  });

  it('archives the Failed launchers before halting, records what was there, and undo restores it exactly', async () => {
    const originals = ['vm-1', 'vm-2', 'vm-5'].map((name) => getVm('a', name) as VirtualMachine);
    const plan = await planPause(new LiveClusterReader(api), { namespace: 'a' });
    const archived: string[] = [];
    const archive = async (pod: Pod) => {
      const owner = pod.metadata.labels?.['vm.kubevirt.io/name'] as string;
      // At archive time the VM still runs and the pod is still there: the archive comes first.
      assert.ok(runFieldOf(getVm('a', owner) as VirtualMachine));
      assert.equal(getVm('a', owner)?.metadata.annotations?.[PAUSED_FROM_ANNOTATION], undefined);
      assert.ok(podsOf('a', owner).includes(pod.metadata.name));
      archived.push(pod.metadata.name);
    };
    const context = memoryContext(api);
    const outcome = await makePauseExecutor({ archive })(plan.step, context);
    assert.equal(outcome.counts.done, 3);
    assert.deepEqual(archived.sort(), [
      'virt-launcher-vm-1-f0xyz',
      'virt-launcher-vm-1-f1xyz',
      'virt-launcher-vm-1-f2xyz',
      'virt-launcher-vm-2-f0xyz',
    ]);

    const vm1 = getVm('a', 'vm-1') as VirtualMachine;
    assert.equal(vm1.spec.runStrategy, 'Halted');
    assert.deepEqual(pausedFrom(vm1), { runStrategy: 'Always' });
    const vm2 = getVm('a', 'vm-2') as VirtualMachine;
    assert.equal(vm2.spec.running, false);
    assert.equal(vm2.spec.runStrategy, undefined, 'never both fields');
    assert.equal(vm2.metadata.annotations?.[PAUSED_FROM_ANNOTATION], '{"running":true}');
    // As virt-controller would: the VMI and every launcher of a halted VM are gone; other VMs keep theirs.
    assert.equal(handle.sim.store.get('virtualmachineinstances', 'a', 'vm-1'), undefined);
    // The Failed ones at once; the Running one is terminating through its grace period.
    assert.deepEqual(podsOf('a', 'vm-1'), ['virt-launcher-vm-1-runxy']);
    const running = handle.sim.store.get('pods', 'a', 'virt-launcher-vm-1-runxy');
    assert.ok((JSON.parse(running?.body.toString('utf8') ?? '{}') as Pod).metadata.deletionTimestamp);
    assert.equal(podsOf('b', 'vm-1').length, 3);
    assert.equal(vm1.status?.printableStatus, 'Stopped');

    // A re-plan has nothing left to pause.
    assert.deepEqual(names(await planPause(new LiveClusterReader(api), { namespace: 'a' })), []);

    const undo = await planUnpause(new LiveClusterReader(api), { namespace: 'a' });
    assert.deepEqual(names(undo), ['a/vm-1', 'a/vm-2', 'a/vm-4', 'a/vm-5']);
    assert.equal(undo.notPaused, 1, 'vm-3, halted by someone else');
    const undone = await unpauseVms(undo.step, memoryContext(api));
    assert.equal(undone.counts.done, 4);
    for (const original of originals) {
      const now = getVm('a', original.metadata.name) as VirtualMachine;
      assert.deepEqual(runFieldOf(now), runFieldOf(original));
      assert.deepEqual(now.metadata.annotations, original.metadata.annotations);
    }
    assert.equal(getVm('a', 'vm-4')?.spec.runStrategy, 'Always');
  });

  it("archives to clean's layout, <dir>/<namespace>/<pod>.yaml with the pod and its events", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stuckfailed-pause-'));
    try {
      const vmi = vmiOf(vm({ namespace: 'b', name: 'vm-1' }));
      const pod = launcherOf(vmi, 'f0xyz');
      handle.sim.store.put('events', podEvent(pod, 'BackOff', 'Back-off restarting failed container'));
      const plan = await planPause(new LiveClusterReader(api), { namespace: 'b' });
      const outcome = await makePauseExecutor({ archive: archiveLaunchersTo(dir) })(
        plan.step,
        memoryContext(api),
      );
      assert.equal(outcome.counts.done, 1);
      const files = (await readdir(join(dir, 'b'))).sort();
      assert.deepEqual(files, ['virt-launcher-vm-1-f0xyz.yaml', 'virt-launcher-vm-1-f1xyz.yaml']);
      const documents = parseAllDocuments(await readFile(join(dir, 'b', files[0] as string), 'utf8'));
      assert.deepEqual(
        documents.map((document) => (document.toJS() as KubeObject).kind),
        ['Pod', 'Event'],
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('undo refuses VMs it did not pause and VMs changed since, and touches neither', async () => {
    handle.sim.store.put(
      'virtualmachines',
      vm({
        namespace: 'c',
        name: 'changed',
        run: { runStrategy: 'Manual' },
        annotations: { [PAUSED_FROM_ANNOTATION]: '{"runStrategy":"Always"}' },
      }),
    );
    handle.sim.store.put('virtualmachines', vm({ namespace: 'c', name: 'mine-not' }));
    handle.sim.store.put(
      'virtualmachines',
      vm({ namespace: 'c', name: 'foreign', annotations: { [PAUSED_FROM_ANNOTATION]: 'yes' } }),
    );
    const before = ['changed', 'mine-not', 'foreign'].map((name) => getVm('c', name));
    const named = await planUnpause(new LiveClusterReader(api), { namespace: 'c', vm: 'mine-not' });
    assert.deepEqual(names(named), []);
    assert.equal(named.named?.reason, 'not paused by stuckfailed');
    const all = await planUnpause(new LiveClusterReader(api), { namespace: 'c' });
    assert.deepEqual(names(all), []);
    assert.deepEqual(
      all.refused.map((refused) => refused.name),
      ['changed', 'foreign'],
    );
    assert.match(all.refused[0]?.reason ?? '', /now runStrategy: Manual/);
    // Even if a stale plan names them, the executor reads each VM again and leaves it.
    const stale = {
      ...all.step,
      targets: before.map((object) => ({
        kind: 'VirtualMachine',
        namespace: 'c',
        name: object?.metadata.name as string,
        uid: object?.metadata.uid as string,
      })),
    };
    const outcome = await unpauseVms(stale, memoryContext(api));
    assert.deepEqual(outcome.counts, { done: 0, skipped: 1, gone: 0, conflict: 2, failed: 0 });
    assert.deepEqual(
      ['changed', 'mine-not', 'foreign'].map((name) => getVm('c', name)),
      before,
    );
  });
});
