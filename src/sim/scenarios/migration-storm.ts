// migration-storm: a node drain and a post-upgrade workload update keep creating migrations whose target pods fail.
// Each VMI keeps running on its source node and accumulates Failed target launchers (label
// kubevirt.io/migrationJobUID, annotation kubevirt.io/migrationJobName; migration.go) and Failed vmims named
// kubevirt-evacuation-* / kubevirt-workload-update-*; the migration controller keeps up to 5 finalized vmims per VMI
// (defaultFinalizedMigrationGarbageCollectionBuffer), hence 1-5 failed targets per VMI. A few migrations are in flight
// (parallelMigrationsPerCluster 5). Shapes from kubevirt PR #11988 and issues #12773, #17397.

import type { Pod } from '../../kube/types.js';
import {
  kubevirtReference,
  launcherPodName,
  MIGRATION_NAME_PREFIX,
  type MigrationTrigger,
  makeLauncherPod,
  makeMigration,
  makeVirtualMachine,
  makeVirtualMachineInstance,
  type NodeInfo,
  secondsAfter,
  secondsBefore,
  terminated,
  type VmIdentity,
} from '../objects.js';
import { createRandom, deriveSeed } from '../random.js';
import type { ClusterBuilder, FailureSlot } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import type { FailureKind } from './failure-kind.js';

/** Finalized vmims kept per VMI (migration.go defaultFinalizedMigrationGarbageCollectionBuffer). */
const MAX_FAILED_TARGETS_PER_VMI = 5;
const IN_FLIGHT_MIGRATIONS = 5;
/** Failed attempts from which a VMI is in a loop (diagnose's LOOP_THRESHOLD), and how many of those retry now. */
const LOOPING_ATTEMPTS = 3;
const RETRYING_VMIS = 2;
export const MIGRATION_FAILURE_REASON = 'Target pod is down';

export function drainedNodes(builder: ClusterBuilder): NodeInfo[] {
  return builder.nodeSubset('drain', 0.1);
}

interface SourceVm {
  vm: VmIdentity;
  sourceNode: NodeInfo;
  sourcePod: Pod;
  trigger: MigrationTrigger;
}

/** A VMI running on its source node: VM, VMI Running, its Running source launcher. */
function layDownSource(builder: ClusterBuilder, namespace: string, avoid: NodeInfo): SourceVm {
  const { random, now } = builder;
  const drained = drainedNodes(builder);
  const candidates =
    builder.nodes.length > 1 ? builder.nodes.filter((node) => node !== avoid) : builder.nodes;
  // Evacuations leave the drained node; workload updates move VMIs off outdated launchers anywhere.
  const fromDrained = random.chance(0.5) ? drained.find((node) => node !== avoid) : undefined;
  const sourceNode = fromDrained ?? random.pick(candidates);
  const trigger: MigrationTrigger = fromDrained === undefined ? 'workload-update' : 'evacuation';
  const vm = builder.newVm(namespace, {
    disk: random.chance(0.7) ? 'persistentVolumeClaim' : 'containerDisk',
  });
  const createdAt = secondsBefore(now, random.int(2 * 86400, 60 * 86400));
  const sourcePod = makeLauncherPod({
    vm,
    node: sourceNode,
    name: launcherPodName(random, vm.name),
    uid: random.uuid(),
    createdAt,
    image: builder.launcherImage,
    outcome: { phase: 'Running' },
    random,
  });
  builder.add(
    makeVirtualMachine(vm, {
      createdAt: secondsBefore(createdAt, 60),
      printableStatus: 'Running',
      ready: true,
    }),
    sourcePod,
  );
  return { vm, sourceNode, sourcePod, trigger };
}

function vmiFor(builder: ClusterBuilder, source: SourceVm, migrationState: Record<string, unknown>) {
  return makeVirtualMachineInstance(source.vm, {
    createdAt: new Date(Date.parse(source.sourcePod.metadata.creationTimestamp ?? '')),
    phase: 'Running',
    node: source.sourceNode.name,
    activePods: { [source.sourcePod.metadata.uid ?? '']: source.sourceNode.name },
    launcherImage: builder.launcherImage,
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'LiveMigratable', status: 'True' },
    ],
    migrationState,
  });
}

