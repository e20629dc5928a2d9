import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { StuckfailedError } from '../errors.js';
import { forEachTarget } from './for-each-target.js';
import {
  type ApplyContext,
  type JournalEntry,
  type PlanStep,
  type PlanTarget,
  type StepProgress,
  targetKey,
} from './plan.js';

function step(count: number): PlanStep {
  const targets: PlanTarget[] = Array.from({ length: count }, (_, index) => ({
    kind: 'Pod',
    namespace: `ns${index % 3}`,
    name: `virt-launcher-vm${index}-abcde`,
    uid: `uid-${index}`,
  }));
  return {
    id: 'clean',
    action: 'clean',
    reason: { cause: 'operator', summary: 'test' },
    targets,
    count,
    caps: {},
  };
}

function context(overrides: Partial<ApplyContext> = {}) {
  const entries: JournalEntry[] = [];
  const progress: StepProgress[] = [];
  const value: ApplyContext = {
    // Only inFlightLimit() is read, when no concurrency is given.
    api: { inFlightLimit: () => ({ limit: 3, max: 3 }) } as unknown as KubeApi,
    journal: { append: async (entry) => void entries.push(entry) },
    settled: new Set(),
    dryRun: 'none',
    onProgress: (update) => progress.push(update),
    now: () => new Date('2026-11-29T10:00:00Z'),
    ...overrides,
  };
  return { value, entries, progress };
}

function apiError(code: number): ApiError {
  return new ApiError({
    method: 'DELETE',
    url: 'http://x',
    server: 'the API server at http://x',
    status: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code,
      message: `code ${code}`,
    },
    attempts: 1,
  });
}

describe('forEachTarget', () => {
  it('writes every target once, journals each outcome, within the in-flight cap', async () => {
    const { value, entries, progress } = context();
    let running = 0;
    let peak = 0;
    const written: string[] = [];
    const outcome = await forEachTarget(step(10), value, async (target) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      running -= 1;
      written.push(target.name);
      return { outcome: 'done' };
    });
    assert.equal(written.length, 10);
    assert.equal(new Set(written).size, 10);
    assert.equal(peak, 3);
    assert.equal(outcome.counts.done, 10);
    assert.equal(entries.length, 10);
    assert.deepEqual(progress.at(-1), { step: 'clean', action: 'clean', settled: 10, total: 10 });
  });

  it('maps 404 to gone, 409 to conflict, other errors to failed, each listed', async () => {
    const { value, entries } = context();
    const outcome = await forEachTarget(step(3), value, async (target) => {
      if (target.uid === 'uid-0') throw apiError(404);
      if (target.uid === 'uid-1') throw apiError(409);
      throw new Error('disk on fire');
    });
    assert.equal(outcome.counts.gone, 1);
    assert.equal(outcome.counts.conflict, 1);
    assert.equal(outcome.counts.failed, 1);
    assert.deepEqual(outcome.failures.map((entry) => entry.outcome).sort(), ['conflict', 'failed']);
    assert.equal(entries.length, 3);
  });

  it('skips what an earlier run settled and counts it apart, without journaling it again', async () => {
    const planned = step(4);
    const settled = new Set([targetKey('clean', planned.targets[1] as PlanTarget)]);
    const { value, entries } = context({ settled });
    const written: string[] = [];
    const outcome = await forEachTarget(planned, value, async (target) => {
      written.push(target.uid);
      return { outcome: 'done' };
    });
    assert.equal(outcome.alreadyDone, 1);
    assert.equal(outcome.counts.done, 3);
    assert.ok(!written.includes('uid-1'));
    assert.equal(entries.length, 3);
  });

  it('on abort lets the writes in flight finish and starts no new one', async () => {
    const controller = new AbortController();
    const { value, entries } = context({ signal: controller.signal });
    let started = 0;
    const outcome = await forEachTarget(step(20), value, async () => {
      started += 1;
      if (started === 2) controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { outcome: 'done' };
    });
    // Three workers: the two started before the abort and the one already running when it came.
    assert.ok(started <= 3, `started ${started}`);
    assert.equal(outcome.counts.done, started, 'every write started is journaled');
    assert.equal(entries.length, started);
  });

  it('stops at the first forbidden write and throws it, after journaling the ones in flight', async () => {
    const { value, entries } = context();
    await assert.rejects(
      forEachTarget(step(30), value, async (target) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (target.uid === 'uid-4') throw new StuckfailedError('FORBIDDEN', 'no delete for you');
        return { outcome: 'done' };
      }),
      /no delete for you/,
    );
    assert.ok(entries.length < 30);
    assert.ok(entries.some((entry) => entry.outcome === 'failed' && entry.uid === 'uid-4'));
  });
});
