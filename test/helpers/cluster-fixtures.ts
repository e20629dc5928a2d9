// Small, hand-built objects for simulator tests that must not depend on the scenarios' output.

import type { ClusterObjects } from '../../src/kube/cluster-objects.js';
import type { Event, KubeObject, Pod, VirtualMachineInstanceMigration } from '../../src/kube/types.js';

export interface LauncherOptions {
  namespace: string;
  name: string;
  phase?: 'Failed' | 'Running' | 'Succeeded' | 'Pending';
  nodeName?: string;
  /** No spec.nodeName: never scheduled (deleted at once whatever its phase). */
  unscheduled?: boolean;
  labels?: Record<string, string>;
  uid?: string;
  creationTimestamp?: string;
  terminationGracePeriodSeconds?: number;
}

const LAUNCHER_IMAGE = 'quay.io/kubevirt/virt-launcher:v1.6.2';
const LAUNCHER_IMAGE_ID = `quay.io/kubevirt/virt-launcher@sha256:${'0'.repeat(64)}`;

/** A virt-launcher pod; Failed ones end like a crashed compute container (STATUS `Error`). */
export function launcherPod(options: LauncherOptions): Pod {
  const phase = options.phase ?? 'Failed';
  const failed = phase === 'Failed';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      creationTimestamp: options.creationTimestamp ?? '2026-01-01T00:00:00Z',
      labels: { 'kubevirt.io': 'virt-launcher', 'vm.kubevirt.io/name': options.name, ...options.labels },
      annotations: { 'kubectl.kubernetes.io/default-container': 'compute' },
    },
    spec: {
      ...(options.unscheduled ? {} : { nodeName: options.nodeName ?? 'node-0' }),
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 30,
      // Every real pod names its images (the API server requires them; the Python client's models too).
      containers: [
        { name: 'compute', image: LAUNCHER_IMAGE },
        { name: 'guest-console-log', image: LAUNCHER_IMAGE },
      ],
    },
    status: {
      phase,
      podIPs: [{ ip: '10.0.0.1' }],
      containerStatuses: [
        {
          name: 'compute',
          image: LAUNCHER_IMAGE,
          imageID: LAUNCHER_IMAGE_ID,
          ready: !failed,
          restartCount: 0,
          state: failed ? { terminated: { exitCode: 1, reason: 'Error' } } : { running: {} },
        },
        {
          name: 'guest-console-log',
          image: LAUNCHER_IMAGE,
          imageID: LAUNCHER_IMAGE_ID,
          ready: !failed,
          restartCount: 0,
          state: failed ? { terminated: { exitCode: 0, reason: 'Completed' } } : { running: {} },
        },
      ],
    },
  };
}

export function podEvent(pod: Pod, reason: string, message: string, index = 0): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod.metadata.name}.${index}`, namespace: pod.metadata.namespace as string },
    involvedObject: {
      kind: 'Pod',
      apiVersion: 'v1',
      name: pod.metadata.name,
      namespace: pod.metadata.namespace as string,
      ...(pod.metadata.uid === undefined ? {} : { uid: pod.metadata.uid }),
    },
    reason,
    message,
    type: 'Warning',
    count: 1,
    firstTimestamp: '2026-01-01T00:00:00Z',
    lastTimestamp: '2026-01-01T00:00:00Z',
    source: { component: 'kubelet', host: 'node-0' },
  };
}

export function migration(
  namespace: string,
  name: string,
  vmiName: string,
  phase: string,
): VirtualMachineInstanceMigration {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstanceMigration',
    metadata: { name, namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { vmiName },
    status: { phase: phase as 'Failed' },
  };
}

export function kubevirtCr(namespace = 'kubevirt'): KubeObject {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'KubeVirt',
    metadata: { name: 'kubevirt', namespace, creationTimestamp: '2026-01-01T00:00:00Z' },
    status: { phase: 'Deployed' },
  } as KubeObject;
}

/** A virt-controller pod with JSON log lines, as `kubectl logs -l kubevirt.io=virt-controller` reads them. */
export function controllerPod(namespace: string, name: string, lines: number): ClusterObjects {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { 'kubevirt.io': 'virt-controller' },
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    spec: {
      nodeName: 'node-0',
      containers: [{ name: 'virt-controller', image: 'quay.io/kubevirt/virt-controller:v1.6.2' }],
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'virt-controller',
          image: 'quay.io/kubevirt/virt-controller:v1.6.2',
          imageID: `quay.io/kubevirt/virt-controller@sha256:${'1'.repeat(64)}`,
          ready: true,
          restartCount: 0,
          state: { running: {} },
        },
      ],
    },
  };
  const logLines = Array.from({ length: lines }, (_, index) =>
    JSON.stringify({
      component: 'virt-controller',
      level: 'info',
      msg: `line ${index} of ${name}`,
      pos: 'vmi.go:1',
      timestamp: `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}.000000Z`,
    }),
  );
  return { objects: [pod], logs: [{ namespace, pod: name, container: 'virt-controller', lines: logLines }] };
}

/**
 * The cluster of the client conformance tests (client-node, the Python client): 23 Failed launchers over two
 * namespaces (pages of 5 end part-way), the first with a BackOff event, a VM, migrations finished, running and
 * failed, the KubeVirt CR and a virt-controller with 20 log lines.
 */
export function clientConformanceCluster(): ClusterObjects {
  const launchers = Array.from({ length: 23 }, (_, index) =>
    launcherPod({
      namespace: `vms-${index % 2}`,
      name: `virt-launcher-vm${index}-abcde`,
      uid: `uid-${index}`,
    }),
  );
  const controller = controllerPod('kubevirt', 'virt-controller-a', 20);
  const vm = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'vm0', namespace: 'vms-0' },
    spec: { runStrategy: 'Always', template: {} },
  } as KubeObject;
  return {
    objects: [
      ...launchers,
      podEvent(launchers[0] as Pod, 'BackOff', 'Back-off pulling image'),
      ...controller.objects,
      migration('vms-0', 'mig-done', 'vm0', 'Succeeded'),
      migration('vms-0', 'mig-running', 'vm0', 'Running'),
      migration('vms-1', 'mig-other', 'vm1', 'Failed'),
      kubevirtCr(),
      vm,
    ],
    logs: controller.logs,
  };
}
