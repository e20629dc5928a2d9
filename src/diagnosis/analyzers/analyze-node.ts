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
import type { DiagnosisFacts, NodeFacts, PodGroup } from './facts.js';

// Nodes: graceful node shutdown fails pods with reason Terminated "Pod was terminated in response to imminent node
// shutdown." (older: Shutdown; kubelet nodeshutdown_manager_linux.go, kubernetes #113278, #102820); a kubelet
// restart re-admits pods and rejects launchers with NodeAffinity "Pod was rejected: Predicate NodeAffinity failed"
// (kubevirt issues #11662, #11843); a lost node ends them with NodeLost. Pods on a NotReady node with no clearer
// signature are attributed here too.
// A node that lost power or rebooted without a graceful shutdown leaves no pod-level reason: every container of its
// launchers ended in failure at once (exit 255 "Unknown" from containerd, Error 255/137, ContainerStatusUnknown),
// and the node itself says it rebooted: the kubelet's Warning Rebooted "Node <name> has been rebooted, boot id:
// <id>" (nodestatus/setters.go), whose boot id is the node's status.nodeInfo.bootID (node-reboots.ts).

const DECISIVE = new Set(['node-shutdown', 'node-lost', 'node-affinity']);
/** Kinds that say nothing precise: a node going away explains them better than nothing. */
const VAGUE = new Set(['unknown', 'container-error', 'deadline']);

/** Whether most of the group's pods ran on nodes that rebooted. */
function onRebootedNodes(group: PodGroup, rebooted: ReadonlySet<string>): boolean {
  const onRebooted = group.nodes
    .filter((node) => rebooted.has(node.key))
    .reduce((sum, node) => sum + node.count, 0);
  return onRebooted * 2 > group.count;
}

export const analyzeNode: Analyzer = (facts) => {
  const rebootedNodes = new Set(
    facts.nodes.filter((node) => node.rebooted !== undefined).map((node) => node.name),
  );
  const claimed: PodGroup[] = [];
  const rebootGroups: PodGroup[] = [];
  const togetherGroups: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const together = group.everyContainerFailed === true && VAGUE.has(group.kind);
    const reboot = together && onRebootedNodes(group, rebootedNodes);
    if (reboot) rebootGroups.push(group);
    else if (together) togetherGroups.push(group);
    const confidence = DECISIVE.has(group.kind)
      ? 0.95
      : reboot
        ? 0.9
        : VAGUE.has(group.kind) &&
            (group.nodeReady === 'False' || group.nodeReady === 'Unknown' || group.nodeReady === 'missing')
          ? 0.7
          : VAGUE.has(group.kind) && group.eventClasses.includes('node')
            ? 0.6
            : // Every container ending at once is what a vanished host leaves, even once its Rebooted event
              // has expired (the apiserver keeps events an hour): the likeliest cause, weakly.
              together
              ? 0.55
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
  const rebooted = rebootedNodesOf(rebootGroups, facts);
  const rebootEvidence = rebooted.slice(0, 3).map((node) => ({
    kind: 'Node',
    name: node.name,
    reason: 'Rebooted',
    message: `${node.rebooted?.message ?? ''} (at ${node.rebooted?.at ?? '?'}${node.rebooted?.bootId === node.bootId ? ', its current boot' : ''})`,
  }));
  const rebootTimes = rebooted.flatMap((node) => (node.rebooted ? [node.rebooted.at] : [])).sort();
  const what = [
    rebootGroups.length > 0
      ? `rebooted without draining (power loss or reset${rebootTimes.length > 0 ? `, ${backAt(rebootTimes)}` : ''}): every container of their launchers ended at once`
      : '',
    togetherGroups.length > 0
      ? 'ended every container of their launchers at once, as a reboot or power loss does (no Rebooted event found: events expire after an hour)'
      : '',
    shutdown ? 'shut down' : '',
    affinity ? 'restarted their kubelet' : '',
    lost && !shutdown && rebootGroups.length === 0 ? 'became NotReady' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const remediation: string[] = [];
  if (rebootGroups.length > 0) {
    const names = listNames(rebooted.map((node) => node.name));
    remediation.push(
      `Find why ${names || 'the nodes'} rebooted at once (power or PDU, BMC event log, a kernel panic: journalctl -b -1 -k on each node) and fix that before running VMs there again.`,
      'Enable graceful node shutdown (kubelet shutdownGracePeriod / shutdownGracePeriodCriticalPods) so that a planned reboot ends the launchers cleanly, and drain nodes (kubectl drain) before maintenance so KubeVirt live-migrates the VMs.',
    );
  }
  if (togetherGroups.length > 0) {
    remediation.push(
      `Check whether ${listNames(topNodes(togetherGroups)) || 'the nodes'} rebooted or lost power when the launchers ended (journalctl --list-boots, the BMC event log, the container runtime's log).`,
    );
  }
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
      rebootEvidence,
      nodeEvidence,
      podEvidence(claimed, 2),
      eventEvidence(eventGroupsOf(facts, ['node']), 2),
    ),
    remediation,
  };
};

/** "back at T" or "back between T1 and T2" (times sorted). */
function backAt(times: string[]): string {
  const first = times[0];
  const last = times[times.length - 1];
  return first === last ? `back at ${first}` : `back between ${first} and ${last}`;
}

/** The rebooted nodes the groups' pods ran on, most pods first. */
function rebootedNodesOf(groups: PodGroup[], facts: DiagnosisFacts): NodeFacts[] {
  const byName = new Map(facts.nodes.map((node) => [node.name, node]));
  return topNodes(groups, 10).flatMap((name) => {
    const node = byName.get(name);
    return node?.rebooted ? [node] : [];
  });
}
