import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcherOf, vm, vmim, vmiOf } from '../../test/helpers/vm-fixtures.js';
import type { Cause, CauseCategory, Diagnosis } from '../diagnosis/types.js';
import type { KubeObject } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { buildMitigationPlan, createValidateExecutor } from './mitigation-plan.js';

const NOW = new Date('2026-11-29T12:00:00Z');

/**
 * Namespace a: vmi loop-vm failed to migrate 3 times and has a migration queued (its VM has 2 Failed launchers);
 * calm-vm migrates once, successfully, and has 1 Failed launcher. Namespace b: b-vm, 4 Failed launchers.
 */
function cluster(): KubeObject[] {
  const loop = vm({ namespace: 'a', name: 'loop-vm' });
  const calm = vm({ namespace: 'a', name: 'calm-vm' });
  const other = vm({ namespace: 'b', name: 'b-vm' });
  const [loopVmi, calmVmi, otherVmi] = [vmiOf(loop), vmiOf(calm), vmiOf(other)];
  return [
    loop,
    calm,
    other,
    loopVmi,
    calmVmi,
    otherVmi,
    vmim('a', 'loop-1', 'loop-vm', 'Failed'),
    vmim('a', 'loop-2', 'loop-vm', 'Failed'),
    vmim('a', 'loop-3', 'loop-vm', 'Failed'),
    vmim('a', 'loop-4', 'loop-vm', 'Pending'),
    vmim('a', 'calm-1', 'calm-vm', 'Running'),
    vmim('a', 'calm-0', 'calm-vm', 'Succeeded'),
    launcherOf(loopVmi, 'f0abc'),
    launcherOf(loopVmi, 'f1abc'),
    launcherOf(calmVmi, 'f2abc'),
    ...['f3abc', 'f4abc', 'f5abc', 'f6abc'].map((suffix) => launcherOf(otherVmi, suffix)),
    launcherOf(otherVmi, 'r0abc', 'Running'),
  ];
}

function cause(category: CauseCategory, pods: number): Cause {
  return {
    category,
    pods,
    confidence: 0.8,
    summary: `${category} summary`,
    evidence: [],
    remediation: [`fix the ${category} cause`],
  };
}

function diagnosisWith(causes: Cause[], storm = false): Diagnosis {
  const failedLaunchers = causes.reduce((sum, entry) => sum + entry.pods, 0);
  return {
    schemaVersion: 1,
    generatedAt: NOW.toISOString(),
    source: 'api',
    threshold: 200,
    failedLaunchers,
    conditionMet: failedLaunchers >= 200,
    byNamespace: [],
    byNode: [],
    byReason: [],
    causes,
    migrations: { inFlight: 2, failed: 3, storm, topVMIs: [] },
    controlPlane: { errorBursts: [] },
    samples: [],
    gatherErrors: [],
  } as Diagnosis;
}

async function planFor(diagnosis: Diagnosis, extra: Partial<Parameters<typeof buildMitigationPlan>[0]> = {}) {
  return buildMitigationPlan({
    reader: new SnapshotReader({ objects: cluster(), logs: [] }),
    diagnosis,
    scope: { namespaces: 'all' },
    now: NOW,
    ...extra,
  });
}

