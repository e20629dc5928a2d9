import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeStorage } from './analyze-storage.js';
import { eventGroup, factsWith, podGroup } from './facts-fixture.js';

const MULTI_ATTACH =
  'Multi-Attach error for volume "pvc-3f1e2d4c-8a9b-4c1d-9e0f-123456789abc" Volume is already exclusively attached to one node and can\'t be attached to another';
const MOUNT_TIMEOUT =
  'Unable to attach or mount volumes: unmounted volumes=[rootdisk], unattached volumes=[rootdisk private public]: timed out waiting for the condition';

describe('analyzeStorage', () => {
  it('claims pods with FailedAttachVolume / FailedMount events and names the PVC', () => {
    const group = podGroup({ eventClasses: ['volume'] });
    const events = [
      eventGroup({
        eventClass: 'volume',
        reason: 'FailedAttachVolume',
        example: {
          kind: 'Pod',
          namespace: 'finance-vms',
          name: 'virt-launcher-vm-abcde',
          reason: 'FailedAttachVolume',
          message: MULTI_ATTACH,
        },
      }),
      eventGroup({
        eventClass: 'volume',
        reason: 'FailedMount',
        example: {
          kind: 'Pod',
          namespace: 'finance-vms',
          name: 'virt-launcher-vm-fghij',
          reason: 'FailedMount',
          message: MOUNT_TIMEOUT,
        },
      }),
    ];
    const finding = analyzeStorage(factsWith({ groups: [group], events }));
    assert.deepEqual(finding.claims, [{ groupId: group.id, confidence: 0.85 }]);
    assert.match(finding.summary, /pvc-3f1e2d4c-8a9b-4c1d-9e0f-123456789abc/);
    assert.deepEqual(
      finding.evidence.map((row) => row.reason),
      ['FailedAttachVolume', 'FailedMount', 'Error'],
    );
  });

  it('does not take an eviction for ephemeral-storage as a volume failure', () => {
    const evicted = podGroup({
      kind: 'evicted',
      reason: 'Evicted',
      message: 'The node was low on resource: ephemeral-storage. ',
    });
    assert.deepEqual(analyzeStorage(factsWith({ groups: [evicted] })).claims, []);
  });
});