/** One failed attempt: the Failed vmim, its Failed target pod, the events and log lines it leaves. */
function layDownFailedAttempt(
  builder: ClusterBuilder,
  source: SourceVm,
  slot: FailureSlot,
): Record<string, unknown> {
  const { random } = builder;
  const { vm } = source;
  const vmimName = `${MIGRATION_NAME_PREFIX[source.trigger]}${random.suffix()}`;
  const vmimUid = random.uuid();
  const createdAt = secondsBefore(slot.failedAt, random.int(60, 330));
  const targetCreated = secondsAfter(createdAt, 1);
  const target = makeLauncherPod({
    vm,
    node: slot.node,
    name: launcherPodName(random, vm.name),
    uid: random.uuid(),
    createdAt: targetCreated,
    image: builder.launcherImage,
    migration: { uid: vmimUid, name: vmimName },
    outcome: {
      phase: 'Failed',
      finishedAt: slot.failedAt,
      containerStates: {
        compute: terminated(1, 'Error', secondsAfter(targetCreated, 8), slot.failedAt),
        // The serial console tailer exits 1 when the domain goes away under it (kubevirt#10695, #15134).
        'guest-console-log': terminated(1, 'Error', secondsAfter(targetCreated, 8), slot.failedAt),
      },
    },
    random,
  });
  builder.add(
    target,
    makeMigration({
      vm,
      name: vmimName,
      uid: vmimUid,
      trigger: source.trigger,
      createdAt,
      transitions: [
        ['Pending', createdAt],
        ['Scheduling', secondsAfter(createdAt, 1)],
        ['Scheduled', secondsAfter(createdAt, 9)],
        ['PreparingTarget', secondsAfter(createdAt, 10)],
        ['Failed', slot.failedAt],
      ],
      sourceNode: source.sourceNode.name,
      sourcePod: source.sourcePod.metadata.name,
      targetNode: slot.node.name,
      targetPod: target.metadata.name,
      failureReason: MIGRATION_FAILURE_REASON,
    }),
  );
  // Events and log lines as migration.go and virt-handler's migration-source code write them.
  builder.event({
    involved: kubevirtReference('VirtualMachineInstanceMigration', vm.namespace, vmimName, vmimUid),
    reason: 'SuccessfulCreate',
    message: `Created migration target pod ${target.metadata.name}`,
    type: 'Normal',
    count: 1,
    first: targetCreated,
    last: targetCreated,
    component: 'virtualmachine-controller',
  });
  builder.event({
    involved: kubevirtReference('VirtualMachineInstanceMigration', vm.namespace, vmimName, vmimUid),
    reason: 'FailedMigration',
    message: 'Migration failed because target pod shutdown during migration',
    type: 'Warning',
    count: 1,
    first: slot.failedAt,
    last: slot.failedAt,
    component: 'virtualmachine-controller',
  });
  builder.event({
    involved: kubevirtReference('VirtualMachineInstance', vm.namespace, vm.name, vm.vmiUid),
    reason: 'Migrated',
    message: `VirtualMachineInstance migration uid ${vmimUid} failed. reason:${MIGRATION_FAILURE_REASON}`,
    type: 'Warning',
    count: 1,
    first: slot.failedAt,
    last: slot.failedAt,
    component: 'virt-handler',
    host: source.sourceNode.name,
  });
  const object = { kind: '', name: vm.name, namespace: vm.namespace, uid: vm.vmiUid };
  builder.controllerLog(targetCreated, {
    level: 'info',
    pos: 'migration.go:1120',
    msg: `Created migration target pod ${vm.namespace}/${target.metadata.name} with uuid ${target.metadata.uid} for migration ${vmimName} with uuid ${vmimUid}`,
    ...object,
  });
  // Evacuation and workload-update migrations back off after failures: 20s, doubling (handleMigrationBackoff).
  const backoff = `${random.pick([19, 39, 79, 159, 319])}.${String(random.int(0, 999)).padStart(3, '0')}s`;
  builder.controllerLog(secondsAfter(slot.failedAt, 1), {
    level: 'error',
    pos: 'migration.go:1402',
    msg: `vmi in migration backoff, re-enqueueing after ${backoff}`,
    ...object,
  });
  builder.handlerLog(slot.node.name, secondsBefore(slot.failedAt, 2), {
    level: 'error',
    pos: 'vm.go:2238',
    msg: 'Synchronizing the VirtualMachineInstance failed.',
    controller: 'migration-target',
    ...object,
    reason: `unable to create virt-launcher client connection: Found multiple sockets for vmi ${vm.namespace}/${vm.name}`,
  });
  return {
    migrationUid: vmimUid,
    sourceNode: source.sourceNode.name,
    targetNode: slot.node.name,
    sourcePod: source.sourcePod.metadata.name,
    targetPod: target.metadata.name,
    completed: false,
    failed: true,
    failureReason: MIGRATION_FAILURE_REASON,
    mode: 'PreCopy',
    startTimestamp: secondsBefore(slot.failedAt, 30)
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    endTimestamp: slot.failedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** Migrations still running: their targets are Pending or Running, so they must not count. */
function layDownInFlight(builder: ClusterBuilder): void {
  const { random, now } = builder;
  const phases = ['Scheduling', 'Scheduled', 'PreparingTarget', 'Running', 'Pending'] as const;
  for (const [index, slot] of builder.slots(IN_FLIGHT_MIGRATIONS).entries()) {
    const source = layDownSource(builder, slot.namespace, slot.node);
    const phase = phases[index % phases.length] ?? 'Scheduling';
    const createdAt = secondsBefore(now, random.int(5, 240));
    const vmimName = `${MIGRATION_NAME_PREFIX[source.trigger]}${random.suffix()}`;
    const vmimUid = random.uuid();
    const order = ['Pending', 'Scheduling', 'Scheduled', 'PreparingTarget', 'Running'];
    const transitions = order
      .slice(0, order.indexOf(phase) + 1)
      .map((name, step) => [name, secondsAfter(createdAt, step * 3)] as [string, Date]);
    const target =
      phase === 'Pending'
        ? undefined
        : makeLauncherPod({
            vm: source.vm,
            node: slot.node,
            name: launcherPodName(random, source.vm.name),
            uid: random.uuid(),
            createdAt: secondsAfter(createdAt, 1),
            image: builder.launcherImage,
            migration: { uid: vmimUid, name: vmimName },
            outcome: phase === 'Running' ? { phase: 'Running' } : { phase: 'Pending', notInitialized: true },
            random,
          });
    if (target !== undefined) builder.add(target);
    builder.add(
      makeMigration({
        vm: source.vm,
        name: vmimName,
        uid: vmimUid,
        trigger: source.trigger,
        createdAt,
        transitions,
        sourceNode: source.sourceNode.name,
        sourcePod: source.sourcePod.metadata.name,
        ...(target === undefined ? {} : { targetNode: slot.node.name, targetPod: target.metadata.name }),
      }),
      vmiFor(builder, source, {
        migrationUid: vmimUid,
        sourceNode: source.sourceNode.name,
        sourcePod: source.sourcePod.metadata.name,
        ...(target === undefined ? {} : { targetNode: slot.node.name, targetPod: target.metadata.name }),
        completed: false,
        failed: false,
        mode: 'PreCopy',
      }),
    );
  }
}

/**
 * A loop goes on: the evacuation controller and the workload updater re-create a looping VMI's migration after
 * its back-off, and the new one waits in Pending (queued behind the cluster's parallel limit). Drawn from a stream
 * of its own, so the rest of the cluster is laid down as before.
 */
function layDownRetries(builder: ClusterBuilder, looping: ReadonlyArray<{ source: SourceVm }>): void {
  const random = createRandom(deriveSeed(builder.options.seed, 'migration-retry'));
  for (const { source } of looping) {
    const createdAt = secondsBefore(builder.now, random.int(5, 60));
    builder.add(
      makeMigration({
        vm: source.vm,
        name: `${MIGRATION_NAME_PREFIX[source.trigger]}${random.suffix()}`,
        uid: random.uuid(),
        trigger: source.trigger,
        createdAt,
        transitions: [['Pending', createdAt]],
        sourceNode: source.sourceNode.name,
        sourcePod: source.sourcePod.metadata.name,
      }),
    );
  }
}

export const migrationStormFailures: FailureKind = {
  category: 'migration',
  prepare(builder) {
    for (const node of drainedNodes(builder)) builder.updateNodeHealth(node.name, { unschedulable: true });
    layDownInFlight(builder);
  },
  layDown(builder, count) {
    const { random } = builder;
    // Failed targets are grouped per namespace into VMIs of 1..5 attempts, keeping each slot's namespace and node.
    const open = new Map<
      string,
      { source: SourceVm; capacity: number; attempts: Array<Record<string, unknown>> }
    >();
    const finished: Array<{ source: SourceVm; attempts: Array<Record<string, unknown>> }> = [];
    const slots = builder.slots(count).sort((a, b) => a.failedAt.getTime() - b.failedAt.getTime());
    for (const slot of slots) {
      let group = open.get(slot.namespace);
      if (group === undefined || group.attempts.length >= group.capacity) {
        if (group !== undefined) finished.push(group);
        group = {
          source: layDownSource(builder, slot.namespace, slot.node),
          capacity: random.weighted([
            [1, 1],
            [2, 1],
            [3, 2],
            [4, 3],
            [MAX_FAILED_TARGETS_PER_VMI, 4],
          ] as const),
          attempts: [],
        };
        open.set(slot.namespace, group);
      }
      group.attempts.push(layDownFailedAttempt(builder, group.source, slot));
    }
    finished.push(...open.values());
    for (const { source, attempts } of finished) {
      const last = attempts[attempts.length - 1] ?? {};
      builder.add(vmiFor(builder, source, last));
      if (source.trigger === 'workload-update') builder.outdatedWorkloads += 1;
    }
    layDownRetries(
      builder,
      finished.filter((group) => group.attempts.length >= LOOPING_ATTEMPTS).slice(0, RETRYING_VMIS),
    );
  },
};

export const migrationStormScenario = defineScenario({
  name: 'migration-storm',
  summary: 'Evacuation and workload-update migrations loop: target launchers fail, vmims pile up per VMI',
  expectedTopCause: 'migration',
  causes: [{ kind: migrationStormFailures, share: 1 }],
});
