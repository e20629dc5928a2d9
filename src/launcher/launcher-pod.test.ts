import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../kube/types.js';
import {
  isFailedLauncher,
  isVirtLauncher,
  launcherImage,
  launcherNode,
  launcherVmi,
  migrationJobUid,
  migrationRole,
} from './launcher-pod.js';

function pod(overrides: { name?: string; labels?: Record<string, string>; phase?: Pod['status'] } = {}): Pod {
  return {
    metadata: {
      name: overrides.name ?? 'virt-launcher-rhel9-db-7x2kq',
      namespace: 'finance-vms',
      labels: overrides.labels ?? { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/nodeName': 'worker-3' },
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          name: 'rhel9-db',
          uid: '5b0a6c1e-8e3f-4a43-9a57-1e7f5f4f2a10',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [{ name: 'compute', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' }],
    },
    status: overrides.phase ?? { phase: 'Failed' },
  };
}

describe('isVirtLauncher / isFailedLauncher (DESIGN §4: label AND name prefix)', () => {
  const table: Array<{ name: string; pod: Pod; launcher: boolean; failed: boolean }> = [
    { name: 'a Failed launcher counts', pod: pod(), launcher: true, failed: true },
    {
      name: 'a Running launcher is a launcher but not Failed',
      pod: pod({ phase: { phase: 'Running' } }),
      launcher: true,
      failed: false,
    },
    {
      name: 'a pod merely named like a launcher does not count',
      pod: pod({ labels: { app: 'impostor' } }),
      launcher: false,
      failed: false,
    },
    {
      name: 'a labelled pod without the name prefix does not count (e.g. hp-volume pods)',
      pod: pod({ name: 'hp-volume-abcde' }),
      launcher: false,
      failed: false,
    },
    {
      name: 'the label value must be virt-launcher',
      pod: pod({ labels: { 'kubevirt.io': 'virt-handler' } }),
      launcher: false,
      failed: false,
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      assert.equal(isVirtLauncher(row.pod), row.launcher);
      assert.equal(isFailedLauncher(row.pod), row.failed);
    });
  }
});

describe('launcher facts', () => {
  it('finds the VMI from the controller ownerReference', () => {
    assert.deepEqual(launcherVmi(pod()), {
      namespace: 'finance-vms',
      name: 'rhel9-db',
      uid: '5b0a6c1e-8e3f-4a43-9a57-1e7f5f4f2a10',
    });
  });

  it('falls back to the kubevirt.io/domain annotation when the ownerReference is gone', () => {
    const stripped = pod();
    stripped.metadata.ownerReferences = [];
    stripped.metadata.annotations = { 'kubevirt.io/domain': 'rhel9-db' };
    assert.deepEqual(launcherVmi(stripped), { namespace: 'finance-vms', name: 'rhel9-db' });
  });

  it('tells migration targets by the migrationJobUID label', () => {
    const target = pod({
      labels: {
        'kubevirt.io': 'virt-launcher',
        'kubevirt.io/migrationJobUID': '0e3c9a77-2b1d-4c52-a0a4-0c2f25b5e6d1',
      },
    });
    assert.equal(migrationRole(target), 'target');
    assert.equal(migrationJobUid(target), '0e3c9a77-2b1d-4c52-a0a4-0c2f25b5e6d1');
    assert.equal(migrationRole(pod()), 'none');
  });

  it('takes the node from spec.nodeName, else the kubevirt.io/nodeName label', () => {
    const bound = pod();
    bound.spec.nodeName = 'worker-1';
    assert.equal(launcherNode(bound), 'worker-1');
    assert.equal(launcherNode(pod()), 'worker-3');
    assert.equal(launcherNode(pod({ labels: { 'kubevirt.io': 'virt-launcher' } })), undefined);
  });

  it('reads the virt-launcher image of the compute container', () => {
    assert.equal(launcherImage(pod()), 'quay.io/kubevirt/virt-launcher:v1.6.2');
  });
});
