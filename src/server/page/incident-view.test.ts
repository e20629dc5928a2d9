import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { incidentFixture } from '../../../test/helpers/incident-fixture.js';
import type { JournalEntry, PlanTarget } from '../../mitigation/plan.js';
import {
  canApprove,
  failedLaunchersNow,
  isPlanApproved,
  outcomeCounts,
  recentActions,
  stepProgressOf,
  targetsByNamespace,
} from './incident-view.js';

function entry(fields: Partial<JournalEntry>): JournalEntry {
  return {
    time: '2026-11-23T22:00:00.000Z',
    step: 'clean',
    action: 'clean',
    kind: 'Pod',
    namespace: 'vm-prod',
    name: 'virt-launcher-a-abcde',
    uid: 'uid-a',
    outcome: 'done',
    ...fields,
  };
}

describe('failedLaunchersNow', () => {
  it('subtracts the launchers cleaned (done or gone) since the diagnosis, and nothing else', () => {
    const incident = incidentFixture({
      actions: [
        entry({ name: 'a', outcome: 'done' }),
        entry({ name: 'b', outcome: 'gone' }),
        entry({ name: 'c', outcome: 'failed' }),
        entry({ name: 'd', outcome: 'conflict' }),
        entry({ name: 'e', outcome: 'skipped' }),
        entry({
          step: 'cancel-migrations',
          action: 'cancel-migrations',
          kind: 'VirtualMachineInstanceMigration',
        }),
        // Before the diagnosis (2026-11-23T21:47:12Z): its count already misses this pod.
        entry({ name: 'f', time: '2026-11-23T21:40:00.000Z' }),
      ],
    });
    assert.deepEqual(failedLaunchersNow(incident), { atDiagnosis: 412, removed: 2, now: 410 });
  });

  it('never goes below zero, and is undefined before the diagnosis', () => {
    const many = incidentFixture({
      actions: Array.from({ length: 500 }, (_, index) => entry({ name: `p${index}` })),
    });
    assert.equal(failedLaunchersNow(many)?.now, 0);
    const diagnosing = incidentFixture();
    delete diagnosing.diagnosis;
    assert.equal(failedLaunchersNow(diagnosing), undefined);
  });
});

describe('stepProgressOf', () => {
  it("prefers the service's live progress", () => {
    const incident = incidentFixture({
      progress: { clean: { step: 'clean', action: 'clean', settled: 40, total: 412 } },
      actions: [entry({})],
    });
    const clean = incident.plan?.steps[1];
    assert.ok(clean);
    assert.deepEqual(stepProgressOf(incident, clean), {
      step: 'clean',
      action: 'clean',
      settled: 40,
      total: 412,
    });
  });

  it('else counts distinct targets settled in the journal: a retried target once', () => {
    const incident = incidentFixture({
      actions: [
        entry({ name: 'a', uid: 'ua', outcome: 'failed' }),
        entry({ name: 'a', uid: 'ua', outcome: 'done' }),
        entry({ name: 'b', uid: 'ub', outcome: 'gone' }),
        entry({ step: 'cancel-migrations', action: 'cancel-migrations', name: 'm', uid: 'um' }),
      ],
    });
    const [cancel, clean] = incident.plan?.steps ?? [];
    assert.ok(cancel && clean);
    assert.equal(stepProgressOf(incident, clean).settled, 2);
    assert.equal(stepProgressOf(incident, cancel).settled, 1);
    assert.equal(stepProgressOf(incident, clean).total, 412);
  });
});

describe('outcomeCounts', () => {
  it('counts the entries of one step by outcome, every outcome present', () => {
    const actions = [entry({ outcome: 'done' }), entry({ outcome: 'done' }), entry({ outcome: 'conflict' })];
    actions.push(entry({ step: 'other', outcome: 'failed' }));
    assert.deepEqual(outcomeCounts(actions, 'clean'), {
      done: 2,
      skipped: 0,
      gone: 0,
      conflict: 1,
      failed: 0,
    });
  });
});

describe('targetsByNamespace', () => {
  const target = fc.record({
    kind: fc.constant('Pod'),
    namespace: fc.constantFrom('', 'a', 'b', 'c', 'd', 'e', 'f', 'g'),
    name: fc.string(),
    uid: fc.string(),
  });

  it('keeps every target: top plus others is the whole, largest first, at most `limit` named', () => {
    fc.assert(
      fc.property(fc.array(target, { maxLength: 200 }), fc.integer({ min: 0, max: 10 }), (targets, limit) => {
        const summary = targetsByNamespace(targets as PlanTarget[], limit);
        const named = summary.top.reduce((sum, entry) => sum + entry.count, 0);
        assert.equal(named + summary.otherTargets, targets.length);
        assert.ok(summary.top.length <= limit);
        assert.equal(
          summary.top.length + summary.otherNamespaces,
          new Set(targets.map((t) => t.namespace)).size,
        );
        for (let index = 1; index < summary.top.length; index++) {
          assert.ok((summary.top[index - 1]?.count ?? 0) >= (summary.top[index]?.count ?? 0));
        }
      }),
    );
  });
});

describe('approval state', () => {
  it('a plan is approved only by an approval of its own digest; only open incidents take one', () => {
    const incident = incidentFixture();
    assert.equal(isPlanApproved(incident), false);
    assert.equal(canApprove(incident), true);
    incident.approvals.push({
      digest: 'sha256:other',
      by: 'bob',
      at: '2026-11-23T21:50:00Z',
      mode: 'manual',
    });
    assert.equal(canApprove(incident), true);
    incident.approvals.push({
      digest: incident.plan?.digest ?? '',
      by: 'al',
      at: '2026-11-23T21:51:00Z',
      mode: 'manual',
    });
    assert.equal(isPlanApproved(incident), true);
    assert.equal(canApprove(incident), false);
    for (const status of ['acting', 'validating', 'closed'] as const) {
      assert.equal(canApprove(incidentFixture({ status })), false, status);
    }
  });
});

describe('recentActions', () => {
  it('returns the newest entries, newest first, without changing the journal', () => {
    const actions = ['a', 'b', 'c', 'd'].map((name) => entry({ name }));
    assert.deepEqual(
      recentActions(actions, 3).map((action) => action.name),
      ['d', 'c', 'b'],
    );
    assert.deepEqual(
      actions.map((action) => action.name),
      ['a', 'b', 'c', 'd'],
    );
  });
});
