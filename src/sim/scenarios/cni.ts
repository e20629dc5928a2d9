// cni: ovnkube-node is broken on a quarter of the nodes. After their pod sandboxes changed (node reboot, OVS restart),
// the kubelet does not recreate a sandbox for a restartPolicy Never pod whose containers already ran
// (kuberuntime_manager.go computePodActions), and the new sandbox attempts fail in Multus/OVN-Kubernetes with
// "failed to get pod annotation: timed out waiting for annotations" (ovn-kubernetes#3859, multus-cni#1361): the
// launcher ends Failed with its containers gone. The failures sit on the broken nodes only.

import { containerStatusUnknown, podReference, secondsAfter, secondsBefore } from '../objects.js';
import type { ClusterBuilder } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

/** The share of nodes whose CNI is broken. */
export const BROKEN_CNI_NODE_FRACTION = 0.25;

export function brokenCniNodes(builder: ClusterBuilder) {
  return builder.nodeSubset('cni', BROKEN_CNI_NODE_FRACTION);
}

/** CRI-O's error for a sandbox whose network setup failed through the multus-shim into ovn-kubernetes. */
export function sandboxFailureMessage(
  namespace: string,
  pod: string,
  podUid: string,
  sandboxId: string,
  netns: string,
) {
  const args = `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=${sandboxId};K8S_POD_UID=${podUid}`;
  return (
    `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create pod network sandbox ` +
    `k8s_${pod}_${namespace}_${podUid}_0(${sandboxId}): error adding pod ${namespace}_${pod} to CNI network ` +
    `"multus-cni-network": plugin type="multus-shim" name="multus-cni-network" failed (add): CmdAdd (shim): ` +
    `CNI request failed with status 400: '&{ContainerID:${sandboxId} Netns:/var/run/netns/${netns} IfName:eth0 ` +
    `Args:${args} Path: StdinData:[123 34 98 105 110 68 105 114 34 58 34 47 118 97 114 47 108 105 98 47 99 110 105 47 98 105 110 34 125]} ` +
    `ERRORED: error configuring pod [${namespace}/${pod}] networking: [${namespace}/${pod}/${podUid}:ovn-kubernetes]: ` +
    `error adding container to network "ovn-kubernetes": CNI request failed with status 400: ` +
    `'[${namespace}/${pod} ${sandboxId} network default NAD default] [${namespace}/${pod} ${sandboxId} network default NAD default] ` +
    `failed to get pod annotation: timed out waiting for annotations: context deadline exceeded\n'\n'`
  );
}

export const cniFailures: FailureKind = {
  category: 'network',
  prepare() {
    // The broken nodes look healthy to the kubelet (Ready, no pressure): only the sandbox events tell.
  },
  layDown(builder, count) {
    const { random } = builder;
    for (const slot of builder.slots(count, brokenCniNodes(builder))) {
      const livedSeconds = random.int(1800, 20 * 86400);
      const { pod } = layDownFailedVm(builder, {
        slot,
        disk: 'containerDisk',
        livedSeconds,
        outcome: {
          phase: 'Failed',
          noPodIP: true,
          containerStates: {
            compute: containerStatusUnknown(),
            volumecontainerdisk: containerStatusUnknown(),
            'guest-console-log': containerStatusUnknown(),
          },
        },
        printableStatus: 'CrashLoopBackOff',
      });
      const name = pod.metadata.name;
      const namespace = slot.namespace;
      const changedAt = secondsBefore(slot.failedAt, random.int(60, 240));
      const host = slot.node.name;
      builder.event({
        involved: podReference(pod),
        reason: 'SandboxChanged',
        message: 'Pod sandbox changed, it will be killed and re-created.',
        type: 'Normal',
        count: 1,
        first: changedAt,
        last: changedAt,
        component: 'kubelet',
        host,
      });
      builder.event({
        involved: podReference(pod),
        reason: 'FailedCreatePodSandBox',
        message: sandboxFailureMessage(
          namespace,
          name,
          pod.metadata.uid ?? '',
          random.hex(64),
          random.uuid(),
        ),
        type: 'Warning',
        count: random.int(1, 8),
        first: secondsAfter(changedAt, 2),
        last: slot.failedAt,
        component: 'kubelet',
        host,
      });
    }
  },
};

export const cniScenario = defineScenario({
  name: 'cni',
  summary:
    'OVN-Kubernetes behind Multus times out on a subset of nodes: launcher sandboxes cannot be recreated',
  expectedTopCause: 'network',
  causes: [{ kind: cniFailures, share: 1 }],
});
