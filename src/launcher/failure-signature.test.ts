import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerState, Pod } from '../kube/types.js';
import { type FailureSignature, failureSignature } from './failure-signature.js';

// Real failure signatures of Failed virt-launcher pods, with the issue or source each string comes from.

const STARTED = '2026-11-23T21:00:00Z';

function failedPod(options: {
  reason?: string;
  message?: string;
  containers?: Record<string, ContainerState>;
  init?: Record<string, ContainerState>;
  conditions?: NonNullable<Pod['status']>['conditions'];
}): Pod {
  const containers = options.containers ?? {};
  const init = options.init ?? {};
  return {
    metadata: {
      name: 'virt-launcher-fedora-01-abcde',
      namespace: 'web-vms',
      labels: { 'kubevirt.io': 'virt-launcher' },
    },
    spec: {
      initContainers: [
        { name: 'container-disk-binary', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' },
        { name: 'volumecontainerdisk-init', image: 'quay.io/containerdisks/fedora:41' },
      ],
      containers: [
        { name: 'compute', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' },
        { name: 'volumecontainerdisk', image: 'quay.io/containerdisks/fedora:41' },
        { name: 'guest-console-log', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' },
      ],
    },
    status: {
      phase: 'Failed',
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.message === undefined ? {} : { message: options.message }),
      ...(options.conditions === undefined ? {} : { conditions: options.conditions }),
      initContainerStatuses: Object.entries(init).map(([name, state]) => ({ name, state })),
      containerStatuses: Object.entries(containers).map(([name, state]) => ({ name, state })),
    },
  };
}

function terminated(
  exitCode: number,
  reason: string,
  finishedAt = '2026-11-23T21:05:00Z',
  message?: string,
): ContainerState {
  return {
    terminated: {
      exitCode,
      reason,
      startedAt: STARTED,
      finishedAt,
      ...(message === undefined ? {} : { message }),
    },
  };
}

/** Expected fields; `undefined` asserts that the field is absent. */
type Expected = { [K in keyof FailureSignature]?: FailureSignature[K] | undefined };

const table: Array<{ name: string; pod: Pod; expected: Expected }> = [
  {
    // kubevirt issue #1663; kubelet eviction/helpers.go nodeLowMessageFmt
    name: 'kubelet eviction under ephemeral-storage pressure',
    pod: failedPod({
      reason: 'Evicted',
      message:
        'The node was low on resource: ephemeral-storage. Threshold quantity: 4281290Ki, available: 3945820Ki. Container compute was using 1200Ki, request is 0, has larger consumption of ephemeral-storage. ',
      containers: { compute: terminated(137, 'ContainerStatusUnknown') },
    }),
    expected: { kind: 'evicted', reason: 'Evicted', resource: 'ephemeral-storage' },
  },
  {
    name: 'node power loss: every container restored by containerd as exit 255 "Unknown" (cri helpers.go)',
    pod: failedPod({
      containers: {
        compute: terminated(255, 'Unknown'),
        volumecontainerdisk: terminated(255, 'Unknown'),
        'guest-console-log': terminated(255, 'Unknown'),
      },
    }),
    expected: { kind: 'container-error', reason: 'Unknown', exitCode: 255, everyContainerFailed: true },
  },
  {
    name: 'node reboot: every container Error 137 at the same moment',
    pod: failedPod({
      containers: {
        compute: terminated(137, 'Error'),
        'guest-console-log': terminated(137, 'Error'),
      },
    }),
    expected: { kind: 'container-error', reason: 'Error', exitCode: 137, everyContainerFailed: true },
  },
  {
    name: 'a compute crash is not every container failing: the others exit 0 after it',
    pod: failedPod({
      containers: {
        compute: terminated(1, 'Error'),
        volumecontainerdisk: terminated(0, 'Completed'),
        'guest-console-log': terminated(0, 'Completed'),
      },
    }),
    expected: { kind: 'container-error', exitCode: 1, everyContainerFailed: undefined },
  },
  {
    name: 'containerd StartError in container-disk-binary (exit 128, kubevirt#17460 shape)',
    pod: failedPod({
      init: {
        'container-disk-binary': terminated(
          128,
          'StartError',
          '2026-11-23T21:05:00Z',
          'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "/usr/bin/cp": stat /usr/bin/cp: no such file or directory: unknown',
        ),
      },
      containers: { compute: { waiting: { reason: 'PodInitializing' } } },
    }),
    expected: {
      kind: 'container-start',
      reason: 'StartError',
      container: 'container-disk-binary',
      initContainer: true,
      exitCode: 128,
      image: 'quay.io/kubevirt/virt-launcher:v1.6.2',
    },
  },
  {
    name: 'kubelet eviction under memory pressure',
    pod: failedPod({ reason: 'Evicted', message: 'The node was low on resource: memory. ' }),
    expected: { kind: 'evicted', resource: 'memory' },
  },
  {
    // kubevirt issues #11662, #11843: after a kubelet restart
    name: 'NodeAffinity rejection after a kubelet restart',
    pod: failedPod({ reason: 'NodeAffinity', message: 'Pod was rejected: Predicate NodeAffinity failed' }),
    expected: {
      kind: 'node-affinity',
      reason: 'NodeAffinity',
      message: 'Pod was rejected: Predicate NodeAffinity failed',
    },
  },
  {
    // kubelet nodeshutdown_manager_linux.go nodeShutdownReason / nodeShutdownMessage
    name: 'graceful node shutdown',
    pod: failedPod({
      reason: 'Terminated',
      message: 'Pod was terminated in response to imminent node shutdown.',
    }),
    expected: { kind: 'node-shutdown', reason: 'Terminated' },
  },
  {
    name: 'graceful node shutdown, older kubelets',
    pod: failedPod({ reason: 'Shutdown', message: 'Shutdown manager detected shutdown event' }),
    expected: { kind: 'node-shutdown', reason: 'Shutdown' },
  },
  {
    name: 'NodeLost',
    pod: failedPod({
      reason: 'NodeLost',
      message: 'Node worker-7 which was running pod virt-launcher-fedora-01-abcde is unresponsive',
    }),
    expected: { kind: 'node-lost' },
  },
  {
    // KubeVirt's device plugin gone after a virt-handler restart (kubelet devicemanager)
    name: 'UnexpectedAdmissionError for the kvm device',
    pod: failedPod({
      reason: 'UnexpectedAdmissionError',
      message:
        "Allocate failed due to can't allocate unhealthy devices devices.kubevirt.io/kvm, which is unexpected",
    }),
    expected: { kind: 'admission-rejected', resource: 'devices.kubevirt.io/kvm' },
  },
  {
    // kubelet lifecycle/predicate.go: reason "OutOf" + resource name
    name: 'OutOfmemory admission rejection',
    pod: failedPod({
      reason: 'OutOfmemory',
      message:
        "Pod was rejected: Node didn't have enough resource: memory, requested: 8589934592, used: 60129542144, capacity: 64424509440",
    }),
    expected: { kind: 'admission-rejected', resource: 'memory' },
  },
  {
    name: 'preempted to admit a critical pod',
    pod: failedPod({ reason: 'Preempting', message: 'Preempted in order to admit critical pod' }),
    expected: { kind: 'preempted' },
  },
  {
    name: 'preempted by the scheduler (DisruptionTarget condition, no pod reason)',
    pod: failedPod({
      conditions: [
        {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'PreemptionByScheduler',
          message: 'default-scheduler: preempting to accommodate a higher priority pod',
        },
      ],
      containers: { compute: terminated(137, 'Error') },
    }),
    expected: { kind: 'preempted' },
  },
  {
    name: 'compute OOM-killed',
    pod: failedPod({
      containers: {
        compute: terminated(137, 'OOMKilled'),
        'guest-console-log': terminated(2, 'Error', '2026-11-23T21:05:03Z'),
      },
    }),
    expected: {
      kind: 'oom-killed',
      reason: 'OOMKilled',
      container: 'compute',
      exitCode: 137,
      initContainer: false,
    },
  },
  {
    // kubevirt issues #10695, #13466: the source pod's guest-console-log exits 1 after a migration
    name: 'guest-console-log exit 1 after migration',
    pod: failedPod({
      containers: {
        compute: {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            startedAt: STARTED,
            finishedAt: '2026-11-23T21:06:00Z',
          },
        },
        'guest-console-log': terminated(1, 'Error', '2026-11-23T21:05:00Z'),
      },
    }),
    expected: { kind: 'container-error', reason: 'Error', container: 'guest-console-log', exitCode: 1 },
  },
  {
    name: 'the first container to fail ended the pod, not those killed after it',
    pod: failedPod({
      containers: {
        'guest-console-log': terminated(143, 'Error', '2026-11-23T21:05:09Z'),
        compute: terminated(2, 'Error', '2026-11-23T21:05:00Z'),
      },
    }),
    expected: { container: 'compute', exitCode: 2 },
  },
  {
    name: 'a failed init container ends the pod before any main container',
    pod: failedPod({
      init: {
        'volumecontainerdisk-init': terminated(
          1,
          'StartError',
          '2026-11-23T21:01:00Z',
          'exec: "/usr/bin/container-disk": stat /usr/bin/container-disk: no such file or directory',
        ),
      },
      containers: { compute: { waiting: { reason: 'PodInitializing' } } },
    }),
    expected: {
      kind: 'container-start',
      container: 'volumecontainerdisk-init',
      initContainer: true,
      image: 'quay.io/containerdisks/fedora:41',
    },
  },
  {
    name: 'a containerDisk image that cannot be pulled',
    pod: failedPod({
      init: {
        'volumecontainerdisk-init': {
          waiting: {
            reason: 'ErrImagePull',
            message:
              'rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized',
          },
        },
      },
    }),
    expected: {
      kind: 'image',
      reason: 'ErrImagePull',
      image: 'quay.io/containerdisks/fedora:41',
      initContainer: true,
    },
  },
  {
    name: 'only ContainerStatusUnknown: the kubelet never saw the end, 137 is not an OOM kill',
    pod: failedPod({
      containers: {
        compute: {
          terminated: {
            exitCode: 137,
            reason: 'ContainerStatusUnknown',
            message: 'The container could not be located when the pod was terminated',
          },
        },
      },
    }),
    expected: { kind: 'unknown', reason: 'ContainerStatusUnknown' },
  },
  {
    name: 'no reason, no container state',
    pod: failedPod({}),
    expected: { kind: 'unknown', reason: 'Unknown' },
  },
];

describe('failureSignature', () => {
  for (const row of table) {
    it(row.name, () => {
      const signature = failureSignature(row.pod);
      for (const [key, value] of Object.entries(row.expected)) {
        assert.deepEqual(signature[key as keyof FailureSignature], value, `${key} of ${row.name}`);
      }
    });
  }
});
