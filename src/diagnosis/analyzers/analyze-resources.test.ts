import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeResources } from './analyze-resources.js';
import { factsWith, podGroup } from './facts-fixture.js';

describe('analyzeResources', () => {
  const table = [
    {
      name: 'eviction (kubevirt #1663)',
      group: { kind: 'evicted' as const, reason: 'Evicted', resource: 'memory' },
      confidence: 0.95,
    },
    {
      name: 'OOMKilled compute',
      group: { kind: 'oom-killed' as const, reason: 'OOMKilled', exitCode: 137 },
      confidence: 0.95,
    },
    {
      name: 'UnexpectedAdmissionError for devices.kubevirt.io/kvm',
      group: {
        kind: 'admission-rejected' as const,
        reason: 'UnexpectedAdmissionError',
        resource: 'devices.kubevirt.io/kvm',
      },
      confidence: 0.95,
    },
    { name: 'preempted', group: { kind: 'preempted' as const, reason: 'Preempting' }, confidence: 0.95 },
    {
      name: 'a crash next to an OOMKilling event',
      group: { eventClasses: ['oom' as const] },
      confidence: 0.6,
    },
  ];
  for (const row of table) {
    it(`claims ${row.name} at ${row.confidence}`, () => {
      const group = podGroup(row.group);
      assert.deepEqual(analyzeResources(factsWith({ groups: [group] })).claims, [
        { groupId: group.id, confidence: row.confidence },
      ]);
    });
  }

  it('names the resource and the nodes under pressure', () => {
    const group = podGroup({
      kind: 'evicted',
      reason: 'Evicted',
      resource: 'ephemeral-storage',
      nodes: [{ key: 'worker-4', count: 10 }],
    });
    const finding = analyzeResources(factsWith({ groups: [group] }));
    assert.equal(finding.summary, 'Launchers evicted under ephemeral-storage pressure on worker-4');
    assert.match(finding.remediation[0] ?? '', /^Relieve ephemeral-storage pressure on worker-4/);
  });

  it('does not claim node shutdowns or plain crashes', () => {
    const groups = [podGroup({ kind: 'node-shutdown', reason: 'Terminated' }), podGroup()];
    assert.deepEqual(analyzeResources(factsWith({ groups })).claims, []);
  });
});
