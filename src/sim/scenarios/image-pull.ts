// image-pull: a golden containerDisk image whose tag was deleted from the internal registry (and whose pull secret
// expired for some pulls, and whose registry times out for others). The containerDisk's init container
// `volumecontainerdisk-init` is the first container to pull the VM image (template.go), so that is where the kubelet
// fails. Messages: the kubelet's "Failed to pull image %q: %v", "Error: ErrImagePull", "Back-off pulling image %q"
// (pkg/kubelet/images/image_manager.go) around CRI-O's "reading manifest <tag> in <repo>: manifest unknown" errors
// (seen e.g. in wazuh/wazuh-kubernetes#237, stolostron/deploy#2).
// Simulation licence: a failing pull alone keeps a pod Pending. These launchers are shown Failed with the init
// container's last waiting state, as the kubelet reports a pod terminated while its pull still fails; a few more are
// still Pending in Init:ImagePullBackOff, as on a real cluster.

import {
  launcherPodName,
  makeLauncherPod,
  makeVirtualMachine,
  makeVirtualMachineInstance,
  podReference,
  secondsAfter,
  secondsBefore,
} from '../objects.js';
import type { ClusterBuilder } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

export const BROKEN_IMAGE_REGISTRY = 'registry.corp.example.com:5000';
export const BROKEN_IMAGE_REPOSITORY = `${BROKEN_IMAGE_REGISTRY}/vm-images/rhel9-golden`;
export const BROKEN_IMAGE_TAG = '9.6-20261120';
export const BROKEN_IMAGE = `${BROKEN_IMAGE_REPOSITORY}:${BROKEN_IMAGE_TAG}`;

const PULL_ERRORS: ReadonlyArray<readonly [string, number]> = [
  [
    `rpc error: code = Unknown desc = reading manifest ${BROKEN_IMAGE_TAG} in ${BROKEN_IMAGE_REPOSITORY}: manifest unknown`,
    6,
  ],
  [
    `rpc error: code = Unknown desc = reading manifest ${BROKEN_IMAGE_TAG} in ${BROKEN_IMAGE_REPOSITORY}: unauthorized: authentication required`,
    2.5,
  ],
  [
    `rpc error: code = Unknown desc = pinging container registry ${BROKEN_IMAGE_REGISTRY}: Get "https://${BROKEN_IMAGE_REGISTRY}/v2/": dial tcp 10.40.12.7:5000: i/o timeout`,
    1.5,
  ],
];

const INIT_CONTAINER = 'volumecontainerdisk-init';
const BACK_OFF_MESSAGE = `Back-off pulling image "${BROKEN_IMAGE}"`;
/** Per pull error: the event message and the container's waiting state, built once and shared by every pod. */
const PULL_FAILURES = PULL_ERRORS.map(([error, weight]) => {
  const failure = {
    eventMessage: `Failed to pull image "${BROKEN_IMAGE}": ${error}`,
    errImagePull: { waiting: { reason: 'ErrImagePull', message: error } },
  };
  return [failure, weight] as const;
});
const BACK_OFF_STATE = { waiting: { reason: 'ImagePullBackOff', message: BACK_OFF_MESSAGE } };
const FIELD_PATH = `spec.initContainers{${INIT_CONTAINER}}`;

export const imagePullFailures: FailureKind = {
  category: 'image',
  prepare(builder) {
    layDownPendingPulls(builder);
  },
  layDown(builder, count) {
    const { random } = builder;
    for (const slot of builder.slots(count)) {
      const failure = random.weighted(PULL_FAILURES);
      const state = random.chance(0.6) ? BACK_OFF_STATE : failure.errImagePull;
      const waiting = state.waiting;
      const livedSeconds = random.int(120, 900);
      const { pod } = layDownFailedVm(builder, {
        slot,
        disk: 'containerDisk',
        image: BROKEN_IMAGE,
        livedSeconds,
        outcome: {
          phase: 'Failed',
          notInitialized: true,
          initContainerStates: { [INIT_CONTAINER]: state },
        },
        printableStatus: waiting.reason,
        vmiConditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'GuestNotRunning',
            message: 'Guest VM is not reported as running',
          },
          { type: 'Synchronized', status: 'False', reason: waiting.reason, message: waiting.message },
        ],
      });
      const firstPull = secondsAfter(secondsBefore(slot.failedAt, livedSeconds), 4);
      const pulls = random.int(2, 6);
      const involved = podReference(pod, FIELD_PATH);
      const host = slot.node.name;
      builder.event({
        involved,
        reason: 'Failed',
        message: failure.eventMessage,
        type: 'Warning',
        count: pulls,
        first: firstPull,
        last: slot.failedAt,
        component: 'kubelet',
        host,
      });
      builder.event({
        involved,
        reason: 'Failed',
        message: 'Error: ErrImagePull',
        type: 'Warning',
        count: pulls,
        first: firstPull,
        last: slot.failedAt,
        component: 'kubelet',
        host,
      });
      builder.event({
        involved,
        reason: 'BackOff',
        message: BACK_OFF_MESSAGE,
        type: 'Normal',
        count: random.int(pulls, pulls * 4),
        first: secondsAfter(firstPull, 15),
        last: slot.failedAt,
        component: 'kubelet',
        host,
      });
    }
  },
};

/** Launchers still Pending in Init:ImagePullBackOff: same cause, not (yet) counted by the alert. */
function layDownPendingPulls(builder: ClusterBuilder): void {
  const { random, now } = builder;
  const count = Math.min(50, Math.max(2, Math.floor(builder.nodes.length / 2)));
  for (const slot of builder.slots(count)) {
    const vm = builder.newVm(slot.namespace, { disk: 'containerDisk', image: BROKEN_IMAGE });
    const createdAt = secondsBefore(now, random.int(60, 600));
    const pod = makeLauncherPod({
      vm,
      node: slot.node,
      name: launcherPodName(random, vm.name),
      uid: random.uuid(),
      createdAt,
      image: builder.launcherImage,
      outcome: {
        phase: 'Pending',
        notInitialized: true,
        initContainerStates: {
          [INIT_CONTAINER]: {
            waiting: { reason: 'ImagePullBackOff', message: BACK_OFF_MESSAGE },
          },
        },
      },
      random,
    });
    builder.add(
      makeVirtualMachine(vm, { createdAt, printableStatus: 'ImagePullBackOff', ready: false }),
      makeVirtualMachineInstance(vm, {
        createdAt,
        phase: 'Scheduled',
        node: slot.node.name,
        activePods: { [pod.metadata.uid ?? '']: slot.node.name },
        launcherImage: builder.launcherImage,
        conditions: [
          {
            type: 'Synchronized',
            status: 'False',
            reason: 'ImagePullBackOff',
            message: BACK_OFF_MESSAGE,
          },
        ],
      }),
      pod,
    );
    builder.event({
      involved: podReference(pod, FIELD_PATH),
      reason: 'BackOff',
      message: BACK_OFF_MESSAGE,
      type: 'Normal',
      count: random.int(2, 10),
      first: secondsAfter(createdAt, 20),
      last: now,
      component: 'kubelet',
      host: slot.node.name,
    });
  }
}

export const imagePullScenario = defineScenario({
  name: 'image-pull',
  summary: `containerDisk image ${BROKEN_IMAGE} cannot be pulled (tag deleted, expired pull secret, registry timeouts)`,
  expectedTopCause: 'image',
  causes: [{ kind: imagePullFailures, share: 1 }],
});
