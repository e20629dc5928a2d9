import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeCauses } from './attribute-causes.js';
import { factsWith, podGroup } from './facts-fixture.js';

describe('attributeCauses', () => {
  it('gives each pod to one cause, ranks by pods, and the shares add up to failedLaunchers', () => {
    const groups = [
      podGroup({ count: 30, eventClasses: ['image-pull'] }),
      podGroup({ count: 20, kind: 'evicted', reason: 'Evicted', resource: 'memory' }),
      podGroup({ count: 8, migrationTarget: true }),
      // An evicted migration target: eviction (0.95) beats the migration role (0.8).
      podGroup({ count: 2, kind: 'evicted', reason: 'Evicted', migrationTarget: true }),
      podGroup({ count: 5 }),
    ];
    const facts = factsWith({ groups });
    const { causes, categoryOfGroup } = attributeCauses(facts);
    assert.deepEqual(
      causes.map((cause) => [cause.category, cause.pods]),
      [
        ['image', 30],
        ['resources', 22],
        ['migration', 8],
        ['unknown', 5],
      ],
    );
    assert.equal(
      causes.reduce((sum, cause) => sum + cause.pods, 0),
      facts.failedLaunchers,
    );
    assert.equal(categoryOfGroup.get(groups[3]?.id ?? -1), 'resources');
    const unknown = causes.find((cause) => cause.category === 'unknown');
    assert.equal(unknown?.confidence, 0.05);
    // Unknown shows only the pods it was left with.
    assert.deepEqual(
      unknown?.evidence.map((row) => row.name),
      groups[4]?.examples.map((example) => example.name),
    );
  });

  it('finds no cause when nothing failed', () => {
    assert.deepEqual(attributeCauses(factsWith()).causes, []);
  });
});
