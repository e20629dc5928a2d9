import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeImage, registryOf } from './analyze-image.js';
import { eventGroup, factsWith, podGroup } from './facts-fixture.js';

const UNAUTHORIZED =
  'Failed to pull image "quay.io/containerdisks/fedora:41": rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized';

describe('analyzeImage', () => {
  it('claims pods whose container waits on ErrImagePull, and names the image and registry', () => {
    const pulled = podGroup({
      kind: 'image',
      reason: 'ErrImagePull',
      container: 'volumecontainerdisk-init',
      initContainer: true,
      image: 'quay.io/containerdisks/fedora:41',
      message:
        'rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized',
    });
    const finding = analyzeImage(factsWith({ groups: [pulled] }));
    assert.deepEqual(finding.claims, [{ groupId: pulled.id, confidence: 0.95 }]);
    assert.match(
      finding.summary,
      /quay\.io\/containerdisks\/fedora:41: the registry refuses the credentials/,
    );
    assert.match(finding.remediation.join('\n'), /pull secret for quay\.io/);
  });

  it('claims pods with Failed-to-pull Warning events, and quotes the event', () => {
    const crashed = podGroup({ eventClasses: ['image-pull'] });
    const event = eventGroup({
      eventClass: 'image-pull',
      reason: 'Failed',
      example: {
        kind: 'Pod',
        namespace: 'finance-vms',
        name: 'virt-launcher-vm-abcde',
        reason: 'Failed',
        message: UNAUTHORIZED,
      },
    });
    const finding = analyzeImage(factsWith({ groups: [crashed], events: [event] }));
    assert.deepEqual(finding.claims, [{ groupId: crashed.id, confidence: 0.85 }]);
    assert.equal(finding.evidence[0]?.message, UNAUTHORIZED);
  });

  it('does not claim pods without any image signature (evicted, network events)', () => {
    const evicted = podGroup({ kind: 'evicted', reason: 'Evicted' });
    const sandbox = podGroup({ eventClasses: ['sandbox-network'] });
    assert.deepEqual(analyzeImage(factsWith({ groups: [evicted, sandbox] })).claims, []);
  });

  it('names the registry of an image reference', () => {
    assert.equal(registryOf('quay.io/containerdisks/fedora:41'), 'quay.io');
    assert.equal(registryOf('registry.local:5000/vm/disk'), 'registry.local:5000');
    assert.equal(registryOf('kubevirt/cirros-container-disk-demo:latest'), 'docker.io');
    assert.equal(registryOf('busybox'), 'docker.io');
  });
});
