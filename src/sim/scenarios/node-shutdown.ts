// node-shutdown: a rolling reboot (firmware patching) of about a third of the nodes with graceful node shutdown on.
// The kubelet's shutdown manager (pkg/kubelet/nodeshutdown) marks its pods Failed with reason Terminated and message
// "Pod was terminated in response to imminent node shutdown." (older kubelets: reason Shutdown, "Node is shutting,
// evicting pods"; kubernetes#113278, #102820), one node is still down (NotReady), and after a kubelet restart some
// launchers are rejected at admission: reason NodeAffinity, "Pod was rejected: Predicate NodeAffinity failed"
// (kubevirt#11662, #11843).

import type { NodeInfo } from '../objects.js';
import { containerStatusUnknown, podReference, secondsBefore, terminated } from '../objects.js';
import type { ClusterBuilder } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

export const SHUTDOWN_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';
export const LEGACY_SHUTDOWN_MESSAGE = 'Node is shutting, evicting pods';
export const NODE_AFFINITY_MESSAGE = 'Pod was rejected: Predicate NodeAffinity failed';

export function rebootedNodes(builder: ClusterBuilder): NodeInfo[] {
  return builder.nodeSubset('shutdown', 0.3);
}

type Ending = 'Terminated' | 'Shutdown' | 'NodeAffinity';

/** Events about a node are recorded by the kubelet with the node's name as the involved object's uid (kubelet.go nodeRef). */
function nodeReference(node: NodeInfo) {
  return { kind: 'Node', apiVersion: 'v1', name: node.name, uid: node.name };
}

export const nodeShutdownFailures: FailureKind = {
  category: 'node',
  prepare(builder) {
    const { random, now } = builder;
    for (const [index, node] of rebootedNodes(builder).entries()) {
      const downAt = secondsBefore(now, index === 0 ? random.int(300, 900) : random.int(1200, 3000));
      builder.event({
        involved: nodeReference(node),
        reason: 'NodeNotReady',
        message: `Node ${node.name} status is now: NodeNotReady`,
        type: 'Normal',
        count: 1,
        first: downAt,
        last: downAt,
        component: 'node-controller',
      });
      if (index === 0) {
        // The node still being patched: it stopped posting status.
        builder.updateNodeHealth(node.name, { notReadySince: downAt });
        continue;
      }
      const upAt = secondsBefore(downAt, -random.int(240, 600));
      builder.updateNodeHealth(node.name, { readySince: upAt });
      builder.event({
        involved: nodeReference(node),
        reason: 'Rebooted',
        message: `Node ${node.name} has been rebooted, boot id: ${random.uuid()}`,
        type: 'Warning',
        count: 1,
        first: upAt,
        last: upAt,
        component: 'kubelet',
        host: node.name,
      });
      builder.event({
        involved: nodeReference(node),
        reason: 'NodeReady',
        message: `Node ${node.name} status is now: NodeReady`,
        type: 'Normal',
        count: 1,
        first: upAt,
        last: upAt,
        component: 'kubelet',
        host: node.name,
      });
    }
  },
  layDown(builder, count) {
    const { random } = builder;
    for (const slot of builder.slots(count, rebootedNodes(builder))) {
      const ending = random.weighted<Ending>([
        ['Terminated', 75],
        ['Shutdown', 10],
        ['NodeAffinity', 15],
      ]);
      const computeStarted = secondsBefore(slot.failedAt, random.int(3600, 30 * 86400));
      const livedSeconds = Math.round((slot.failedAt.getTime() - computeStarted.getTime()) / 1000) + 8;
      const host = slot.node.name;
      if (ending === 'NodeAffinity') {
        const { pod } = layDownFailedVm(builder, {
          slot,
          disk: random.chance(0.5) ? 'containerDisk' : 'persistentVolumeClaim',
          livedSeconds,
          outcome: {
            phase: 'Failed',
            reason: 'NodeAffinity',
            message: NODE_AFFINITY_MESSAGE,
            containerStates: {
              compute: containerStatusUnknown(),
              volumecontainerdisk: containerStatusUnknown(),
              'guest-console-log': containerStatusUnknown(),
            },
          },
          printableStatus: 'CrashLoopBackOff',
        });
        builder.event({
          involved: podReference(pod),
          reason: 'NodeAffinity',
          message: 'Predicate NodeAffinity failed',
          type: 'Warning',
          count: 1,
          first: slot.failedAt,
          last: slot.failedAt,
          component: 'kubelet',
          host,
        });
        continue;
      }
      const message = ending === 'Terminated' ? SHUTDOWN_MESSAGE : LEGACY_SHUTDOWN_MESSAGE;
      const killed = random.chance(0.3);
      const { pod } = layDownFailedVm(builder, {
        slot,
        disk: random.chance(0.5) ? 'containerDisk' : 'persistentVolumeClaim',
        livedSeconds,
        outcome: {
          phase: 'Failed',
          reason: ending,
          message,
          ...(ending === 'Terminated' ? { disruption: { reason: 'TerminationByKubelet', message } } : {}),
          containerStates: {
            compute: killed
              ? terminated(137, 'Error', computeStarted, slot.failedAt)
              : terminated(0, 'Completed', computeStarted, slot.failedAt),
          },
        },
        printableStatus: 'CrashLoopBackOff',
      });
      builder.event({
        involved: podReference(pod),
        reason: 'NodeNotReady',
        message: 'Node is not ready',
        type: 'Warning',
        count: 1,
        first: slot.failedAt,
        last: slot.failedAt,
        component: 'node-controller',
      });
    }
  },
};

export const nodeShutdownScenario = defineScenario({
  name: 'node-shutdown',
  summary:
    'Rolling node reboots with graceful node shutdown: launchers Terminated/Shutdown, NodeAffinity rejections after kubelet restarts',
  expectedTopCause: 'node',
  causes: [{ kind: nodeShutdownFailures, share: 1 }],
});
