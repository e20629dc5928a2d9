import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram } from '../../cli/main.js';
import { memoryIo } from '../../cli/memory-io.js';
import type { FailureKind } from '../../launcher/failure-signature.js';
import { ANALYZERS } from './analyzer-registry.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import { eventGroup, factsWith, podGroup } from './facts-fixture.js';

describe('cleanupRemediation', () => {
  it('says to write the bundle first and names the namespaces, largest first', () => {
    const groups = [
      podGroup({ namespaces: [{ key: 'web-vms', count: 3 }] }),
      podGroup({
        namespaces: [
          { key: 'db-vms', count: 9 },
          { key: 'web-vms', count: 2 },
        ],
      }),
    ];
    assert.equal(
      cleanupRemediation(groups, 'Once fixed'),
      'Once fixed, write the support bundle first (stuckfailed diagnose --bundle incident.tar.gz: deleting destroys ' +
        'the evidence), then delete the Failed launchers in db-vms and web-vms: stuckfailed clean -n NAMESPACE ' +
        '--yes in each, or -A for all of them (each pod is archived with its events before its delete).',
    );
  });

  it('says "and N more" beyond three namespaces', () => {
    const namespaces = ['a', 'b', 'c', 'd', 'e'].map((key, index) => ({ key, count: 10 - index }));
    assert.match(
      cleanupRemediation([podGroup({ namespaces })], 'Then'),
      / in a, b, c and 2 more: stuckfailed clean/,
    );
  });
});

describe('remediation commands', () => {
  it('name only stuckfailed commands that are registered', async () => {
    const registered = new Set(
      (await buildProgram({ io: memoryIo().io, setExitCode: () => {} })).commands.map((c) => c.name()),
    );
    // Facts that make every analyzer speak: each kind of group and event, a migration storm, an upgrade.
    const kinds: FailureKind[] = [
      'image',
      'evicted',
      'oom-killed',
      'admission-rejected',
      'preempted',
      'node-shutdown',
      'node-affinity',
    ];
    const facts = factsWith({
      groups: [
        ...kinds.map((kind) => podGroup({ kind })),
        podGroup({ migrationTarget: true, count: 30 }),
        podGroup({ eventClasses: ['sandbox-network', 'volume'], nodeReady: 'False' }),
      ],
      events: [
        eventGroup({ eventClass: 'image-pull', reason: 'Failed' }),
        eventGroup({ eventClass: 'sandbox-network', reason: 'FailedCreatePodSandBox' }),
        eventGroup({ eventClass: 'eviction', reason: 'Evicted' }),
      ],
    });
    const suggested = Object.values(ANALYZERS).flatMap((analyze) => analyze(facts).remediation);
    // image, network, resources and node end with the clean-up step; control-plane and unknown ask for the bundle
    // for a support case.
    assert.equal(
      suggested.filter((step) => step.includes('stuckfailed diagnose --bundle incident.tar.gz')).length,
      6,
    );
    for (const step of suggested) {
      for (const [, command] of step.matchAll(/\bstuckfailed ([a-z-]+)/g)) {
        assert.ok(registered.has(command ?? ''), `"stuckfailed ${command}" is not a command, in: ${step}`);
      }
    }
  });
});
