import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeNetwork } from './analyze-network.js';
import { eventGroup, factsWith, podGroup } from './facts-fixture.js';

// multus-cni issue #1361: a virt-launcher pod whose sandbox network could not be set up.
const SANDBOX =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "2abdfc9c59747f33d233f9e46e5c7423f4cf4973f295198e67de801199ebc528": plugin type="multus-shim" name="multus-cni-network" failed (add): CmdAdd (shim): CNI request failed with status 400';

describe('analyzeNetwork', () => {
  it('claims pods with FailedCreatePodSandBox events and names the CNI plugin and the nodes', () => {
    const group = podGroup({
      eventClasses: ['sandbox-network'],
      nodes: [
        { key: 'worker-2', count: 7 },
        { key: 'worker-5', count: 3 },
      ],
    });
    const event = eventGroup({
      eventClass: 'sandbox-network',
      reason: 'FailedCreatePodSandBox',
      example: {
        kind: 'Pod',
        namespace: 'finance-vms',
        name: 'virt-launcher-vm-abcde',
        reason: 'FailedCreatePodSandBox',
        message: SANDBOX,
      },
    });
    const finding = analyzeNetwork(factsWith({ groups: [group], events: [event] }));
    assert.deepEqual(finding.claims, [{ groupId: group.id, confidence: 0.85 }]);
    assert.match(finding.summary, /CNI plugin multus-shim on worker-2 and worker-5/);
    assert.equal(finding.evidence[0]?.reason, 'FailedCreatePodSandBox');
  });

  it('claims a pod whose own message is a sandbox failure', () => {
    const group = podGroup({ message: SANDBOX });
    assert.equal(analyzeNetwork(factsWith({ groups: [group] })).claims[0]?.confidence, 0.8);
  });

  it('ignores image and volume failures', () => {
    const groups = [podGroup({ eventClasses: ['image-pull'] }), podGroup({ eventClasses: ['volume'] })];
    assert.deepEqual(analyzeNetwork(factsWith({ groups })).claims, []);
  });
});
