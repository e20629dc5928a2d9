import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeControlPlane } from './analyze-control-plane.js';
import type { ControlPlaneFacts } from './facts.js';
import { factsWith, podGroup } from './facts-fixture.js';

const UPGRADING: ControlPlaneFacts = {
  namespace: 'kubevirt',
  name: 'kubevirt',
  observedVersion: 'v1.5.2',
  targetVersion: 'v1.6.2',
  upgrading: true,
  errorBursts: [
    {
      component: 'virt-handler',
      level: 'error',
      shape: 'Synchronizing the VirtualMachineInstance failed.: <reason>',
      count: 40,
      example:
        'Synchronizing the VirtualMachineInstance failed.: unable to create virt-launcher client connection: Found multiple sockets for vmi finance-vms/rhel9-db',
    },
  ],
};

describe('analyzeControlPlane', () => {
  it('claims launcher crashes during an upgrade and names the version to roll back from', () => {
    const crashes = podGroup({
      kind: 'container-error',
      launcherImage: 'quay.io/kubevirt/virt-launcher:v1.6.2',
    });
    const finding = analyzeControlPlane(factsWith({ groups: [crashes], controlPlane: UPGRADING }));
    assert.deepEqual(finding.claims, [{ groupId: crashes.id, confidence: 0.75 }]);
    assert.match(
      finding.summary,
      /^KubeVirt upgrade v1\.5\.2 -> v1\.6\.2 in flight; virt-handler logging error bursts$/,
    );
    assert.match(finding.remediation[0] ?? '', /roll back from v1\.6\.2 to v1\.5\.2/);
    assert.deepEqual(finding.evidence[0], {
      kind: 'KubeVirt',
      namespace: 'kubevirt',
      name: 'kubevirt',
      reason: 'UpgradeInProgress',
      message: 'observed v1.5.2, target v1.6.2',
    });
  });

  it('claims nothing when KubeVirt is settled and its logs are quiet', () => {
    assert.deepEqual(analyzeControlPlane(factsWith({ groups: [podGroup()] })).claims, []);
  });

  it('leaves infrastructure failures and migration targets to their analyzers', () => {
    const groups = [
      podGroup({ eventClasses: ['image-pull'] }),
      podGroup({ migrationTarget: true }),
      podGroup({ kind: 'evicted', reason: 'Evicted' }),
    ];
    assert.deepEqual(analyzeControlPlane(factsWith({ groups, controlPlane: UPGRADING })).claims, []);
  });
});
