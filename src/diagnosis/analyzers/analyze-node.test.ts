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

  describe('a node that lost power or rebooted (every container ended at once, the node says Rebooted)', () => {
    const rebootedNode = {
      name: 'worker-4',
      ready: 'True' as const,
      readyReason: 'KubeletReady',
      unschedulable: false,
      pressure: [],
      taints: [],
      failedLaunchers: 10,
      bootId: '6f0e2a4c-3b1d-4e59-9a7c-2d8f1e0b5c3a',
      rebooted: {
        at: '2026-11-23T21:14:05Z',
        bootId: '6f0e2a4c-3b1d-4e59-9a7c-2d8f1e0b5c3a',
        message: 'Node worker-4 has been rebooted, boot id: 6f0e2a4c-3b1d-4e59-9a7c-2d8f1e0b5c3a',
      },
    };
    const rows: Array<{
      name: string;
      reason: string;
      exitCode: number;
      kind: 'container-error' | 'unknown';
    }> = [
      {
        name: 'containerd restores the containers as exit 255 "Unknown"',
        reason: 'Unknown',
        exitCode: 255,
        kind: 'container-error',
      },
      { name: 'the containers read Error 255', reason: 'Error', exitCode: 255, kind: 'container-error' },
      { name: 'the containers read Error 137', reason: 'Error', exitCode: 137, kind: 'container-error' },
      {
        name: 'the runtime wiped them: ContainerStatusUnknown 137',
        reason: 'ContainerStatusUnknown',
        exitCode: 137,
        kind: 'unknown',
      },
    ];
    for (const row of rows) {
      it(`claims it when ${row.name}, and shows the Rebooted event`, () => {
        const group = podGroup({
          kind: row.kind,
          reason: row.reason,
          exitCode: row.exitCode,
          everyContainerFailed: true,
          nodes: [{ key: 'worker-4', count: 10 }],
        });
        const finding = analyzeNode(factsWith({ groups: [group], nodes: [rebootedNode] }));
        assert.deepEqual(finding.claims, [{ groupId: group.id, confidence: 0.9 }]);
        assert.equal(
          finding.summary,
          'Nodes worker-4 rebooted without draining (power loss or reset, back at 2026-11-23T21:14:05Z): every container of their launchers ended at once',
        );
        assert.deepEqual(finding.evidence[0], {
          kind: 'Node',
          name: 'worker-4',
          reason: 'Rebooted',
          message:
            'Node worker-4 has been rebooted, boot id: 6f0e2a4c-3b1d-4e59-9a7c-2d8f1e0b5c3a (at 2026-11-23T21:14:05Z, its current boot)',
        });
        assert.match(finding.remediation[0] ?? '', /^Find why worker-4 rebooted at once/);
      });
    }

    it('does not blame a node for a crash (one container failed, the others exited 0)', () => {
      const crash = podGroup({ nodes: [{ key: 'worker-4', count: 10 }] });
      const finding = analyzeNode(factsWith({ groups: [crash], nodes: [rebootedNode] }));
      assert.deepEqual(finding.claims, []);
    });

    it('claims every container ending at once weakly when no Rebooted event is left, and says so', () => {
      const elsewhere = podGroup({ everyContainerFailed: true, nodes: [{ key: 'worker-1', count: 10 }] });
      const finding = analyzeNode(factsWith({ groups: [elsewhere], nodes: [rebootedNode] }));
      assert.deepEqual(finding.claims, [{ groupId: elsewhere.id, confidence: 0.55 }]);
      assert.match(
        finding.summary,
        /^Nodes worker-1 ended every container of their launchers at once, as a reboot/,
      );
      assert.match(finding.remediation[0] ?? '', /^Check whether worker-1 rebooted or lost power/);
    });
  });
});
