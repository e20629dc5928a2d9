import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeNode } from './analyze-node.js';
import { factsWith, podGroup } from './facts-fixture.js';

describe('analyzeNode', () => {
  it('claims graceful-shutdown pods and names the node, with its NotReady condition as evidence', () => {
    const group = podGroup({
      kind: 'node-shutdown',
      reason: 'Terminated',
      message: 'Pod was terminated in response to imminent node shutdown.',
      nodeReady: 'Unknown',
      nodes: [{ key: 'worker-6', count: 10 }],
    });
    const facts = factsWith({
      groups: [group],
      nodes: [
        {
          name: 'worker-6',
          ready: 'Unknown',
          readyReason: 'NodeStatusUnknown',
          readyMessage: 'Kubelet stopped posting node status.',
          unschedulable: false,
          pressure: [],
          taints: ['node.kubernetes.io/unreachable:NoExecute'],
          failedLaunchers: 10,
        },
      ],
    });
    const finding = analyzeNode(facts);
    assert.deepEqual(finding.claims, [{ groupId: group.id, confidence: 0.95 }]);
    assert.equal(finding.summary, 'Nodes worker-6 shut down');
    assert.deepEqual(finding.evidence[0], {
      kind: 'Node',
      name: 'worker-6',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
    });
  });

  it('claims NodeAffinity rejections after a kubelet restart (kubevirt #11662)', () => {
    const group = podGroup({ kind: 'node-affinity', reason: 'NodeAffinity' });
    const finding = analyzeNode(factsWith({ groups: [group] }));
    assert.equal(finding.claims[0]?.confidence, 0.95);
    assert.match(finding.remediation.join('\n'), /kubelet on worker-1 restarted/);
  });

  it('claims vague failures on a NotReady node, but not on a Ready one', () => {
    const onSickNode = podGroup({ kind: 'unknown', reason: 'ContainerStatusUnknown', nodeReady: 'False' });
    const onHealthyNode = podGroup({ kind: 'unknown', reason: 'ContainerStatusUnknown', nodeReady: 'True' });
    const evictedOnSickNode = podGroup({ kind: 'evicted', reason: 'Evicted', nodeReady: 'False' });
    const claims = analyzeNode(factsWith({ groups: [onSickNode, onHealthyNode, evictedOnSickNode] })).claims;
    assert.deepEqual(claims, [{ groupId: onSickNode.id, confidence: 0.7 }]);
  });
});
