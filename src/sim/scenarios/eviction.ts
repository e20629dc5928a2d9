// eviction: overcommitted nodes. The kubelet's eviction manager evicts launchers from nodes under MemoryPressure or
// DiskPressure (phase Failed, reason Evicted, messages built in pkg/kubelet/eviction/helpers.go: "The node was low on
// resource: %v. Threshold quantity: %v, available: %v. " + "Container %s was using %s, request is %s, has larger
// consumption of %v. "), with the DisruptionTarget condition (reason TerminationByKubelet) since Kubernetes 1.26;
// some compute containers hit their cgroup limit first and are OOMKilled (exit 137).

import type { NodeInfo } from '../objects.js';
import { podReference, secondsBefore, terminated } from '../objects.js';
import type { ClusterBuilder } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

type PressuredResource = 'memory' | 'ephemeral-storage';

/** The nodes under pressure and which resource each is short of: two thirds memory, one third disk. */
export function pressuredNodes(
  builder: ClusterBuilder,
): Array<{ node: NodeInfo; resource: PressuredResource }> {
  const nodes = builder.nodeSubset('pressure', 0.4);
  const memoryNodes = Math.max(1, Math.ceil((nodes.length * 2) / 3));
  return nodes.map((node, index) => ({
    node,
    resource: index < memoryNodes ? 'memory' : 'ephemeral-storage',
  }));
}

function evictionMessage(resource: PressuredResource, builder: ClusterBuilder, request: string): string {
  const { random } = builder;
  if (resource === 'memory') {
    return (
      `The node was low on resource: memory. Threshold quantity: 100Mi, available: ${random.int(20_000, 99_000)}Ki. ` +
      `Container compute was using ${random.int(17_000_000, 33_000_000)}Ki, request is ${request}, has larger consumption of memory. `
    );
  }
  return (
    `The node was low on resource: ephemeral-storage. Threshold quantity: 93699416Ki, available: ${random.int(40_000_000, 93_000_000)}Ki. ` +
    `Container compute was using ${random.int(9_000_000, 30_000_000)}Ki, request is 50M, has larger consumption of ephemeral-storage. `
  );
}

export const evictionFailures: FailureKind = {
  category: 'resources',
  prepare(builder) {
    const { random, now } = builder;
    for (const { node, resource } of pressuredNodes(builder)) {
      const since = secondsBefore(now, random.int(300, 3000));
      builder.updateNodeHealth(
        node.name,
        resource === 'memory' ? { memoryPressureSince: since } : { diskPressureSince: since },
      );
      // The kubelet records node events with the node's name as the involved object's uid (kubelet.go nodeRef).
      const involved = { kind: 'Node', apiVersion: 'v1', name: node.name, uid: node.name };
      builder.event({
        involved,
        reason: resource === 'memory' ? 'NodeHasInsufficientMemory' : 'NodeHasDiskPressure',
        message: `Node ${node.name} status is now: ${resource === 'memory' ? 'NodeHasInsufficientMemory' : 'NodeHasDiskPressure'}`,
        type: 'Normal',
        count: 1,
        first: since,
        last: since,
        component: 'kubelet',
        host: node.name,
      });
      builder.event({
        involved,
        reason: 'EvictionThresholdMet',
        message: `Attempting to reclaim ${resource}`,
        type: 'Warning',
        count: random.int(3, 40),
        first: since,
        last: secondsBefore(now, random.int(5, 120)),
        component: 'kubelet',
        host: node.name,
      });
    }
  },
  layDown(builder, count) {
    const { random } = builder;
    const pressured = pressuredNodes(builder);
    const resourceOf = new Map(pressured.map(({ node, resource }) => [node.name, resource]));
    for (const slot of builder.slots(
      count,
      pressured.map(({ node }) => node),
    )) {
      const resource = resourceOf.get(slot.node.name) ?? 'memory';
      const evicted = resource === 'ephemeral-storage' || random.chance(0.8);
      const computeStarted = secondsBefore(slot.failedAt, random.int(3600, 5 * 86400));
      if (!evicted) {
        const { pod } = layDownFailedVm(builder, {
          slot,
          disk: 'persistentVolumeClaim',
          livedSeconds: random.int(3610, 5 * 86400 + 20),
          outcome: {
            phase: 'Failed',
            containerStates: { compute: terminated(137, 'OOMKilled', computeStarted, slot.failedAt) },
          },
          printableStatus: 'CrashLoopBackOff',
        });
        builder.handlerLog(slot.node.name, slot.failedAt, {
          level: 'info',
          pos: 'vm.go:1759',
          msg: 'VMI is in phase: Failed | Domain status: Shutoff, reason: Crashed',
          kind: '',
          name: pod.metadata.labels?.['kubevirt.io/domain'] ?? '',
          namespace: slot.namespace,
          uid: pod.metadata.labels?.['kubevirt.io/created-by'] ?? '',
        });
        continue;
      }
      const disk = random.chance(0.5) ? 'containerDisk' : 'persistentVolumeClaim';
      const vmRequest = random.pick(['4372Mi', '8529Mi', '16711Mi']);
      const message = evictionMessage(resource, builder, vmRequest);
      const { pod } = layDownFailedVm(builder, {
        slot,
        disk,
        livedSeconds: random.int(3610, 5 * 86400 + 20),
        outcome: {
          phase: 'Failed',
          reason: 'Evicted',
          message,
          disruption: { reason: 'TerminationByKubelet', message },
          containerStates: { compute: terminated(137, 'Error', computeStarted, slot.failedAt) },
        },
        printableStatus: 'CrashLoopBackOff',
      });
      builder.event({
        involved: podReference(pod),
        reason: 'Evicted',
        message,
        type: 'Warning',
        count: 1,
        first: slot.failedAt,
        last: slot.failedAt,
        component: 'kubelet',
        host: slot.node.name,
      });
      builder.event({
        involved: podReference(pod, 'spec.containers{compute}'),
        reason: 'Killing',
        message: 'Stopping container compute',
        type: 'Normal',
        count: 1,
        first: slot.failedAt,
        last: slot.failedAt,
        component: 'kubelet',
        host: slot.node.name,
      });
    }
  },
};

export const evictionScenario = defineScenario({
  name: 'eviction',
  summary:
    'Overcommitted nodes under MemoryPressure / DiskPressure: the kubelet evicts launchers, some are OOMKilled',
  expectedTopCause: 'resources',
  causes: [{ kind: evictionFailures, share: 1 }],
});
