import {
  type Analyzer,
  captures,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  messagesOf,
  podEvidence,
  topNodes,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';

// Pod networking: the kubelet reports a CNI failure as the Warning event FailedCreatePodSandBox "Failed to create
// pod sandbox: rpc error: ... failed to setup network for sandbox ...: plugin type="multus-shim" ..." (kubelet
// kuberuntime_sandbox.go; multus-cni issues #1223, #1361, which shows a virt-launcher pod).

const NETWORK_MESSAGE = /pod sandbox|\bCNI\b|network plugin|failed to setup network|networkPlugin/i;

export const analyzeNetwork: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence = group.eventClasses.includes('sandbox-network')
      ? 0.85
      : group.message && NETWORK_MESSAGE.test(group.message)
        ? 0.8
        : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const events = eventGroupsOf(facts, ['sandbox-network']);
  const texts = messagesOf(claimed, events);
  const plugins = captures(texts, /plugin type="([^"]+)"/);
  const networks = captures(texts, /(?:name|network)[ =]"([^"]+)"/);
  const nodes = topNodes(claimed);
  const where = nodes.length > 0 ? ` on ${listNames(nodes)}` : '';
  return {
    category: 'network',
    claims,
    summary: `Pod sandboxes cannot be networked${plugins.length > 0 ? ` by CNI plugin ${listNames(plugins)}` : ''}${where}`,
    evidence: evidenceRows(eventEvidence(events), podEvidence(claimed, 2)),
    remediation: [
      `Check the CNI pods${nodes.length > 0 ? ` on ${listNames(nodes)}` : ''} (e.g. ovnkube-node, multus, calico-node) and their logs for the sandbox errors.`,
      ...(networks.length > 0
        ? [
            `Check the network attachment ${listNames(networks)} (NetworkAttachmentDefinition) that the VMs use.`,
          ]
        : []),
      cleanupRemediation(claimed, 'Once sandboxes are created again'),
    ],
  };
};
