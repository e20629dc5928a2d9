import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeApi } from '../cluster/kube-api.js';
import { applyPlan } from './apply-plan.js';
import { type ApplyContext, makePlan, type PlanStep, type StepExecutor } from './plan.js';

function planStep(id: string, action: PlanStep['action']): PlanStep {
  return { id, action, reason: { cause: 'operator', summary: id }, targets: [], count: 0, caps: {} };
}

const emptyCounts = { done: 0, skipped: 0, gone: 0, conflict: 0, failed: 0 };

function context(signal?: AbortSignal): ApplyContext {
  return {
    api: {} as KubeApi,
    journal: { append: async () => undefined },
    settled: new Set(),
    dryRun: 'none',
    ...(signal === undefined ? {} : { signal }),
    now: () => new Date(),
  };
}

describe('applyPlan', () => {
  const plan = makePlan({
    createdAt: '2026-11-29T10:00:00Z',
    scope: { namespaces: 'all' },
    steps: [planStep('cancel', 'cancel-migrations'), planStep('clean', 'clean')],
    untouched: [],
  });

  it('runs the steps in order, each with the executor of its action', async () => {
    const order: string[] = [];
    const executor: StepExecutor = async (step) => {
      order.push(step.id);
      return { step: step.id, action: step.action, counts: { ...emptyCounts, done: 1 }, failures: [] };
    };
    const outcome = await applyPlan(plan, { 'cancel-migrations': executor, clean: executor }, context());
    assert.deepEqual(order, ['cancel', 'clean']);
    assert.equal(outcome.interrupted, false);
    assert.equal(outcome.steps.length, 2);
  });

  it('starts no step after an abort and says it was interrupted', async () => {
    const controller = new AbortController();
    const order: string[] = [];
    const executor: StepExecutor = async (step) => {
      order.push(step.id);
      controller.abort();
      return { step: step.id, action: step.action, counts: emptyCounts, failures: [] };
    };
    const outcome = await applyPlan(
      plan,
      { 'cancel-migrations': executor, clean: executor },
      context(controller.signal),
    );
    assert.deepEqual(order, ['cancel']);
    assert.equal(outcome.interrupted, true);
  });

  it('refuses, before writing anything, a plan with an action it has no executor for', async () => {
    let ran = false;
    const executor: StepExecutor = async (step) => {
      ran = true;
      return { step: step.id, action: step.action, counts: emptyCounts, failures: [] };
    };
    await assert.rejects(
      applyPlan(plan, { 'cancel-migrations': executor }, context()),
      /cannot apply "clean"/,
    );
    assert.equal(ran, false);
  });
});
