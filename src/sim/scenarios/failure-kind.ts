// One way launchers fail (a cause), and the VM/VMI/pod triple every failed launcher comes with.

import type { CauseCategory } from '../../diagnosis/types.js';
import type { Pod } from '../../kube/types.js';
import {
  type LauncherOutcome,
  launcherPodName,
  makeLauncherPod,
  makeVirtualMachine,
  makeVirtualMachineInstance,
  secondsBefore,
  type VmIdentity,
  type VmIdentityOptions,
} from '../objects.js';
import type { ClusterBuilder, FailureSlot } from './cluster-builder.js';

/** A cause of Failed launchers, as a scenario lays it down. */
export interface FailureKind {
  category: CauseCategory;
  /** Cluster-wide signs of the cause (node conditions, the KubeVirt CR, pending pods): once per initial build. */
  prepare(builder: ClusterBuilder): void;
  /** Exactly `count` Failed virt-launcher pods carrying the cause's signature, with what they imply. */
  layDown(builder: ClusterBuilder, count: number): void;
}

export interface FailedVmInput {
  slot: FailureSlot;
  disk: VmIdentityOptions['disk'];
  image?: string;
  storageClass?: string;
  /** How long the pod existed before it failed. */
  livedSeconds: number;
  /** The pod's outcome, or a function of the VM and the pod's uid when the runtime's messages name them. */
  outcome: LauncherOutcome | ((vm: VmIdentity, podUid: string) => LauncherOutcome);
  /** VirtualMachine status.printableStatus while the VM controller backs off (vm.go start failure backoff). */
  printableStatus: string;
  vmiConditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
}

/**
 * A VM whose VMI failed with its launcher: VM (runStrategy Always, in start-failure backoff), VMI in phase Failed and
 * the Failed launcher pod. The VMI keeps the pod alive: the pod is garbage-collected only with its owner.
 */
export function layDownFailedVm(builder: ClusterBuilder, input: FailedVmInput): { vm: VmIdentity; pod: Pod } {
  const { slot } = input;
  const { random } = builder;
  const vm = builder.newVm(slot.namespace, {
    disk: input.disk,
    ...(input.image === undefined ? {} : { image: input.image }),
    ...(input.storageClass === undefined ? {} : { storageClass: input.storageClass }),
  });
  const createdAt = secondsBefore(slot.failedAt, input.livedSeconds);
  const name = launcherPodName(random, vm.name);
  const uid = random.uuid();
  const outcome = typeof input.outcome === 'function' ? input.outcome(vm, uid) : input.outcome;
  const pod = makeLauncherPod({
    vm,
    node: slot.node,
    name,
    uid,
    createdAt,
    image: builder.launcherImage,
    outcome: { ...outcome, finishedAt: slot.failedAt },
    random,
  });
  builder.add(
    makeVirtualMachine(vm, {
      createdAt: secondsBefore(createdAt, random.int(3600, 90 * 86400)),
      printableStatus: input.printableStatus,
      ready: false,
    }),
    makeVirtualMachineInstance(vm, {
      createdAt,
      phase: 'Failed',
      node: slot.node.name,
      activePods: { [pod.metadata.uid ?? '']: slot.node.name },
      launcherImage: builder.launcherImage,
      conditions: input.vmiConditions ?? [
        {
          type: 'Ready',
          status: 'False',
          reason: 'GuestNotRunning',
          message: 'Guest VM is not reported as running',
        },
      ],
    }),
    pod,
  );
  builder.routineEvent({
    involved: {
      kind: 'VirtualMachineInstance',
      apiVersion: 'kubevirt.io/v1',
      namespace: vm.namespace,
      name: vm.name,
      uid: vm.vmiUid,
    },
    reason: 'SuccessfulCreate',
    message: `Created virtual machine pod ${pod.metadata.name}`,
    type: 'Normal',
    count: 1,
    first: createdAt,
    last: createdAt,
    component: 'virtualmachine-controller',
  });
  const backoff = random.pick([10, 20, 40, 80, 160, 300]);
  builder.controllerLog(slot.failedAt, {
    level: 'info',
    pos: 'vm.go:1067',
    msg: `Delaying start of VM ${vm.namespace}/${vm.name} due to start failure backoff. Waiting ${backoff} more seconds before starting.`,
    kind: '',
    name: vm.name,
    namespace: vm.namespace,
    uid: vm.vmUid,
  });
  return { vm, pod };
}
