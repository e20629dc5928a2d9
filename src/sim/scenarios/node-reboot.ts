// node-reboot: a rack lost power. Its nodes went down within seconds of each other and booted again minutes later;
// the launchers running there ended together, every container terminated with a failure and no pod-level reason.
// What the runtime reports for a container whose process vanished with the host depends on the runtime:
// containerd restores it as exited 255 with reason "Unknown" (cri helpers.go unknownExitCode/unknownExitReason),
// others report a plain "Error" with 255 or 137; when the runtime wiped its containers after the unclean shutdown,
// the kubelet writes ContainerStatusUnknown, exit 137, "The container could not be located when the pod was
// terminated" (kubelet_pods.go convertToAPIContainerStatuses). With restartPolicy Never none is restarted: the pod
// is Failed.
// The nodes say what happened: the kubelet reports a new status.nodeInfo.bootID and records the Warning event
// Rebooted "Node <name> has been rebooted, boot id: <id>" (pkg/kubelet/nodestatus/setters.go MachineInfo,
// events.NodeRebooted); Ready went True again after the boot. Nodes down longer than the node monitor grace period
// also went NotReady (node-controller NodeNotReady) and their pods got the Warning "Node is not ready"; nodes that
// came back sooner (a fast warm boot) left no trace on their pods at all.

import type { NodeInfo } from '../objects.js';
import { containerStatusUnknown, podReference, secondsAfter, secondsBefore, terminated } from '../objects.js';
import { createRandom, deriveSeed } from '../random.js';
import type { ClusterBuilder } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

export const REBOOTED_NODE_FRACTION = 0.4;
/** kube-controller-manager --node-monitor-grace-period (40s; 50s since Kubernetes 1.32). */
const NODE_MONITOR_GRACE_SECONDS = 50;

export function rebootedNodes(builder: ClusterBuilder): NodeInfo[] {
  return builder.nodeSubset('reboot', REBOOTED_NODE_FRACTION);
}

export function rebootedMessage(node: string, bootId: string): string {
  return `Node ${node} has been rebooted, boot id: ${bootId}`;
}

interface NodeOutage {
  node: NodeInfo;
  /** When the power went. */
  downAt: Date;
  /** When the kubelet posted status again, with its new boot id. */
  upAt: Date;
  bootId: string;
}

/**
 * When each rebooted node went down and came back: the same for build and churn (drawn from a stream of its own),
 * a few seconds apart for the rack, 15 to 45 minutes before the scenario's now (the events still exist).
 */
export function nodeOutages(builder: ClusterBuilder): NodeOutage[] {
  const random = createRandom(deriveSeed(builder.options.seed, 'power-loss'));
  const powerLoss = secondsBefore(builder.options.now, random.int(15 * 60, 45 * 60));
  return rebootedNodes(builder).map((node, index) => {
    const downAt = secondsAfter(powerLoss, random.int(0, 6));
    // Every other node warm-boots within the grace period; the others take minutes (firmware, RAID, kubelet).
    const bootSeconds = index % 2 === 1 ? random.int(25, 40) : random.int(180, 420);
    return { node, downAt, upAt: secondsAfter(downAt, bootSeconds), bootId: random.uuid() };
  });
}

type Ending = 'error-255' | 'error-137' | 'containerd-unknown' | 'status-unknown';

const CONTAINERS = ['compute', 'volumecontainerdisk', 'guest-console-log'];

export const nodeRebootFailures: FailureKind = {
  category: 'node',
  prepare(builder) {
    for (const outage of nodeOutages(builder)) {
      const { node, downAt, upAt, bootId } = outage;
      // The kubelet records node events with the node's name as the involved object's uid (kubelet.go nodeRef).
      const involved = { kind: 'Node', apiVersion: 'v1', name: node.name, uid: node.name };
      const readyAt = secondsAfter(upAt, 12);
      builder.updateNodeHealth(node.name, { readySince: readyAt, bootId });
      if (upAt.getTime() - downAt.getTime() > NODE_MONITOR_GRACE_SECONDS * 1000) {
        const notReadyAt = secondsAfter(downAt, NODE_MONITOR_GRACE_SECONDS);
        builder.event({
          involved,
          reason: 'NodeNotReady',
          message: `Node ${node.name} status is now: NodeNotReady`,
          type: 'Normal',
          count: 1,
          first: notReadyAt,
          last: notReadyAt,
          component: 'node-controller',
        });
      }
      builder.event({
        involved,
        reason: 'Rebooted',
        message: rebootedMessage(node.name, bootId),
        type: 'Warning',
        count: 1,
        first: upAt,
        last: upAt,
        component: 'kubelet',
        host: node.name,
      });
      builder.event({
        involved,
        reason: 'NodeReady',
        message: `Node ${node.name} status is now: NodeReady`,
        type: 'Normal',
        count: 1,
        first: readyAt,
        last: readyAt,
        component: 'kubelet',
        host: node.name,
      });
    }
  },
  layDown(builder, count) {
    const { random } = builder;
    const outages = nodeOutages(builder);
    const outageOf = new Map(outages.map((outage) => [outage.node.name, outage]));
    // Churn (a later step) fails launchers now; the initial build fails them with the power loss.
    const churn = builder.now.getTime() !== builder.options.now.getTime();
    for (const slot of builder.slots(
      count,
      outages.map((outage) => outage.node),
    )) {
      const outage = outageOf.get(slot.node.name);
      const downAt = churn || outage === undefined ? slot.failedAt : outage.downAt;
      const ending = random.weighted<Ending>([
        ['error-255', 40],
        ['error-137', 20],
        ['containerd-unknown', 25],
        ['status-unknown', 15],
      ]);
      const started = secondsBefore(downAt, random.int(3600, 30 * 86400));
      // containerd stamps the restored container's end when it starts again, after the boot.
      const endedAt = ending === 'containerd-unknown' && outage && !churn ? outage.upAt : downAt;
      const state =
        ending === 'status-unknown'
          ? containerStatusUnknown()
          : ending === 'containerd-unknown'
            ? terminated(255, 'Unknown', started, endedAt)
            : terminated(ending === 'error-255' ? 255 : 137, 'Error', started, endedAt);
      const { pod } = layDownFailedVm(builder, {
        slot: { ...slot, failedAt: endedAt },
        disk: random.chance(0.5) ? 'containerDisk' : 'persistentVolumeClaim',
        livedSeconds: Math.round((endedAt.getTime() - started.getTime()) / 1000) + 8,
        outcome: {
          phase: 'Failed',
          containerStates: Object.fromEntries(CONTAINERS.map((name) => [name, state])),
        },
        printableStatus: 'CrashLoopBackOff',
      });
      if (
        outage &&
        !churn &&
        outage.upAt.getTime() - outage.downAt.getTime() > NODE_MONITOR_GRACE_SECONDS * 1000
      ) {
        // The node lifecycle controller marks the pods of a NotReady node not ready, with this Warning.
        const at = secondsAfter(outage.downAt, NODE_MONITOR_GRACE_SECONDS + 1);
        builder.event({
          involved: podReference(pod),
          reason: 'NodeNotReady',
          message: 'Node is not ready',
          type: 'Warning',
          count: 1,
          first: at,
          last: at,
          component: 'node-controller',
        });
      }
    }
  },
};

export const nodeRebootScenario = defineScenario({
  name: 'node-reboot',
  summary:
    'A rack lost power: its nodes rebooted together (new boot ids, Rebooted events) and every container of their launchers ended at once',
  expectedTopCause: 'node',
  causes: [{ kind: nodeRebootFailures, share: 1 }],
});
