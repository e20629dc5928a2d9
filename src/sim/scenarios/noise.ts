// What every cluster holds besides the incident: healthy VMs, finished migrations, failed pods that are not launchers,
// a user's pod merely named like one, hotplug attachment pods, routine events. None of it may count as a Failed
// launcher (DESIGN §4: phase Failed AND label kubevirt.io=virt-launcher AND name virt-launcher-*).

import type { Event, Pod } from '../../kube/types.js';
import {
  launcherPodName,
  makeEvent,
  makeLauncherPod,
  makeMigration,
  makePlainPod,
  makeVirtualMachine,
  makeVirtualMachineInstance,
  podReference,
  secondsAfter,
  secondsBefore,
  terminated,
  type VmIdentity,
} from '../objects.js';
import { createRandom } from '../random.js';
import type { ClusterBuilder, FailureSlot } from './cluster-builder.js';

/** A healthy VM: VM, VMI Running and its Running launcher. */
export function layDownRunningVm(builder: ClusterBuilder, slot: FailureSlot): { vm: VmIdentity; pod: Pod } {
  const { random } = builder;
  const vm = builder.newVm(slot.namespace, {
    disk: random.chance(0.6) ? 'containerDisk' : 'persistentVolumeClaim',
  });
  const createdAt = slot.failedAt;
  const pod = makeLauncherPod({
    vm,
    node: slot.node,
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
    makeVirtualMachineInstance(vm, {
      createdAt,
      phase: 'Running',
      node: slot.node.name,
      activePods: { [pod.metadata.uid ?? '']: slot.node.name },
      launcherImage: builder.launcherImage,
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'LiveMigratable', status: 'True' },
        { type: 'AgentConnected', status: 'True' },
      ],
    }),
    pod,
  );
  return { vm, pod };
}

/** How much noise a cluster of this size carries: enough to trip a sloppy filter, bounded for big runs. */
export function runningLauncherCount(builder: ClusterBuilder): number {
  return Math.min(2000, Math.max(10, 2 * builder.nodes.length, builder.namespaces.length));
}