describe('buildMitigationPlan', () => {
  it('with a migration cause: cancel the looping VMI in-flight migration, then clean, then validate', async () => {
    const { plan, notes } = await planFor(diagnosisWith([cause('migration', 5), cause('image', 2)]));
    assert.deepEqual(
      plan.steps.map((step) => step.action),
      ['cancel-migrations', 'clean', 'validate'],
    );
    const [cancel, clean, validate] = plan.steps;
    assert.deepEqual(
      cancel?.targets.map((target) => target.name),
      ['loop-4'],
      'only the looping VMI, and only its in-flight migration',
    );
    assert.equal(cancel?.reason.cause, 'migration');
    assert.match(cancel?.reason.summary ?? '', /migration summary/);
    assert.equal(clean?.count, 7);
    assert.equal(clean?.reason.cause, 'migration', 'clean answers the top cause');
    assert.match(clean?.reason.summary ?? '', /migration 5, image 2/);
    assert.deepEqual(validate?.targets, []);
    assert.equal(validate?.caps.windowMs, 600_000);
    assert.equal(validate?.caps.timeoutMs, 1_800_000);
    assert.deepEqual(plan.untouched, [{ cause: 'image', remediation: ['fix the image cause'] }]);
    assert.ok(notes.some((note) => /kept 3 finished migration/.test(note)));
    assert.match(plan.digest, /^sha256:[0-9a-f]{64}$/);
  });

  it('with causes no command fixes: no cancel step, every cause untouched with its remediation', async () => {
    const causes = (
      ['image', 'network', 'storage', 'control-plane', 'node', 'resources', 'unknown'] as const
    ).map((category) => cause(category, 1));
    const { plan } = await planFor(diagnosisWith(causes));
    assert.deepEqual(
      plan.steps.map((step) => step.action),
      ['clean', 'validate'],
    );
    assert.deepEqual(
      plan.untouched.map((entry) => entry.cause),
      causes.map((entry) => entry.category),
    );
    assert.equal(plan.steps[0]?.reason.cause, 'image');
  });

  it('a migration cause with nothing in flight to cancel stays untouched, and says why', async () => {
    const reader = new SnapshotReader({
      objects: cluster().filter((object) => object.metadata.name !== 'loop-4'),
      logs: [],
    });
    const { plan, notes } = await buildMitigationPlan({
      reader,
      diagnosis: diagnosisWith([cause('migration', 5)]),
      scope: { namespaces: 'all' },
      now: NOW,
    });
    assert.deepEqual(
      plan.steps.map((step) => step.action),
      ['clean', 'validate'],
    );
    assert.deepEqual(
      plan.untouched.map((entry) => entry.cause),
      ['migration'],
    );
    assert.ok(notes.some((note) => /none of the 1 looping VMI\(s\) has a migration in flight/.test(note)));
  });

  it('pauses only with pauseMinFailed, before clean, the VMs with that many Failed launchers', async () => {
    const without = await planFor(diagnosisWith([cause('image', 7)]));
    assert.ok(without.plan.steps.every((step) => step.action !== 'pause'));
    const { plan } = await planFor(diagnosisWith([cause('image', 7)]), { pauseMinFailed: 2 });
    assert.deepEqual(
      plan.steps.map((step) => step.action),
      ['pause', 'clean', 'validate'],
    );
    assert.deepEqual(plan.steps[0]?.targets.map((target) => `${target.namespace}/${target.name}`).sort(), [
      'a/loop-vm',
      'b/b-vm',
    ]);
    assert.equal(plan.steps[0]?.reason.cause, 'image');
    assert.equal(plan.steps[0]?.caps.minFailed, 2);
  });

  it('scopes every step to the namespace, and clean keeps the newest per VMI when asked', async () => {
    const { plan } = await planFor(diagnosisWith([cause('migration', 3)]), {
      scope: { namespaces: ['b'] },
      keepPerVmi: 1,
      windowMs: 10_000,
    });
    assert.deepEqual(
      plan.steps.map((step) => step.action),
      ['clean', 'validate'],
      'the loop is in namespace a',
    );
    const clean = plan.steps[0];
    assert.equal(clean?.count, 3);
    assert.ok(clean?.targets.every((target) => target.namespace === 'b'));
    assert.equal(clean?.caps.keepPerVmi, 1);
    assert.deepEqual(plan.steps[1]?.caps, {
      threshold: 200,
      windowMs: 10_000,
      timeoutMs: 30_000,
      namespace: 'b',
    });
    assert.deepEqual(plan.scope, { namespaces: ['b'] });
  });

  it('gives the same digest when re-planned on an unchanged cluster, and a new one when the targets change', async () => {
    const diagnosis = diagnosisWith([cause('migration', 5)]);
    const first = await planFor(diagnosis);
    const again = await planFor(diagnosis, { now: new Date(NOW.getTime() + 60_000) });
    assert.equal(again.plan.digest, first.plan.digest);
    const kept = await planFor(diagnosis, { keepPerVmi: 1 });
    assert.notEqual(kept.plan.digest, first.plan.digest);
  });
});

describe('the validate step executor', () => {
  it('skips under a server dry run: nothing was deleted, so there is nothing to wait for', async () => {
    const { plan } = await planFor(diagnosisWith([cause('image', 7)]));
    const step = plan.steps.find((entry) => entry.action === 'validate');
    assert.ok(step);
    const outcome = await createValidateExecutor()(step, {
      api: {} as never,
      journal: { append: async () => assert.fail('nothing is journalled') },
      settled: new Set(),
      dryRun: 'server',
      now: () => NOW,
    });
    assert.deepEqual(outcome.counts, { done: 0, skipped: 1, gone: 0, conflict: 0, failed: 0 });
  });
});
