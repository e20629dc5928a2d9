import {
  type Analyzer,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  podEvidence,
  topNodes,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';

// Nodes: graceful node shutdown fails pods with reason Terminated "Pod was terminated in response to imminent node
// shutdown." (older: Shutdown; kubelet nodeshutdown_manager_linux.go, kubernetes #113278, #102820); a kubelet
// restart re-admits pods and rejects launchers with NodeAffinity "Pod was rejected: Predicate NodeAffinity failed"
// (kubevirt issues #11662, #11843); a lost node ends them with NodeLost. Pods on a NotReady node with no clearer
// signature are attributed here too.

const DECISIVE = new Set(['node-shutdown', 'node-lost', 'node-affinity']);
/** Kinds that say nothing precise: a node going away explains them better than nothing. */
const VAGUE = new Set(['unknown', 'container-error', 'deadline']);

export const analyzeNode: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence = DECISIVE.has(group.kind)
      ? 0.95
      : VAGUE.has(group.kind) &&
          (group.nodeReady === 'False' || group.nodeReady === 'Unknown' || group.nodeReady === 'missing')
        ? 0.7
        : VAGUE.has(group.kind) && group.eventClasses.includes('node')
          ? 0.6
          : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const nodes = topNodes(claimed);
  const shutdown = claimed.some((group) => group.kind === 'node-shutdown');
  const affinity = claimed.some((group) => group.kind === 'node-affinity');
  const lost = claimed.some((group) => group.kind === 'node-lost' || group.nodeReady !== 'True');
  const sick = facts.nodes.filter((node) => node.ready !== 'True' && nodes.includes(node.name));
  const nodeEvidence = sick.slice(0, 3).map((node) => ({
    kind: 'Node',
    name: node.name,
    reason: node.readyReason ?? `Ready=${node.ready}`,
    ...(node.readyMessage ? { message: node.readyMessage } : {}),
  }));
  const what = [
    shutdown ? 'shut down' : '',
    affinity ? 'restarted their kubelet' : '',
    lost && !shutdown ? 'became NotReady' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const remediation: string[] = [];
  if (shutdown) {
    remediation.push(
      `Nodes ${listNames(nodes)} shut down: drain them before maintenance (kubectl drain) so KubeVirt live-migrates the VMs instead of failing their launchers.`,
    );
  }
  if (affinity) {
    remediation.push(
      `The kubelet on ${listNames(nodes)} restarted and rejected the launchers (NodeAffinity): check that the nodes still carry the labels of the VMs' nodeSelector (kubevirt.io/schedulable, CPU model labels from virt-handler).`,
    );
  }
  if (lost && !shutdown) {
    remediation.push(
      `Bring ${listNames(nodes)} back to Ready (kubelet, container runtime, network) or remove them from the cluster.`,
    );
  }
  remediation.push(cleanupRemediation(claimed, 'Once the VMs run elsewhere'));
  return {
    category: 'node',
    claims,
    summary: `Nodes ${listNames(nodes)}${what ? ` ${what}` : ' failed'}`,
    evidence: evidenceRows(
      nodeEvidence,
      podEvidence(claimed, 2),
      eventEvidence(eventGroupsOf(facts, ['node']), 2),
    ),
    remediation,
  };
};