export function layDownNoise(builder: ClusterBuilder): void {
  const { random, now } = builder;
  const running = builder.slots(runningLauncherCount(builder));
  const runningPods: Pod[] = [];
  for (const [index, slot] of running.entries()) {
    const started = secondsBefore(now, random.int(3600, 40 * 86400));
    const { pod } = layDownRunningVm(builder, { ...slot, failedAt: started });
    runningPods.push(pod);
    if (index < 20) {
      builder.event({
        involved: podReference(pod),
        reason: 'Scheduled',
        message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${slot.node.name}`,
        type: 'Normal',
        count: 1,
        first: started,
        last: started,
        component: 'default-scheduler',
      });
    }
  }
  layDownFinishedMigrations(builder, Math.max(2, Math.min(50, builder.namespaces.length)));
  layDownFailedJobPods(builder, Math.max(2, Math.min(50, builder.namespaces.length)));
  layDownLookalikes(builder);
  layDownHotplugPods(builder, runningPods.slice(0, 3));
}

/**
 * VMs live-migrated earlier: the source launcher Succeeded (it stays while the VMI lives), the target runs, the vmim
 * Succeeded. Succeeded launchers are the commonest look-alike of the alert's Failed ones.
 */
function layDownFinishedMigrations(builder: ClusterBuilder, count: number): void {
  const { random, now } = builder;
  for (const slot of builder.slots(count)) {
    const vm = builder.newVm(slot.namespace, { disk: 'containerDisk' });
    const sourceNode = slot.node;
    const targetNode =
      builder.nodes[(builder.nodes.indexOf(sourceNode) + 1) % builder.nodes.length] ?? sourceNode;
    const sourceCreated = secondsBefore(now, random.int(5 * 86400, 30 * 86400));
    const migratedAt = secondsBefore(now, random.int(3 * 3600, 4 * 86400));
    const vmimUid = random.uuid();
    const vmimName = `kubevirt-migrate-vm-${random.suffix()}`;
    const source = makeLauncherPod({
      vm,
      node: sourceNode,
      name: launcherPodName(random, vm.name),
      uid: random.uuid(),
      createdAt: sourceCreated,
      image: builder.launcherImage,
      outcome: { phase: 'Succeeded', finishedAt: secondsAfter(migratedAt, 31) },
      random,
    });
    const target = makeLauncherPod({
      vm,
      node: targetNode,
      name: launcherPodName(random, vm.name),
      uid: random.uuid(),
      createdAt: migratedAt,
      image: builder.launcherImage,
      migration: { uid: vmimUid, name: vmimName },
      outcome: { phase: 'Running' },
      random,
    });
    builder.add(
      makeVirtualMachine(vm, {
        createdAt: secondsBefore(sourceCreated, 60),
        printableStatus: 'Running',
        ready: true,
      }),
      makeVirtualMachineInstance(vm, {
        createdAt: sourceCreated,
        phase: 'Running',
        node: targetNode.name,
        activePods: { [target.metadata.uid ?? '']: targetNode.name },
        launcherImage: builder.launcherImage,
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'LiveMigratable', status: 'True' },
        ],
        migrationState: {
          migrationUid: vmimUid,
          sourceNode: sourceNode.name,
          targetNode: targetNode.name,
          sourcePod: source.metadata.name,
          targetPod: target.metadata.name,
          completed: true,
          failed: false,
          mode: 'PreCopy',
        },
      }),
      source,
      target,
      makeMigration({
        vm,
        name: vmimName,
        uid: vmimUid,
        trigger: 'user',
        createdAt: migratedAt,
        transitions: [
          ['Pending', migratedAt],
          ['Scheduling', secondsAfter(migratedAt, 1)],
          ['Scheduled', secondsAfter(migratedAt, 9)],
          ['PreparingTarget', secondsAfter(migratedAt, 10)],
          ['TargetReady', secondsAfter(migratedAt, 11)],
          ['Running', secondsAfter(migratedAt, 12)],
          ['Succeeded', secondsAfter(migratedAt, 41)],
        ],
        sourceNode: sourceNode.name,
        sourcePod: source.metadata.name,
        targetNode: targetNode.name,
        targetPod: target.metadata.name,
      }),
    );
  }
}

/** Failed pods of a nightly backup CronJob: phase Failed, not launchers. */
function layDownFailedJobPods(builder: ClusterBuilder, count: number): void {
  const { random, now } = builder;
  for (const slot of builder.slots(count)) {
    const jobName = `vm-backup-${29_000_000 + random.int(0, 99_999)}`;
    const jobUid = random.uuid();
    const createdAt = secondsBefore(now, random.int(600, 20 * 3600));
    const pod = makePlainPod({
      namespace: slot.namespace,
      name: `${jobName}-${random.suffix()}`,
      generateName: `${jobName}-`,
      uid: random.uuid(),
      labels: {
        'batch.kubernetes.io/controller-uid': jobUid,
        'batch.kubernetes.io/job-name': jobName,
        'controller-uid': jobUid,
        'job-name': jobName,
      },
      node: slot.node,
      createdAt,
      image: 'registry.example.com/platform/velero-cli:1.16.2',
      container: 'backup',
      outcome: { phase: 'Failed', finishedAt: secondsAfter(createdAt, random.int(20, 300)) },
      ownerReference: { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: jobUid },
      random,
    });
    builder.add(pod);
    builder.event({
      involved: {
        kind: 'Job',
        apiVersion: 'batch/v1',
        namespace: slot.namespace,
        name: jobName,
        uid: jobUid,
      },
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
      type: 'Warning',
      count: 1,
      first: secondsAfter(createdAt, 300),
      last: secondsAfter(createdAt, 300),
      component: 'job-controller',
    });
  }
}

/**
 * Pods that fool one half of the runbook: a user's exporter named virt-launcher-* without the label (the PromQL
 * `pod=~"virt-launcher-.*"` counts it, the label selector does not), in phase Failed.
 */
function layDownLookalikes(builder: ClusterBuilder): void {
  const { random, now } = builder;
  const hash = random.suffix(10);
  for (const namespace of ['default', builder.namespaces[0] ?? 'default']) {
    const createdAt = secondsBefore(now, random.int(3600, 86400));
    const node = random.pick(builder.nodes);
    const ownerUid = random.uuid();
    builder.add(
      makePlainPod({
        namespace,
        name: `virt-launcher-exporter-${hash}-${random.suffix()}`,
        generateName: `virt-launcher-exporter-${hash}-`,
        uid: random.uuid(),
        labels: { app: 'virt-launcher-exporter', 'pod-template-hash': hash },
        node,
        createdAt,
        image: 'ghcr.io/example/virt-launcher-exporter:0.4.1',
        container: 'exporter',
        outcome: {
          phase: 'Failed',
          containerStates: {
            exporter: terminated(2, 'Error', secondsAfter(createdAt, 4), secondsAfter(createdAt, 9)),
          },
          finishedAt: secondsAfter(createdAt, 9),
        },
        ownerReference: {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `virt-launcher-exporter-${hash}`,
          uid: ownerUid,
        },
        random,
      }),
    );
  }
}

/** Hotplug attachment pods (GenerateName hp-volume-, label kubevirt.io=hotplug-disk, owned by the launcher). */
function layDownHotplugPods(builder: ClusterBuilder, launchers: Pod[]): void {
  const { random, now } = builder;
  for (const [index, launcher] of launchers.entries()) {
    const node =
      builder.nodes.find((candidate) => candidate.name === launcher.spec.nodeName) ?? builder.nodes[0];
    if (node === undefined) continue;
    const createdAt = secondsBefore(now, random.int(600, 7200));
    const failed = index === launchers.length - 1;
    builder.add(
      makePlainPod({
        namespace: launcher.metadata.namespace ?? 'default',
        name: `hp-volume-${random.suffix()}`,
        generateName: 'hp-volume-',
        uid: random.uuid(),
        labels: { 'kubevirt.io': 'hotplug-disk' },
        node,
        createdAt,
        image: builder.launcherImage,
        container: 'hotplug-disk',
        outcome: failed
          ? {
              phase: 'Failed',
              containerStates: {
                'hotplug-disk': terminated(
                  1,
                  'Error',
                  secondsAfter(createdAt, 3),
                  secondsAfter(createdAt, 40),
                ),
              },
              finishedAt: secondsAfter(createdAt, 40),
            }
          : { phase: 'Running' },
        ownerReference: {
          apiVersion: 'v1',
          kind: 'Pod',
          name: launcher.metadata.name,
          uid: launcher.metadata.uid ?? '',
        },
        random,
      }),
    );
  }
}

export interface ProbeNoiseOptions {
  namespace: string;
  /** Warning events laid down, one per app pod (the kubelet's Unhealthy, as a flapping readiness probe writes it). */
  events: number;
  now: Date;
  seed?: number;
}

/**
 * An application namespace's routine noise: readiness-probe failures on its own pods, none of them launchers. What a
 * busy cluster carries in namespaces that have nothing to do with the incident, and what must not hide its cause.
 */
export function readinessProbeNoise(options: ProbeNoiseOptions): Event[] {
  const random = createRandom(options.seed ?? 1);
  const hash = random.suffix(10);
  const events: Event[] = [];
  for (let index = 0; index < options.events; index += 1) {
    const last = secondsBefore(options.now, random.int(5, 3600));
    events.push(
      makeEvent(
        {
          involved: {
            kind: 'Pod',
            apiVersion: 'v1',
            namespace: options.namespace,
            name: `web-frontend-${hash}-${random.suffix()}`,
            uid: random.uuid(),
            fieldPath: 'spec.containers{web}',
          },
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
          type: 'Warning',
          count: random.int(1, 400),
          first: secondsBefore(last, random.int(60, 86400)),
          last,
          component: 'kubelet',
        },
        random,
      ),
    );
  }
  return events;
}
